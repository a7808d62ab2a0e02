"""Where article versions come from: ``base.Source`` (the interface), ``errors`` (why a read
fails), ``open.open_source`` (the source a ``--source`` string names), ``inventory`` (the
bucket's daily listing), ``metadata`` (the per-article JSON and the article gate), ``retry``
(backoff and budgets) and the concrete sources. Nothing is re-exported here: importing one
submodule loads only what it needs.

May import: ``core``, ``storage``; ``legacy`` also reads a package's JATS for its title.
"""
