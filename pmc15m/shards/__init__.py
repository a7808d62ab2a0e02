"""The output of a build on disk: ``format`` (the only place that spells shard file names,
``sizes.json``, ``rejects/``, ``tombstones/``, ``index/``, member kinds and what a key may hold;
split names come from ``rules.splits``, which assigns them),
``writers`` (deterministic shard trios and reject files), ``schema`` (the declared Arrow
schemas), ``manifest``, ``index`` (what a build considered and kept), ``plan`` and ``update``
(incremental refresh), ``compact`` (an update's copy-on-write rewrite) and ``inspect``.

May import: ``core``, ``storage``, ``rules``.
"""
