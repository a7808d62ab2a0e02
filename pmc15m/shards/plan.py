"""Planning an update from a previous build's index and the current listing.

A PMCID's newest listed version is processed unless the previous build settled exactly
that version with the same metadata ETag; released samples of versions that went away,
were superseded or changed become tombstones (see ``pmc15m.shards.index`` for the files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmc15m.shards.index import ARTICLE_INDEX_SCHEMA, UNSETTLED


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    pmcid: str
    version: int
    metadata_etag: str
    outcome: str
    samples_kept: int
    build_id: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IndexedArticle:
        return cls(**{name: row[name] for name in ARTICLE_INDEX_SCHEMA.names})


@dataclass(slots=True)
class UpdatePlan:
    """What an update must do: versions to process, and released samples to tombstone."""

    process: set[tuple[str, int]] = field(default_factory=set)
    unchanged: set[tuple[str, int]] = field(default_factory=set)
    tombstones: list[dict[str, str]] = field(default_factory=list)

    @property
    def process_pmcids(self) -> frozenset[str]:
        return frozenset(pmcid for pmcid, _ in self.process)

    def tombstones_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.tombstones:
            counts[row["reason"]] = counts.get(row["reason"], 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> dict[str, Any]:
        return {
            "versions_processed": len(self.process),
            "versions_unchanged": len(self.unchanged),
            "tombstones": self.tombstones_by_reason(),
        }

    @property
    def empty(self) -> bool:
        return not self.process and not self.tombstones


def newest_listed(listed: Iterable[tuple[str, int, str]]) -> dict[str, tuple[int, str]]:
    """pmcid -> (newest version, its ETag) from ``(pmcid, version, etag)`` listing rows."""
    newest: dict[str, tuple[int, str]] = {}
    for pmcid, version, etag in listed:
        if pmcid not in newest or version > newest[pmcid][0]:
            newest[pmcid] = (version, etag)
    return newest


def _tombstone_reason(
    row: Mapping[str, Any], now: tuple[int, str] | None, process: set, reprocess: frozenset[str]
) -> str | None:
    if now is None or now[0] < row["version"]:
        return "removed"  # the PMCID, or this version of it, is no longer listed
    if now[0] > row["version"]:
        return "superseded"
    if (row["pmcid"], row["version"]) in process:
        return "reprocessed" if row["pmcid"] in reprocess else "changed"
    return None


def plan_update(
    previous_articles: Sequence[IndexedArticle],
    live_samples: Sequence[Mapping[str, Any]],
    listed: Iterable[tuple[str, int, str]],
    build_id: str,
    reprocess: frozenset[str] = frozenset(),
) -> UpdatePlan:
    """Compare the previous build's index with the current listing.

    A PMCID's newest listed version is processed unless the previous build settled exactly
    that version with the same ETag (processed it, or rejected it for a lasting reason),
    or it is in ``reprocess`` (unchanged, but a duplicate it lost to is being retired:
    ``pmc15m.shards.update.plan_with_dependents``; its samples are tombstoned ``reprocessed``).
    Live previous samples of a PMCID whose version is gone (``removed``), has a newer one
    (``superseded``) or is re-processed under a new ETag (``changed``) are tombstoned; the
    re-processed version's samples then land in new shards.
    """
    plan = UpdatePlan()
    current = newest_listed(listed)
    settled = {(a.pmcid, a.version): a.metadata_etag for a in previous_articles if a.outcome not in UNSETTLED}
    reprocessed: set[str] = set()  # unchanged, processed again only for ``reprocess``
    for pmcid, (version, etag) in current.items():
        same = settled.get((pmcid, version)) == etag
        if same and pmcid in reprocess:
            reprocessed.add(pmcid)
        target = plan.unchanged if same and pmcid not in reprocess else plan.process
        target.add((pmcid, version))
    only_reprocessed = frozenset(reprocessed)
    for row in live_samples:
        reason = _tombstone_reason(row, current.get(row["pmcid"]), plan.process, only_reprocessed)
        if reason is not None:
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


def merge_articles(
    previous: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]], processed: frozenset[str]
) -> list[dict[str, Any]]:
    """The article index after an update: one row per version listed now.

    A PMCID this update processed takes the update's rows; any other keeps the previous
    row of the same version and ETag (the update saw it only as ``not_selected``).
    Versions no longer listed drop out.
    """
    before = {(r["pmcid"], r["version"], r["metadata_etag"]): dict(r) for r in previous}
    merged = []
    for row in current:
        kept = (
            None
            if row["pmcid"] in processed
            else before.get((row["pmcid"], row["version"], row["metadata_etag"]))
        )
        merged.append(kept or dict(row))
    return merged
