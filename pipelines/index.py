"""The build index in Beam: every listed article version's outcome, and the finalisation
step that writes ``index/`` (and, for an update, ``tombstones/``) before the manifest.

Article outcomes come from the PCollections the build already has (listed versions, the
unselected ones, article-level rejects and the kept samples): small facts that travel
with the write step's summary (``Gather``) and are joined in memory there. The
sample rows are read back from the shard Parquet files just written, so the index says
exactly what the shards hold. ``ReleasedDigests`` reads the other way: an update's base
index, as the digests deduplication ranks first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from pmc15m.core.record import ArticleVersion, Sample, is_article_key
from pmc15m.rules.dedup import Digest
from pmc15m.shards import index, plan, update
from pmc15m.storage import fs

FACT_LISTED, FACT_OUTCOMES, FACT_KEPT = "index_listed", "index_outcomes", "index_kept"
FACTS = (FACT_LISTED, FACT_OUTCOMES, FACT_KEPT)


def _listed(version: ArticleVersion) -> tuple[str, int, str]:
    return version.pmcid, version.version, version.etag


def _not_selected(version: ArticleVersion) -> tuple[str, int, str]:
    return version.pmcid, version.version, index.NOT_SELECTED


def _article_rejects(sample: Sample) -> Iterator[tuple[str, int, str]]:
    if is_article_key(sample.key):
        yield sample.pmcid, sample.version, sample.reject_reason


def _kept(sample: Sample) -> tuple[str, int]:
    return sample.pmcid, sample.version


class ArticleFacts(beam.PTransform):
    """The build's PCollections -> the small facts the article index is made of.

    Returns ``{FACT_LISTED: (pmcid, version, etag), FACT_OUTCOMES: (pmcid, version,
    outcome), FACT_KEPT: (pmcid, version) per kept sample}``; the write step gathers them
    with its summary (no shuffle of their own: each shuffle is costly on the Dask runner)
    and ``index.rows_from_facts`` joins them.
    """

    def expand(self, pcolls: dict[str, beam.PCollection]) -> dict[str, beam.PCollection]:
        outcomes = [pcolls["rejects"] | "ArticleRejects" >> beam.FlatMap(_article_rejects)]
        if "not_selected" in pcolls:
            outcomes.append(pcolls["not_selected"] | "NotSelected" >> beam.Map(_not_selected))
        return {
            FACT_LISTED: pcolls["listed"] | "Listed" >> beam.Map(_listed),
            FACT_OUTCOMES: tuple(outcomes) | "AllOutcomes" >> beam.Flatten(),
            FACT_KEPT: pcolls["samples"] | "Kept" >> beam.Map(_kept),
        }


class _ReleasedFn(beam.DoFn):
    """The base index's live samples, minus this update's tombstones, as digests."""

    def __init__(self, context: update.UpdateContext, fs_options: fs.FsOptions | None) -> None:
        self.context = context
        self.fs_options = fs_options

    def setup(self) -> None:
        if self.fs_options is not None:
            fs.configure(self.fs_options)

    def process(self, base: str) -> Iterator[tuple[str, Digest]]:
        rows = plan.live_sample_rows(update.base_live_samples(base), self.context.tombstones)
        for row in rows:
            digest = update.released_digest(row)
            yield digest.image_key, digest


class ReleasedDigests(beam.PTransform):
    """Pipeline root -> ``(image key, Digest)`` of every released live sample."""

    def __init__(self, context: update.UpdateContext, fs_options: fs.FsOptions | None = None) -> None:
        super().__init__()
        self.context = context
        self.fs_options = fs_options

    def expand(self, root: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            root
            | "BaseDir" >> beam.Create([self.context.base_dir])
            | "ReadReleased" >> beam.ParDo(_ReleasedFn(self.context, self.fs_options))
        )  # no Reshuffle: deduplication groups the digests by image key next anyway


def finish_index(
    summary: dict[str, list[Any]],
    output: str,
    header: dict[str, Any],
    context: update.UpdateContext | None,
) -> dict[str, Any]:
    """Write ``index/`` (and an update's tombstones); return the manifest fields to add.

    Runs in the finalisation step, before the manifest: a build whose manifest exists has
    its index too.
    """
    shard_stats = summary.get("shards", [])
    articles = index.rows_from_facts(
        summary.get(FACT_LISTED, []),
        summary.get(FACT_OUTCOMES, []),
        summary.get(FACT_KEPT, []),
        header["build_id"],
    )
    if context is not None:
        rejects = sum(summary.get("rejects_written", []))
        written = {"shards": shard_stats, "compacted": summary.get("compacted", [])}
        return update.finish_update(context, output, header["build_id"], written, articles, rejects)
    samples = [row for s in shard_stats for row in index.shard_sample_rows(output, s["split"], s["name"])]
    index.write_index(output, articles, samples)
    return {}
