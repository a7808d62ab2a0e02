"""Incremental refresh: what ``pmc15m build --update DIR`` needs besides the normal build.

An update writes *into* the previous output. New samples land in new shards numbered after
the last ones of each split, new rejects in new reject files. Samples of removed,
superseded or changed article versions are *retired*: listed in
``tombstones/<build_id>.parquet`` (key, shard, reason) and taken out of the released shards
that held them, each rewritten copy-on-write (``pmc15m.shards.compact``), so every reader of the
shards sees exactly the live dataset. No other released shard or reject file is touched;
``sizes.json``, ``index/``, ``manifest.json``, ``report/`` and the card describe the whole
output and are replaced.

Before anything is written, the previous build's manifest, index and shard sizes are copied
to ``_work/update-base/`` (the *base*). Every decision of the update is taken from the base,
not from the output, so an update killed half-way and started again with the same arguments
plans the same work, gets the same build id and resumes from its journal (the output may
already hold some of its new shards or even its merged index when it was killed).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.core.errors import UserError
from pmc15m.rules import dedup
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import compact, index
from pmc15m.shards import format as fmt
from pmc15m.shards import plan as index_plan
from pmc15m.storage import fs, journal

log = logging.getLogger(__name__)

BASE_DIR = "update-base"
BASE_FILE = "base.json"
# the earlier updates' tombstones, together (a file of the base, not of the output)
TOMBSTONES_FILE = fmt.parquet_name(fmt.TOMBSTONES_DIR)


class UpdateError(UserError):
    """The previous output cannot be updated (not a finished build, no index, other options)."""


@dataclass(slots=True)
class UpdateContext:
    """What the update's finalisation step needs; small (no released sample rows)."""

    base_dir: str  # _work/update-base/: the previous manifest, index and sizes
    previous_build_id: str
    processed: frozenset[str]  # PMCIDs this update processes
    tombstones: list[dict[str, str]]
    summary: dict[str, Any]  # UpdatePlan.summary()
    sizes: dict[str, dict[str, int]]  # the previous shards: split -> sizes.json ({"00000.tar": n})
    reject_files: list[str]
    previous_manifest: dict[str, Any] = field(default_factory=dict)
    # "split/shard" -> retired keys it holds: the released shards to rewrite
    compactions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def shard_offset(self, split: str) -> int:
        """The first shard number free in ``split``: after the last released one."""
        numbers = [fmt.shard_number(name) for name in self.sizes.get(split, {})]
        return max(numbers) + 1 if numbers else 0

    @property
    def reject_offset(self) -> int:
        numbers = [fmt.shard_number(name) for name in self.reject_files]
        return max(numbers) + 1 if numbers else 0


def base_dir(output: str) -> str:
    return fs.join(journal.work_root(output), BASE_DIR)


def _read_json(path: str) -> Any:
    return json.loads(fs.read_bytes(path).decode("utf-8"))


def stage_base(output: str, config: BuildConfig | None = None) -> str:
    """Copy what the update decides from into ``_work/update-base/`` (once); return that folder.

    An existing base is kept: it belongs to an interrupted update of this output, whose
    output files may already be half replaced. ``config`` is checked against the previous
    build's (``check_config``) before anything is written.
    """
    base = base_dir(output)
    if fs.exists(fs.join(base, BASE_FILE)):
        if config is not None:
            check_config(config, read_base(base)["manifest"])
        log.warning("resuming the unfinished update of %s", output)
        return base
    if not fs.exists(fs.join(output, fmt.MANIFEST)):
        raise UpdateError(f"{output} holds no finished build (no {fmt.MANIFEST}) to update")
    if not index.has_index(output):
        raise UpdateError(
            f"{output} has no {fmt.INDEX_DIR}/ (built by an older version): rebuild it with --overwrite"
        )
    previous_manifest = _read_json(fs.join(output, fmt.MANIFEST))
    if config is not None:
        check_config(config, previous_manifest)
    fs.makedirs(fs.join(base, fmt.INDEX_DIR))
    for name in (fmt.ARTICLES_FILE, fmt.SAMPLES_FILE):
        fs.write_bytes(index.index_path(base, name), fs.read_bytes(index.index_path(output, name)))
    earlier = index.read_tombstones(output)
    index.write_table(fs.join(base, TOMBSTONES_FILE), earlier, index.TOMBSTONE_SCHEMA, index.TOMBSTONE_SORT)
    rejects = fs.join(output, fmt.REJECTS_DIR)
    doc = {
        "manifest": previous_manifest,
        "sizes": {split: _read_sizes(output, split) for split in SPLITS},
        "reject_files": sorted(
            n
            for n in (fs.listdir(rejects) if fs.isdir(rejects) else [])
            if fmt.is_numbered(n) and n.endswith(fmt.PARQUET_SUFFIX)
        ),
    }
    fs.write_bytes(fs.join(base, BASE_FILE), json.dumps(doc, sort_keys=True).encode())
    return base


def _read_sizes(output: str, split: str) -> dict[str, int]:
    path = fs.join(output, split, fmt.SIZES_JSON)
    return _read_json(path) if fs.exists(path) else {}


def read_base(base: str) -> dict[str, Any]:
    return _read_json(fs.join(base, BASE_FILE))


def check_config(config: BuildConfig, manifest: dict[str, Any]) -> None:
    """An update must use the previous build's configuration: it adds to those shards."""
    previous = manifest.get("config", {})
    current = config.to_dict()
    differ = sorted(
        k
        for k in set(previous) | set(current)
        if json.dumps(previous.get(k), sort_keys=True) != json.dumps(current.get(k), sort_keys=True)
    )
    if differ:
        raise UpdateError(
            f"the options differ from the previous build's ({', '.join(differ)}): "
            "repeat the previous build's options with --update"
        )
    selection = manifest.get("selection") or {}
    if any(v is not None for k, v in selection.items() if k != "update"):
        raise UpdateError(
            "the previous build selected articles (--pmcids/--limit/--sample_fraction): "
            "only a build of every article can be updated"
        )


def base_tombstones(base: str) -> list[dict[str, Any]]:
    """Every tombstone the updates before this one wrote."""
    return index.read_table_rows(fs.join(base, TOMBSTONES_FILE))


def base_samples(base: str) -> list[dict[str, Any]]:
    """Every sample the previous index lists (retired ones too, in an output written before
    updates rewrote shards)."""
    return index.read_table_rows(index.index_path(base, fmt.SAMPLES_FILE))


def shards_to_compact(
    indexed: list[dict[str, Any]], earlier: list[dict[str, Any]], tombstones: list[dict[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """The released shards holding a sample this update (``tombstones``) or an earlier one
    (``earlier``) retired, from the previous index's rows (``indexed``).

    Earlier tombstones count too: an output written before shards were compacted still
    holds its retired samples, and the first update after that takes them out.
    """
    return compact.retired_by_shard(indexed, earlier + tombstones)


def duplicates_by_representative(output: str, reject_files: list[str]) -> dict[str, set[str]]:
    """Representative key -> PMCIDs that had a figure dropped as its (near) duplicate.

    Read from the released reject files (``reject_files``, as staged in the base), so a
    resumed update reads the same rows.
    """
    found: dict[str, set[str]] = {}
    wanted = pa.array([reasons.DUPLICATE_EXACT, reasons.DUPLICATE_NEAR])
    for name in reject_files:
        with fs.open_read(fs.join(output, fmt.REJECTS_DIR, name)) as handle:
            table = pq.read_table(handle, columns=["pmcid", "reject_reason", "duplicate_of"])
        # only the duplicate rows become Python objects (most rejects are something else)
        table = table.filter(pc.is_in(table["reject_reason"], value_set=wanted))
        for pmcid, representative in zip(
            table["pmcid"].to_pylist(), table["duplicate_of"].to_pylist(), strict=True
        ):
            if representative:
                found.setdefault(representative, set()).add(pmcid)
    return found


def plan_with_dependents(
    previous_articles: list[index_plan.IndexedArticle],
    live_samples: list[dict[str, Any]],
    listed: list[tuple[str, int, str]],
    dependents: dict[str, set[str]],
) -> index_plan.UpdatePlan:
    """``index_plan.plan_update``, plus every article that lost a figure to a retired sample.

    A retracted article's figure may have been the kept copy of an image another article
    holds too; a clean build of the new state keeps that other copy, so the update
    processes the other article again. Its own retired samples may free further copies:
    repeated until nothing is added (each round only adds PMCIDs, so it ends).
    """
    reprocess: frozenset[str] = frozenset()
    while True:
        plan = index_plan.plan_update(previous_articles, live_samples, listed, "", reprocess)
        freed = {p for t in plan.tombstones for p in dependents.get(t["key"], ())}
        more = reprocess | (freed & {pmcid for pmcid, _, _ in listed})
        if more == reprocess:
            return plan
        reprocess = frozenset(more)


def base_live_samples(base: str) -> list[dict[str, Any]]:
    """The released samples still live: the base index minus every earlier tombstone."""
    return index_plan.live_sample_rows(base_samples(base), base_tombstones(base))


def merged_sizes(
    previous: dict[str, dict[str, int]], shard_stats: list[dict[str, Any]]
) -> dict[str, dict[str, int]]:
    """Shard sizes after an update: the released ones, overridden by what was written
    again (compacted or new shards: ``{"split", "name", "count"}``)."""
    sizes = {split: dict(previous.get(split, {})) for split in SPLITS}
    for stat in shard_stats:
        sizes[stat["split"]][fmt.tar_name(stat["name"])] = stat["count"]
    return sizes


def finish_update(
    update: UpdateContext,
    output: str,
    build_id: str,
    written: dict[str, list[dict[str, Any]]],
    article_rows: list[dict[str, Any]],
    rejects_written: int,
) -> dict[str, Any]:
    """Write the tombstones and the merged index; return the manifest fields of the update.

    ``written``: ``{"shards": new shards' stats, "compacted": pmc15m.shards.compact results}``.
    The index lists exactly the samples the shards hold: the released ones not retired and
    the new ones. Reads the previous index from the base, so running it twice gives the
    same files.
    """
    shard_stats, compacted = written.get("shards", []), written.get("compacted", [])
    index.write_tombstones(output, build_id, update.tombstones)
    previous_articles = index.read_table_rows(index.index_path(update.base_dir, fmt.ARTICLES_FILE))
    previous_samples = index.read_table_rows(index.index_path(update.base_dir, fmt.SAMPLES_FILE))
    new_samples = [r for s in shard_stats for r in index.shard_sample_rows(output, s["split"], s["name"])]
    articles = index_plan.merge_articles(previous_articles, article_rows, update.processed)
    dead = base_tombstones(update.base_dir) + update.tombstones
    samples = index_plan.live_sample_rows(previous_samples, dead) + new_samples
    index.write_index(output, articles, samples)
    previous = update.previous_manifest
    previous_rejects = previous.get("dataset", {}).get(
        "rejects", previous.get("counts", {}).get("rejects_written", 0)
    )
    return {
        "previous_build_id": update.previous_build_id,
        "build_chain": [*previous.get("build_chain", []), update.previous_build_id],
        "update": {
            **update.summary,
            "shards_added": sorted(fmt.shard_id(s["split"], s["name"]) for s in shard_stats),
            "samples_added": len(new_samples),
            "shards_rewritten": len(compacted),
            "samples_retired": sum(c["retired"] for c in compacted),
            "bytes_rewritten": sum(c["bytes_rewritten"] for c in compacted),
        },
        "dataset": {
            "samples": len(samples),
            "tombstoned": len(dead),
            "rejects": previous_rejects + rejects_written,
        },
    }


# Released samples outrank every new one in deduplication (``pmc15m.rules.dedup`` ranks by
# (-version, PMCID number, key), smaller first): they are already published, so a new
# copy of one is the duplicate, and the cluster keeps the released sample's split.
RELEASED_RANK = -(2**62)


def released_digest(row: dict[str, Any]) -> dedup.Digest:
    """A released sample (a sample index row) as deduplication sees it: it always wins."""
    return dedup.Digest(
        row["key"],
        row["pmcid"],
        row["split"],
        row["pixel_sha256"] or f"key:{row['key']}",
        dedup.parse_phash(row["phash"] or ""),
        "",  # no caption hash in the index: a copy is reported as "same image"
        (RELEASED_RANK, dedup.pmcid_number(row["pmcid"]), row["key"]),
    )
