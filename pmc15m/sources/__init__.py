"""Where article versions come from: ``base.Source`` (the interface), ``errors`` (why a read
fails), ``open.open_source`` (the source a ``--source`` string names) and the concrete
sources. Nothing is re-exported here: importing one submodule loads only what it needs.
"""
