"""Which samples are kept, and where they go: ``filters`` (keep, or drop with a reason: the
image and caption rules), ``dedup`` (exact and near duplicates) with ``nearsearch`` (Hamming
search by bands), ``splits`` (split and shard by stable hashes) and ``selection``
(which articles a build is asked for).

May import: ``core``, ``storage``.
"""
