"""Deterministic, atomic writers of shard trios (tar, parquet, stats) and reject files.

Two promises from the design: a rebuild of the same samples is byte-identical (so a build
can be checked by hashing, and a rerun changes nothing it need not), and a crash never leaves
a half-written file under a final name (so a reader that sees ``00000.tar`` can trust it).

Determinism comes from sorting by key, fixed tar headers (mtime, owner, mode), canonical JSON
and fixed Parquet settings. Atomicity comes from writing every file to a hidden temporary
name in the same directory and renaming it into place only after all files of the shard are
complete. All file-system access sits in the small ``_fs_*`` functions and ``_Staging``, which
go through ``pmc15m.storage.fs`` (local paths, ``s3://``, other fsspec schemes), so the format code
never knows where its bytes land.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import logging
import os
import tarfile
from collections.abc import Callable, Sequence
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pmc15m.core.record import Sample
from pmc15m.shards import format as fmt
from pmc15m.shards.schema import reject_schema, rows_to_table, sample_schema
from pmc15m.storage import fs

logger = logging.getLogger(__name__)

TAR_MTIME = 0  # fixed so that a rebuild is byte-identical
TAR_MODE = 0o644
# PAX rather than plain USTAR: identical headers for short names, and a key longer than
# ustar's 100 characters still round-trips instead of failing the shard.
TAR_FORMAT = tarfile.PAX_FORMAT
PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 3
# Small row groups let the Hub viewer and column readers page a shard without reading it all.
PARQUET_ROW_GROUP_SIZE = 1000
TEMP_MARKER = fs.TEMP_MARKER

Writer = Callable[[IO[bytes]], None]


# ---------------------------------------------------------------- file system (swap point)


def _fs_makedirs(directory: str) -> None:
    fs.makedirs(directory)


def _fs_stage(final_path: str, write: Writer) -> str:
    """Write a complete temporary file for ``final_path`` and return its (local) path.

    Locally it is a hidden sibling (``.<name>.tmp-<pid>-<random>``, so no ``*.tar`` glob ever
    matches it) renamed into place later; for an object store it is a local file uploaded
    under the final key at commit (see pmc15m.storage.fs).
    """
    return fs.stage(final_path, write)


def _fs_commit(temp_path: str, final_path: str) -> None:
    fs.commit(temp_path, final_path)


def _fs_discard(path: str) -> None:
    fs.discard(path)


def _fs_digest(path: str) -> dict[str, Any]:
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"bytes": os.path.getsize(path), "sha256": digest}


class _Staging:
    """Files that appear under their final names together at a clean exit, or not at all.

    On an exception every staged temporary file is removed, so a failed write leaves the
    directory as it was (a previous complete shard of the same name included).
    """

    def __init__(self) -> None:
        self._pending: list[tuple[str, str]] = []

    def stage(self, final_path: str, write: Writer) -> str:
        temp = _fs_stage(final_path, write)
        self._pending.append((temp, final_path))
        return temp

    def __enter__(self) -> _Staging:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            if exc_type is None:
                for temp, final in self._pending:  # stats last: its presence marks a full shard
                    _fs_commit(temp, final)
        finally:
            for temp, _final in self._pending:
                _fs_discard(temp)


def remove_temp_files(directory: str) -> list[str]:
    """Delete temporaries a killed writer left behind; return their names.

    Only safe once no writer is active in ``directory`` (e.g. while finalising a build),
    because a live writer's temporary looks the same.
    """
    if not fs.is_local(directory):
        return []  # remote writers stage in the local temp dir, never next to the object
    removed = sorted(n for n in fs.listdir(directory) if n.startswith(".") and TEMP_MARKER in n)
    for name in removed:
        _fs_discard(os.path.join(directory, name))
    return removed


# ---------------------------------------------------------------- encoding


def _plain(value: Any) -> Any:
    """Dataclasses to dicts and tuples to lists, so JSON and Parquet see the same row."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def row_json(row: dict[str, Any]) -> bytes:
    """The canonical ``<key>.json`` bytes: sorted keys, compact, UTF-8, bytes as base64."""
    text = json.dumps(
        _plain(row), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )
    return text.encode("utf-8")


def _json_file_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _sample_members(sample: Sample) -> list[tuple[str, bytes]]:
    """The tar members of one sample, image first, then ``json`` and ``txt``."""
    assert sample.image is not None  # checked by _check_kept
    return [
        (fmt.member_name(sample.key, fmt.image_kind(sample.image)), sample.image),
        (fmt.member_name(sample.key, fmt.JSON), row_json(sample.row())),
        (fmt.member_name(sample.key, fmt.TXT), sample.caption.encode("utf-8")),
    ]


def _tar_writer(members: Sequence[tuple[str, bytes]]) -> Writer:
    """Members with fixed headers (mtime, owner, mode), so the same members give the same bytes."""

    def write(handle: IO[bytes]) -> None:
        with tarfile.open(fileobj=handle, mode="w", format=TAR_FORMAT) as tar:
            for member, payload in members:
                info = tarfile.TarInfo(member)
                info.size, info.mtime, info.mode = len(payload), TAR_MTIME, TAR_MODE
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(payload))

    return write


def _parquet_writer(table: pa.Table) -> Writer:
    def write(handle: IO[bytes]) -> None:
        pq.write_table(
            table,
            handle,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            row_group_size=PARQUET_ROW_GROUP_SIZE,
            use_dictionary=True,
            write_statistics=True,
        )

    return write


def _bytes_writer(data: bytes) -> Writer:
    def write(handle: IO[bytes]) -> None:
        handle.write(data)

    return write


# ---------------------------------------------------------------- public writers


def _check_kept(samples: Sequence[Sample]) -> None:
    """Refuse what would make an unreadable or ambiguous shard, before writing anything."""
    previous = None
    for sample in samples:
        if not fmt.is_valid_key(sample.key):
            raise ValueError(f"sample key {sample.key!r} is empty or has a '.' or '/'")
        if sample.key == previous:
            raise ValueError(f"duplicate sample key {sample.key!r} in one shard")
        if sample.reject_reason:
            raise ValueError(f"sample {sample.key!r} is a reject ({sample.reject_reason})")
        if sample.image is None:
            raise ValueError(f"sample {sample.key!r} has no image bytes")
        previous = sample.key


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


@dataclasses.dataclass(frozen=True, slots=True)
class ShardEntry:
    """What a shard's ``_stats.json`` is computed from: the same whether the shard is written
    from samples or rewritten from a released shard's files (``pmc15m.shards.compact``)."""

    key: str
    image: bytes
    caption: str
    width: int | None
    height: int | None
    split: str


def shard_entry(sample: Sample) -> ShardEntry:
    return ShardEntry(
        sample.key, sample.image or b"", sample.caption, sample.width, sample.height, sample.split
    )


def shard_stats(name: str, entries: Sequence[ShardEntry]) -> dict[str, Any]:
    """The deterministic part of ``<name>_stats.json`` (no timestamps, rounded means)."""
    formats: dict[str, int] = {}
    splits: dict[str, int] = {}
    for entry in entries:
        ext = fmt.image_kind(entry.image)
        formats[ext] = formats.get(ext, 0) + 1
        splits[entry.split] = splits.get(entry.split, 0) + 1
    return {
        "name": name,
        "count": len(entries),
        "successes": len(entries),  # rejects go to rejects/, so every sample written succeeded
        "first_key": entries[0].key if entries else None,
        "last_key": entries[-1].key if entries else None,
        "total_image_bytes": sum(len(e.image) for e in entries),
        "caption_words_mean": _mean([len(e.caption.split()) for e in entries]),
        "caption_chars_mean": _mean([len(e.caption) for e in entries]),
        "width_mean": _mean([e.width for e in entries if e.width is not None]),
        "height_mean": _mean([e.height for e in entries if e.height is not None]),
        "image_formats": formats,
        "splits": splits,
    }


def write_shard(directory: str, name: str, samples: Sequence[Sample]) -> dict[str, Any] | None:
    """Write ``name.tar``, ``name.parquet`` and ``name_stats.json``; return the stats.

    Samples are sorted by key; everything is validated (keys, images, schema) before the
    first byte is written. An empty list writes nothing and returns ``None``, so an empty
    bucket of a Beam group never produces a zero-sample shard.
    """
    if not samples:
        logger.debug("shard %s/%s: no samples, nothing written", directory, name)
        return None
    ordered = sorted(samples, key=lambda s: s.key)
    _check_kept(ordered)
    table = rows_to_table([_plain(s.row()) for s in ordered], sample_schema())
    members = [member for sample in ordered for member in _sample_members(sample)]
    stats = write_shard_files(directory, name, members, table, [shard_entry(s) for s in ordered])
    logger.info("wrote shard %s/%s: %d samples", directory, fmt.tar_name(name), len(ordered))
    return stats


def write_shard_files(
    directory: str,
    name: str,
    members: Sequence[tuple[str, bytes]],
    table: pa.Table,
    entries: Sequence[ShardEntry],
) -> dict[str, Any]:
    """The shard trio from its tar members, its Parquet table and its entries; the stats.

    The tar and Parquet files are staged first and the stats last, so a present
    ``_stats.json`` says its shard is complete; each file replaces its predecessor by one
    rename (or one upload), never half-written.
    """
    stats = shard_stats(name, entries)
    _fs_makedirs(directory)
    tar_file, parquet_file, stats_file = fmt.shard_files(name)
    with _Staging() as staging:
        tar_temp = staging.stage(os.path.join(directory, tar_file), _tar_writer(members))
        parquet_temp = staging.stage(os.path.join(directory, parquet_file), _parquet_writer(table))
        stats["files"] = {tar_file: _fs_digest(tar_temp), parquet_file: _fs_digest(parquet_temp)}
        staging.stage(os.path.join(directory, stats_file), _bytes_writer(_json_file_bytes(stats)))
    return stats


def write_rejects(directory: str, name: str, samples: Sequence[Sample]) -> int:
    """Write ``name.parquet`` of reject rows sorted by key; return the row count (0: no file).

    Several rejects may share a key (article-level rejects), so ties are broken by the
    canonical row JSON to keep the order independent of arrival order.
    """
    if not samples:
        return 0
    rows = sorted((_plain(s.row()) for s in samples), key=lambda r: (r["key"], row_json(r)))
    unmarked = [r["key"] for r in rows if not r["reject_reason"]]
    if unmarked:
        raise ValueError(f"samples without reject_reason in rejects: {unmarked[:5]}")
    table = rows_to_table(rows, reject_schema())
    _fs_makedirs(directory)
    with _Staging() as staging:
        staging.stage(os.path.join(directory, fmt.parquet_name(name)), _parquet_writer(table))
    logger.info("wrote %d rejects to %s/%s", len(rows), directory, fmt.parquet_name(name))
    return len(rows)


def write_json_atomic(path: str, obj: Any) -> None:
    """Write ``obj`` as JSON (sorted keys, indent 2, trailing newline), atomically."""
    _fs_makedirs(os.path.dirname(path) or ".")
    with _Staging() as staging:
        staging.stage(path, _bytes_writer(_json_file_bytes(obj)))


# ---------------------------------------------------------------- readers (tests, inspect)


def read_shard_rows(tar_path: str) -> list[dict[str, Any]]:
    """The ``<key>.json`` rows of a shard tar, in tar order."""
    with fs.open_read(tar_path) as handle, tarfile.open(fileobj=handle, mode="r:") as tar:
        return [
            json.loads(tar.extractfile(m).read())  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile() and m.name.endswith(fmt.member_suffix(fmt.JSON))
        ]


def read_parquet_rows(path: str) -> list[dict[str, Any]]:
    """The rows of a shard or reject Parquet file, in file order."""
    with fs.open_read(path) as handle:
        return pq.read_table(handle).to_pylist()
