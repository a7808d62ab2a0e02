"""Copy-on-write compaction: a released shard rewritten without the samples an update retired.

After ``pmc15m build --update`` every reader must see exactly the live dataset, and most
readers know nothing of ``tombstones/``: ``webdataset`` over a brace pattern, open_clip
summing ``sizes.json``, ``datasets`` and ``pyarrow`` over the folder. So the update
rewrites each released shard that holds a retired sample (a retracted, superseded or
changed article version): the same members and rows minus the retired keys, written with
the shard writer's fixed settings under a temporary name and renamed over the old file
(on an object store: one upload under the final key). Only those shards are rewritten, so
an update costs what it retires, not the size of the dataset.

Rewriting is a pure function of the released files and the retired keys: a second pass
over an already rewritten shard writes the same bytes, which is what makes an interrupted
update resumable (it runs again from its plan). A shard whose every sample was retired
stays as an empty trio, so shard numbers stay contiguous and brace patterns keep matching.
"""

from __future__ import annotations

import io
import logging
import tarfile
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pmc15m.shards import format as fmt
from pmc15m.shards.schema import sample_schema
from pmc15m.shards.writers import ShardEntry, write_shard_files
from pmc15m.storage import fs

log = logging.getLogger(__name__)


def retired_by_shard(
    indexed: Iterable[Mapping[str, Any]], tombstones: Iterable[Mapping[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """``"split/shard"`` -> sorted retired keys, for tombstones that name an indexed sample.

    ``indexed``: sample index rows (key, shard) of the output before the update. A
    tombstone of an earlier update whose sample is no longer indexed was compacted then.
    """
    present = {(row["key"], row["shard"]) for row in indexed}
    by_shard: dict[str, set[str]] = {}
    for tomb in tombstones:
        if (tomb["key"], tomb["shard"]) in present:
            by_shard.setdefault(tomb["shard"], set()).add(tomb["key"])
    return {shard: tuple(sorted(keys)) for shard, keys in sorted(by_shard.items())}


def _member_key(name: str) -> str:
    return fmt.split_member(name)[0]


def _read_members(tar_path: str) -> list[tuple[str, bytes]]:
    """Every regular member of a shard tar, read in memory in tar order (never extracted)."""
    members = []
    with fs.open_read(tar_path) as handle, tarfile.open(fileobj=handle, mode="r|") as tar:
        for member in tar:
            if member.isfile():
                payload = tar.extractfile(member)
                members.append((member.name, payload.read() if payload else b""))
    return members


def _read_table(parquet_path: str) -> pa.Table:
    """The shard's rows with the declared schema (read back, list items are named
    ``element``; the writer's are ``item``, and the bytes must be the writer's)."""
    with fs.open_read(parquet_path) as handle:
        return pq.read_table(io.BytesIO(handle.read())).cast(sample_schema())


def _entries(table: pa.Table, images: dict[str, bytes]) -> list[ShardEntry]:
    rows = table.select(["key", "caption", "width", "height", "split"]).to_pylist()
    return [
        ShardEntry(
            r["key"], images.get(r["key"], b""), r["caption"] or "", r["width"], r["height"], r["split"]
        )
        for r in rows
    ]


def compact_shard(output: str, shard: str, retired: Iterable[str]) -> dict[str, Any]:
    """Rewrite ``output/<shard>`` (``"train/00003"``) without the ``retired`` keys.

    Returns ``{"split", "name", "count", "retired", "bytes_rewritten"}``: the samples left,
    the keys asked to retire, and the bytes of the tar and Parquet files written.
    """
    split, name = fmt.parse_shard_id(shard)
    directory = fs.join(output, split)
    drop = frozenset(retired)
    tar_path = fs.join(directory, fmt.tar_name(name))
    members = [m for m in _read_members(tar_path) if _member_key(m[0]) not in drop]
    table = _read_table(fs.join(directory, fmt.parquet_name(name)))
    table = table.filter(pc.invert(pc.is_in(table["key"], value_set=pa.array(sorted(drop), pa.string()))))
    text = tuple(fmt.member_suffix(kind) for kind in fmt.TEXT_KINDS)
    images = {_member_key(n): data for n, data in members if not n.endswith(text)}
    if set(images) != set(table["key"].to_pylist()):
        raise ValueError(f"{directory}/{name}: the tar and the Parquet file hold different samples")
    stats = write_shard_files(directory, name, members, table, _entries(table, images))
    written = sum(f["bytes"] for f in stats["files"].values())
    log.debug(
        "compacted %s: %d samples left, %d retired, %d bytes", shard, stats["count"], len(drop), written
    )
    return {
        "split": split,
        "name": name,
        "count": stats["count"],
        "retired": len(drop),
        "bytes_rewritten": written,
    }
