"""The build index: what a build considered and kept, so the next build can do only the difference.

Every build writes two Parquet files under ``index/``:

- ``articles.parquet``: one row per article version the listing named, with the metadata
  object's ETag and its outcome (``processed`` or the article-level rejection reason). The
  ETag changes whenever PMC rewrites the version's metadata, which it does whenever any of
  the version's files changes, so "same version, same ETag" means "nothing to do".
- ``samples.parquet``: one row per live kept sample with where it lives (split, shard) and
  the hashes deduplication needs, so an update can deduplicate new figures against the
  released ones without reading a single old image.

``plan_update`` compares a previous index with the current listing. Samples of a version
that disappeared, was superseded or changed are *tombstoned*: listed by key and shard in
``tombstones/`` rather than deleted, so released shards are never rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

INDEX_DIR = "index"
ARTICLES_FILE = "articles.parquet"
SAMPLES_FILE = "samples.parquet"
TOMBSTONES_DIR = "tombstones"
PROCESSED = "processed"

ARTICLE_INDEX_SCHEMA = pa.schema(
    [
        ("pmcid", pa.string()),
        ("version", pa.int64()),
        ("metadata_etag", pa.string()),
        ("outcome", pa.string()),  # "processed" or an article-level reject reason
        ("samples_kept", pa.int64()),
        ("build_id", pa.string()),  # the build that processed this version
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
        ("reason", pa.string()),  # removed | superseded | changed
        ("build_id", pa.string()),  # the update that tombstoned it
    ]
)


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    pmcid: str
    version: int
    metadata_etag: str
    outcome: str
    samples_kept: int
    build_id: str


@dataclass(slots=True)
class UpdatePlan:
    """What an update must do: versions to process, and released samples to tombstone."""

    process: set[tuple[str, int]] = field(default_factory=set)
    unchanged: set[tuple[str, int]] = field(default_factory=set)
    tombstones: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for row in self.tombstones:
            reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
        return {
            "versions_to_process": len(self.process),
            "versions_unchanged": len(self.unchanged),
            **{f"tombstoned_{k}": v for k, v in sorted(reasons.items())},
        }


def newest_listed(listed: Iterable[tuple[str, int, str]]) -> dict[str, tuple[int, str]]:
    """pmcid -> (newest version, its ETag) from ``(pmcid, version, etag)`` listing rows."""
    newest: dict[str, tuple[int, str]] = {}
    for pmcid, version, etag in listed:
        if pmcid not in newest or version > newest[pmcid][0]:
            newest[pmcid] = (version, etag)
    return newest


def plan_update(
    previous_articles: Sequence[IndexedArticle],
    previous_samples: Sequence[Mapping[str, Any]],
    listed: Iterable[tuple[str, int, str]],
    build_id: str,
) -> UpdatePlan:
    """Compare the previous build's index with the current listing.

    A PMCID's newest listed version is processed unless the previous build saw exactly that
    version with the same ETag. Previous samples of a PMCID whose newest version is gone
    (``removed``), newer (``superseded``) or re-processed with a new ETag (``changed``) are
    tombstoned; the re-processed version's samples then land in new shards.
    """
    plan = UpdatePlan()
    current = newest_listed(listed)
    seen = {(a.pmcid, a.version): a.metadata_etag for a in previous_articles}
    for pmcid, (version, etag) in current.items():
        target = plan.unchanged if seen.get((pmcid, version)) == etag else plan.process
        target.add((pmcid, version))
    for row in previous_samples:
        now = current.get(row["pmcid"])
        if now is None:
            reason = "removed"
        elif now[0] != row["version"]:
            reason = "superseded"
        elif (row["pmcid"], row["version"]) in plan.process:
            reason = "changed"
        else:
            continue
        plan.tombstones.append(
            {"key": row["key"], "shard": row["shard"], "reason": reason, "build_id": build_id}
        )
    plan.tombstones.sort(key=lambda r: (r["shard"], r["key"]))
    return plan


def live_sample_rows(
    samples: Iterable[Mapping[str, Any]], tombstones: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The sample index rows not tombstoned (a tombstone names a key in one shard)."""
    dead = {(t["key"], t["shard"]) for t in tombstones}
    return [dict(r) for r in samples if (r["key"], r["shard"]) not in dead]


def sorted_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, sort_keys: Sequence[str]) -> pa.Table:
    """Rows as a table in a stable order, so the index files are byte-identical across runs."""
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in sort_keys))
    return pa.Table.from_pylist(
        [{name: r.get(name) for name in schema.names} for r in ordered], schema=schema
    )
