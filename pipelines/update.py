"""``pmc15m build --update DIR``: refresh a previous build with only what changed.

The driver lists the current inventory, compares it with the previous build's index
(``pmc15m.shards.plan.plan_update``), and runs the normal build graph restricted to the PMCIDs
whose newest version is new or changed. Deduplication also sees the released live
samples (``pipelines.index.ReleasedDigests``), which always win; the write step numbers the
new shards and reject files after the last ones, rewrites the released shards that hold
retired samples (``pmc15m.shards.compact``, in parallel), and writes the tombstones and the merged
index before the manifest (``pmc15m.shards.update`` explains what is and is not rewritten). The
command's front end (argument checks, summary) is ``pipelines.cli.build``'s.

Listing runs in the driver: the index has to be compared with the listing as a whole
before the graph can be restricted, and at PMC's ~8 million versions that is a few
hundred MB of (pmcid, version, ETag) rows, read once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from pipelines.build import execute_build
from pmc15m.core.config import BuildConfig
from pmc15m.rules.selection import Selection
from pmc15m.shards import index, update
from pmc15m.shards import plan as index_plan
from pmc15m.shards.format import ARTICLES_FILE
from pmc15m.shards.manifest import manifest_header
from pmc15m.sources.base import Source
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.storage import fs, journal, progress

log = logging.getLogger(__name__)

# An update whose work is only tombstones (articles removed) processes no PMCID; a
# selection cannot be empty, so it names one that no listing holds.
_NOTHING = frozenset({"PMC0"})


def list_inventory(
    location: str, inventory_date: str | None, options: SourceOptions | None, source: Source | None = None
) -> tuple[dict[str, str], list[str], list[tuple[str, int, str]]]:
    """(source snapshot, inventory part keys, [(pmcid, version, etag)]) of the current listing."""
    source = source or open_source(location, inventory_date, options)
    parts = source.inventory_parts()
    listed = [(v.pmcid, v.version, v.etag) for part in parts for v in source.list_part(part)]
    return source.snapshot(), parts, listed


def _process_digest(pmcids: frozenset[str]) -> str:
    return hashlib.sha256("\n".join(sorted(pmcids)).encode()).hexdigest()


def plan(
    output: str,
    config: BuildConfig,
    location: str,
    inventory_date: str | None,
    options: SourceOptions | None,
    source: Source | None = None,
) -> tuple[update.UpdateContext, dict[str, Any], list[str]]:
    """Stage the base, list, compare; return the update context, the header and the parts."""
    base = update.stage_base(output, config)
    doc = update.read_base(base)
    previous = doc["manifest"]
    snapshot, parts, listed = list_inventory(location, inventory_date, options, source)
    previous_articles = [
        index_plan.IndexedArticle.from_row(r)
        for r in index.read_table_rows(index.index_path(base, ARTICLES_FILE))
    ]
    indexed, earlier = update.base_samples(base), update.base_tombstones(base)  # read once
    dependents = update.duplicates_by_representative(output, doc["reject_files"])
    live = index_plan.live_sample_rows(indexed, earlier)
    the_plan = update.plan_with_dependents(previous_articles, live, listed, dependents)
    processed = the_plan.process_pmcids
    selection = {
        "pmcids": None,
        "limit": None,
        "sample_fraction": None,
        "update": {"of": previous["build_id"], "process_sha256": _process_digest(processed)},
    }
    header = manifest_header(config, snapshot, selection)
    header["source_location"] = location
    for row in the_plan.tombstones:
        row["build_id"] = header["build_id"]
    context = update.UpdateContext(
        base_dir=base,
        previous_build_id=previous["build_id"],
        processed=processed,
        tombstones=the_plan.tombstones,
        summary=the_plan.summary(),
        sizes=doc["sizes"],
        reject_files=doc["reject_files"],
        previous_manifest=previous,
        compactions=update.shards_to_compact(indexed, earlier, the_plan.tombstones),
    )
    return context, header, parts


def run_update(
    location: str,
    output: str,
    config: BuildConfig,
    beam_args: list[str],
    *,
    inventory_date: str | None = None,
    fs_options: fs.FsOptions | None = None,
    source_options: SourceOptions | None = None,
    keep_work: bool = False,
    source: Source | None = None,
) -> dict[str, Any]:
    """Update the build at ``output`` in place; return the new manifest (``source``: the
    listing already opened, as ``pipelines.build.run_build`` takes it).

    An update with nothing to do (no new or changed version, nothing removed) writes
    nothing and returns the previous manifest with ``"up_to_date": True``.
    """
    fs.configure(fs_options)
    progress.reset()
    context, header, parts = plan(output, config, location, inventory_date, source_options, source)
    log.info("update of %s: %s", output, context.summary)
    if not context.processed and not context.tombstones:
        journal.remove_work(output)
        return {**context.previous_manifest, "up_to_date": True}
    return execute_build(
        beam_args,
        keep_work=keep_work,
        before_cleanup=lambda: fs.rmtree(context.base_dir),  # the next update plans from the new index
        location=location,
        output=output,
        part_keys=parts,
        header=header,
        config=config,
        inventory_date=header["source"].get("inventory_date", inventory_date),
        fs_options=fs_options,
        selection=Selection(pmcids=context.processed or _NOTHING),
        source_options=source_options,
        update=context,
    )
