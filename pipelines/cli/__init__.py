"""The ``pmc15m`` command: ``main`` (one parser, subcommands registered by their modules),
``build`` (+ ``build_options``: its options and the config they make; ``sources``: how
remote sources are read), ``inspect``, ``report``, ``publish``.
"""
