"""The build pipeline: listing -> metadata gate -> JATS -> images -> shards + rejects.

``run_build`` resolves the source and its inventory before the pipeline starts, so a bad
location or a missing inventory is a one-line error rather than a failed job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.beam_options import expand_runner_name
from pipelines.dedup import Deduplicate
from pipelines.index import ArticleFacts, ReleasedDigests
from pipelines.stages import ProcessArticles
from pipelines.write import WriteDataset
from pmc15m.core.config import BuildConfig
from pmc15m.publish.card import write_card
from pmc15m.publish.report import write_report
from pmc15m.rules.selection import Selection
from pmc15m.shards.manifest import manifest_header, read_manifest
from pmc15m.shards.update import UpdateContext
from pmc15m.sources.base import Source
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.storage import fs, journal, progress
from pmc15m.storage.fs import FsOptions

log = logging.getLogger(__name__)


def build_pipeline(
    pipeline: beam.Pipeline,
    *,
    location: str,
    output: str,
    part_keys: list[str],
    header: dict[str, Any],
    config: BuildConfig,
    inventory_date: str | None = None,
    fs_options: FsOptions | None = None,
    selection: Selection | None = None,
    source_options: SourceOptions | None = None,
    work_dir: str | None = None,
    update: UpdateContext | None = None,
) -> beam.PCollection:
    """Add the whole build to ``pipeline``; returns the PCollection of the manifest path.

    ``work_dir``: where the expensive stages journal their results, so a killed build
    started again resumes (``pmc15m.storage.journal``); None keeps no journal. ``update``: the
    previous output this build adds to (``pipelines.update``); None for a full build.
    """
    results = (
        pipeline
        | "InventoryParts" >> beam.Create(part_keys)
        | "ProcessArticles"
        >> ProcessArticles(location, inventory_date, config, selection, source_options, work_dir=work_dir)
    )
    # Duplicates and boilerplate leave the kept samples and join the other rejects.
    released = None if update is None else pipeline | "Released" >> ReleasedDigests(update, fs_options)
    unique = results["samples"] | "Deduplicate" >> Deduplicate(
        config.dedup, released=released, shard_size=config.shard_size
    )
    rejects = (results["rejects"], unique["rejects"]) | "WithDuplicates" >> beam.Flatten()
    results = {**results, "samples": unique["samples"], "placed": unique["placed"], "rejects": rejects}
    results.update(results | "ArticleFacts" >> ArticleFacts())  # for index/ (pipelines.index)
    return results | "WriteDataset" >> WriteDataset(
        output, header["build_id"], config.reject_shard_size, header, fs_options, update
    )


def run_build(
    location: str,
    output: str,
    config: BuildConfig,
    beam_args: list[str],
    *,
    inventory_date: str | None = None,
    fs_options: FsOptions | None = None,
    selection: Selection | None = None,
    source_options: SourceOptions | None = None,
    keep_work: bool = False,
    source: Source | None = None,
) -> dict[str, Any]:
    """Run a complete build, then write its report; return its manifest.

    ``source``: the listing already opened (the command checks it before writing), so
    its inventory is not fetched twice; None opens ``location``.

    Results journaled under ``<output>/_work/<build_id>/`` by an earlier, killed attempt
    with the same build id are reused; ``_work/`` is removed last unless ``keep_work``.
    """
    fs.configure(fs_options)
    progress.reset()
    source = source or open_source(location, inventory_date, source_options)
    part_keys = source.inventory_parts()
    snapshot = source.snapshot()
    inventory_date = snapshot.get("inventory_date", inventory_date)
    selection = selection or Selection()
    header = manifest_header(config, snapshot, selection.describe())
    header["source_location"] = location
    log.info("building %s from %s (inventory %s, %d parts)", output, location, inventory_date, len(part_keys))
    return execute_build(
        beam_args,
        keep_work=keep_work,
        location=location,
        output=output,
        part_keys=part_keys,
        header=header,
        config=config,
        inventory_date=inventory_date,
        fs_options=fs_options,
        selection=selection,
        source_options=source_options,
    )


def execute_build(
    beam_args: list[str],
    *,
    keep_work: bool,
    before_cleanup: Callable[[], None] | None = None,
    **pipeline_args: Any,
) -> dict[str, Any]:
    """Run ``build_pipeline(**pipeline_args)`` with a journal, then the report and the card;
    return the manifest.

    The journal directory is marked started before the pipeline so a killed run is
    recognised as resumable; ``before_cleanup`` runs once the manifest and report exist.
    """
    output = pipeline_args["output"]
    work_dir = journal.work_dir(output, pipeline_args["header"]["build_id"])
    journal.mark_started(work_dir)
    # DirectRunner (or no runner) -> pipelines.local_runner: Beam's would download Prism first
    with beam.Pipeline(options=PipelineOptions(expand_runner_name(beam_args))) as pipeline:
        build_pipeline(pipeline, work_dir=work_dir, **pipeline_args)
    manifest = read_manifest(output)
    write_report(output, manifest)
    write_card(output, manifest)  # datasets.load_dataset(output) reads the tars (pmc15m.publish.card)
    if before_cleanup is not None:
        before_cleanup()
    if not keep_work:
        journal.remove_work(output)
    return manifest
