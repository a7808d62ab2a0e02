"""The build pipeline: listing -> metadata gate -> JATS -> images -> shards + rejects.

``run_build`` resolves the source and its inventory before the pipeline starts, so a bad
location or a missing inventory is a one-line error rather than a failed job.
"""

from __future__ import annotations

import logging
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.stages import ProcessArticles
from pipelines.write import WriteDataset
from pmc15m.config import BuildConfig
from pmc15m.jats import ParseConfig
from pmc15m.manifest import manifest_header, read_manifest
from pmc15m.sources.base import open_source

log = logging.getLogger(__name__)


def build_pipeline(
    pipeline: beam.Pipeline,
    *,
    location: str,
    output: str,
    part_keys: list[str],
    header: dict[str, Any],
    config: BuildConfig,
    parse_config: ParseConfig,
    inventory_date: str | None = None,
) -> beam.PCollection:
    """Add the whole build to ``pipeline``; returns the PCollection of the manifest path."""
    results = (
        pipeline
        | "InventoryParts" >> beam.Create(part_keys)
        | "ProcessArticles" >> ProcessArticles(location, inventory_date, config, parse_config)
    )
    return results | "WriteDataset" >> WriteDataset(
        output, header["build_id"], config.shard_size, config.reject_shard_size, header
    )


def run_build(
    location: str,
    output: str,
    config: BuildConfig,
    beam_args: list[str],
    *,
    parse_config: ParseConfig | None = None,
    inventory_date: str | None = None,
) -> dict[str, Any]:
    """Run a complete build and return its manifest."""
    source = open_source(location, inventory_date)
    part_keys = source.inventory_parts()
    snapshot = source.snapshot()
    inventory_date = snapshot.get("inventory_date", inventory_date)
    header = manifest_header(config, snapshot)
    header["source_location"] = location
    log.info("building %s from %s (inventory %s, %d parts)", output, location, inventory_date, len(part_keys))
    with beam.Pipeline(options=PipelineOptions(beam_args)) as pipeline:
        build_pipeline(
            pipeline,
            location=location,
            output=output,
            part_keys=part_keys,
            header=header,
            config=config,
            parse_config=parse_config or ParseConfig(),
            inventory_date=inventory_date,
        )
    return read_manifest(output)
