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

import pyarrow.parquet as pq

from pmc15m.index import TOMBSTONES_DIR

log = logging.getLogger(__name__)


def _shard_id(shard: str) -> tuple[str, str]:
    """``out/train/00003.tar`` -> (``out``, ``train/00003``), the form tombstones use."""
    folder, name = os.path.split(shard)
    output, split = os.path.split(folder)
    return output, f"{split}/{name.rsplit('.', 1)[0]}"


def _read_output_tombstones(output: str) -> list[tuple[str, str]]:
    """(shard, key) of every tombstone under ``output``; none for a build never updated."""
    directory = os.path.join(output, TOMBSTONES_DIR)
    if not os.path.isdir(directory):
        return []
    rows: list[tuple[str, str]] = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".parquet") and not name.startswith("."):
            table = pq.read_table(os.path.join(directory, name), columns=["shard", "key"])
            rows += zip(table.column("shard").to_pylist(), table.column("key").to_pylist(), strict=True)
    return rows


def retired_keys(shards: Sequence[str]) -> dict[str, frozenset[str]]:
    """Shard path (as given) -> the keys tombstoned in it, for the shards that have any."""
    by_output: dict[str, dict[str, str]] = {}  # output -> {"train/00003": shard path}
    for shard in shards:
        output, shard_id = _shard_id(shard)
        by_output.setdefault(output, {})[shard_id] = shard
    retired: dict[str, set[str]] = {}
    for output, paths in by_output.items():
        for shard_id, key in _read_output_tombstones(output):
            if shard_id in paths:
                retired.setdefault(paths[shard_id], set()).add(key)
    if retired:
        total = sum(len(keys) for keys in retired.values())
        log.info("%d tombstoned samples in %d shards are left out (tombstones/)", total, len(retired))
    return {shard: frozenset(keys) for shard, keys in retired.items()}
