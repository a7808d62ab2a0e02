"""Which samples of the shards an update retired, so training never sees them.

An update never rewrites released shards: a sample of a retracted, superseded or changed
article version is listed in ``<output>/tombstones/<build_id>.parquet`` by key *and*
shard (a changed version's new samples reuse the keys, in new shards; ``pmc15m.index``).
The live dataset is the shards minus every tombstone, so the loader drops a tombstoned
sample right after its tar is read and counts the epoch without it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from pmc15m.index import read_tombstones

log = logging.getLogger(__name__)


def _shard_id(shard: str) -> tuple[str, str]:
    """``out/train/00003.tar`` -> (``out``, ``train/00003``), the form tombstones use."""
    folder, name = os.path.split(shard)
    output, split = os.path.split(folder)
    return output, f"{split}/{name.rsplit('.', 1)[0]}"


def retired_keys(shards: Sequence[str]) -> dict[str, frozenset[str]]:
    """Shard path (as given) -> the keys tombstoned in it, for the shards that have any."""
    by_output: dict[str, dict[str, str]] = {}  # output -> {"train/00003": shard path}
    for shard in shards:
        output, shard_id = _shard_id(shard)
        by_output.setdefault(output, {})[shard_id] = shard
    retired: dict[str, set[str]] = {}
    for output, paths in by_output.items():
        for tombstone in read_tombstones(output):  # none for a build never updated
            if tombstone["shard"] in paths:
                retired.setdefault(paths[tombstone["shard"]], set()).add(tombstone["key"])
    if retired:
        total = sum(len(keys) for keys in retired.values())
        log.info("%d tombstoned samples in %d shards are left out (tombstones/)", total, len(retired))
    return {shard: frozenset(keys) for shard, keys in retired.items()}
