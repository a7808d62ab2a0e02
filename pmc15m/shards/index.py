"""The build index: what a build considered and kept, so the next build can do only the difference.

Every build writes two Parquet files under ``index/``:

- ``articles.parquet``: one row per article version the listing named, with the metadata
  object's ETag and its outcome (``processed``, ``not_selected`` or the article-level
  rejection reason). The ETag changes whenever PMC rewrites the version's metadata, which it
  does whenever any of the version's files changes, so "same version, same ETag" means
  "nothing to do".
- ``samples.parquet``: one row per sample in the shards, with where it lives (split,
  shard) and the hashes deduplication needs, so an update can deduplicate new figures
  against the released ones without reading a single old image.

``pmc15m.shards.plan.plan_update`` compares a previous index with the current listing.
Samples of a version that disappeared, was superseded or changed are *retired*: listed by
key and shard in ``tombstones/<build_id>.parquet`` (a tombstone names a key *in one shard*:
a changed version's new samples reuse its keys) and taken out of their shards
(``pmc15m.shards.compact``), so ``samples.parquet`` lists exactly what the shards hold.

Everything here works on plain rows and goes through ``pmc15m.storage.fs``, so an ``s3://`` output
is indexed the same way; every file is sorted and written with fixed settings, so the same
build gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pmc15m.core import reasons
from pmc15m.shards import format as fmt
from pmc15m.shards.format import ARTICLES_FILE, SAMPLES_FILE
from pmc15m.storage import fs

PROCESSED = "processed"
NOT_SELECTED = "not_selected"
# Outcomes that say nothing final about a version: it is processed again when it is the
# newest listed version (a superseded or unselected version was never looked at, and a
# transient fetch failure is what a rerun is for).
UNSETTLED = frozenset({NOT_SELECTED, reasons.SUPERSEDED_VERSION, reasons.FETCH_FAILED})

ARTICLE_INDEX_SCHEMA = pa.schema(
    [
        ("pmcid", pa.string()),
        ("version", pa.int64()),
        ("metadata_etag", pa.string()),
        ("outcome", pa.string()),  # "processed", "not_selected" or an article-level reject reason
        ("samples_kept", pa.int64()),
        ("build_id", pa.string()),  # the build that decided this outcome
    ]
)

SAMPLE_INDEX_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("pmcid", pa.string()),
        ("version", pa.int64()),
        ("split", pa.string()),
        ("shard", pa.string()),  # "train/00003"
        ("pixel_sha256", pa.string()),
        ("phash", pa.string()),
        ("cluster_id", pa.string()),
        ("build_id", pa.string()),
    ]
)

TOMBSTONE_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("shard", pa.string()),
        ("reason", pa.string()),  # removed | superseded | changed | reprocessed (pmc15m.shards.plan)
        ("build_id", pa.string()),  # the update that tombstoned it
    ]
)
ARTICLE_SORT = ("pmcid", "version", "metadata_etag")
SAMPLE_SORT = ("shard", "key")
TOMBSTONE_SORT = ("shard", "key")


def sorted_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, sort_keys: Sequence[str]) -> pa.Table:
    """Rows as a table in a stable order, so the index files are byte-identical across runs."""
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in sort_keys))
    return pa.Table.from_pylist(
        [{name: r.get(name) for name in schema.names} for r in ordered], schema=schema
    )


def write_table(
    path: str, rows: Sequence[Mapping[str, Any]], schema: pa.Schema, sort_keys: Sequence[str]
) -> None:
    """Write ``rows`` sorted as one Parquet file at ``path`` (any pmc15m.storage.fs URL), atomically."""
    buf = io.BytesIO()
    pq.write_table(sorted_table(rows, schema, sort_keys), buf, compression="zstd", compression_level=3)
    fs.makedirs(path.rsplit("/", 1)[0])
    fs.write_bytes(path, buf.getvalue())


def read_table_rows(path: str) -> list[dict[str, Any]]:
    with fs.open_read(path) as handle:
        return pq.read_table(handle).to_pylist()


def index_path(output: str, name: str) -> str:
    return fs.join(output, fmt.INDEX_DIR, name)


def has_index(output: str) -> bool:
    return fs.exists(index_path(output, ARTICLES_FILE)) and fs.exists(index_path(output, SAMPLES_FILE))


def write_index(
    output: str, articles: Sequence[Mapping[str, Any]], samples: Sequence[Mapping[str, Any]]
) -> None:
    """Write ``index/articles.parquet`` and ``index/samples.parquet`` under ``output``."""
    write_table(index_path(output, ARTICLES_FILE), articles, ARTICLE_INDEX_SCHEMA, ARTICLE_SORT)
    write_table(index_path(output, SAMPLES_FILE), samples, SAMPLE_INDEX_SCHEMA, SAMPLE_SORT)


def read_index(output: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(article rows, sample rows) of the index under ``output``."""
    return read_table_rows(index_path(output, ARTICLES_FILE)), read_table_rows(
        index_path(output, SAMPLES_FILE)
    )


def tombstone_path(output: str, build_id: str) -> str:
    return fs.join(output, fmt.TOMBSTONES_DIR, fmt.tombstone_file(build_id))


def write_tombstones(output: str, build_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
    write_table(tombstone_path(output, build_id), rows, TOMBSTONE_SCHEMA, TOMBSTONE_SORT)


def read_tombstones(output: str) -> list[dict[str, Any]]:
    """Every tombstone of every update of ``output`` (none for a plain build)."""
    directory = fs.join(output, fmt.TOMBSTONES_DIR)
    if not fs.isdir(directory):
        return []
    rows: list[dict[str, Any]] = []
    for name in sorted(fs.listdir(directory)):
        if name.endswith(fmt.PARQUET_SUFFIX) and fs.TEMP_MARKER not in name:
            rows += read_table_rows(fs.join(directory, name))
    return rows


def shard_sample_rows(output: str, split: str, name: str) -> list[dict[str, Any]]:
    """The sample index rows of one written shard, read back from its Parquet file."""
    columns = [c for c in SAMPLE_INDEX_SCHEMA.names if c != "shard"]
    with fs.open_read(fs.join(output, split, fmt.parquet_name(name))) as handle:
        rows = pq.read_table(handle, columns=columns).to_pylist()
    shard = fmt.shard_id(split, name)
    return [{**row, "shard": shard} for row in rows]


def article_rows(
    pmcid: str,
    version: int,
    etags: Iterable[str],
    outcomes: Iterable[str],
    samples_kept: int,
    build_id: str,
) -> list[dict[str, Any]]:
    """The index rows of one listed version: one per distinct ETag it was listed with.

    ``outcomes`` are what happened to it (reject reasons, ``not_selected``); none means it
    was processed. A reject reason wins over ``not_selected`` (it is the more specific).
    """
    found = set(outcomes)
    rejected = sorted(found - {NOT_SELECTED})
    outcome = rejected[0] if rejected else (NOT_SELECTED if found else PROCESSED)
    return [
        {
            "pmcid": pmcid,
            "version": version,
            "metadata_etag": etag,
            "outcome": outcome,
            "samples_kept": samples_kept,
            "build_id": build_id,
        }
        for etag in sorted(set(etags))
    ]


def check_against_shards(output: str, placed: Any, hash_keys: Any) -> list[str]:
    """Problems where ``index/samples.parquet`` and the shards disagree.

    ``placed``: the sorted-or-not hashes of every ``"split/shard/key"`` the tars hold, made
    by ``hash_keys`` (``pmc15m.shards.inspect`` keeps hashes, not key strings, for 30M samples).
    """
    import numpy as np

    path = index_path(output, SAMPLES_FILE)
    with fs.open_read(path) as handle:
        table = pq.read_table(handle, columns=["key", "shard"])
    keys, shards = table.column("key").to_pylist(), table.column("shard").to_pylist()
    indexed = hash_keys([f"{shard}/{key}" for key, shard in zip(keys, shards, strict=True)])
    if np.array_equal(np.sort(indexed), np.sort(placed)):
        return []
    missing = len(np.setdiff1d(placed, indexed))
    extra = len(np.setdiff1d(indexed, placed))
    return [
        f"{path}: lists {len(indexed)} samples, the shards hold {len(placed)} "
        f"({missing} not in the index, {extra} not in any shard)"
    ]


def rows_from_facts(
    listed: Iterable[tuple[str, int, str]],
    outcomes: Iterable[tuple[str, int, str]],
    kept: Iterable[tuple[str, int]],
    build_id: str,
) -> list[dict[str, Any]]:
    """The article index rows of a build from its facts: listed ``(pmcid, version, etag)``,
    ``(pmcid, version, outcome)`` of rejected or unselected versions, one ``(pmcid,
    version)`` per kept sample. Only listed versions get a row."""
    etags: dict[tuple[str, int], list[str]] = {}
    for pmcid, version, etag in listed:
        etags.setdefault((pmcid, version), []).append(etag)
    found: dict[tuple[str, int], list[str]] = {}
    for pmcid, version, outcome in outcomes:
        found.setdefault((pmcid, version), []).append(outcome)
    counts: dict[tuple[str, int], int] = {}
    for pmcid, version in kept:
        counts[(pmcid, version)] = counts.get((pmcid, version), 0) + 1
    return [
        row
        for (pmcid, version), tags in etags.items()
        for row in article_rows(
            pmcid, version, tags, found.get((pmcid, version), []), counts.get((pmcid, version), 0), build_id
        )
    ]
