"""Composite PTransforms for the stages from listing to processed samples.

Each DoFn is a thin wrapper over a function of ``pmc15m.stages``: it opens its source in
``setup`` (clients are per worker, never pickled), routes rejections to the ``rejects``
tagged output and counts them by reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.fetch import Batch, PooledSourceDoFn, batch_size
from pipelines.journal import journaled
from pipelines.portable import Routed, Routes
from pipelines.select import NOT_SELECTED, SelectArticles
from pmc15m import stages
from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.core.record import ArticleMeta, ArticleVersion, ParsedArticle, Sample
from pmc15m.rules.selection import Selection
from pmc15m.sources.options import SourceOptions
from pmc15m.storage import progress

REJECTS = "rejects"
NAMESPACE = "pmc15m"


def _reject(sample: Sample) -> Routed:
    Metrics.counter(NAMESPACE, f"rejected_{sample.reject_reason}").inc()
    return Routed(REJECTS, sample)


class _SourceDoFn(PooledSourceDoFn):
    """Reads from the build's source (opened once per worker), many reads in flight.

    Each takes the groups ``Batch`` makes: ``work`` runs on the pool's threads, ``emit``
    routes and counts in the bundle's thread (``pipelines.fetch``), which also hands the
    source's own counts (retries, ignored tar members ...) to Beam metrics.
    """

    def __init__(
        self, location: str, inventory_date: str | None, config: BuildConfig, options: SourceOptions | None
    ) -> None:
        super().__init__(location, inventory_date, options)
        self.config = config


class _ReadInventoryPartFn(_SourceDoFn):
    def work(self, part_key: str) -> list[ArticleVersion]:
        return list(self.source.list_part(part_key))

    def emit(self, versions: list[ArticleVersion]) -> Iterator[ArticleVersion]:
        yield from versions


class _ReadMetadataFn(_SourceDoFn):
    def work(self, version: ArticleVersion) -> ArticleMeta | Sample:
        return stages.read_metadata(self.source, version, self.config)

    def emit(self, result: ArticleMeta | Sample) -> Iterator[Any]:
        yield _reject(result) if isinstance(result, Sample) else result


class _ExtractFiguresFn(_SourceDoFn):
    def __init__(
        self, location: str, inventory_date: str | None, config: BuildConfig, options: SourceOptions | None
    ):
        super().__init__(location, inventory_date, config, options)
        self.no_figures = Metrics.counter(NAMESPACE, "articles_without_figures")

    def work(self, meta: ArticleMeta) -> tuple[ArticleMeta, ParsedArticle | Sample, list[Sample]]:
        article = stages.read_article(self.source, meta, self.config.parse)
        if isinstance(article, Sample):
            return meta, article, []
        gated = stages.gate_on_article_title(meta, article, self.config)
        if gated is not None:
            return meta, gated, []
        return meta, article, [stages.figure_sample(meta, article, f, self.config) for f in article.figures]

    def emit(self, result: tuple[ArticleMeta, ParsedArticle | Sample, list[Sample]]) -> Iterator[Any]:
        meta, article, samples = result
        progress.tick("articles")
        if isinstance(article, Sample):
            yield _reject(article)
            return
        progress.tick("figures", len(samples))
        yield Routed("parsed", meta.pmcid)
        if not samples:
            self.no_figures.inc()
        for sample in samples:
            yield _reject(sample) if sample.reject_reason else sample


class _AttachImageFn(_SourceDoFn):
    def work(self, sample: Sample) -> Sample:
        return stages.attach_image(self.source, sample, self.config)

    def emit(self, result: Sample) -> Iterator[Any]:
        progress.tick("images")
        yield _reject(result) if result.reject_reason else result


def _version_key(version: ArticleVersion) -> str:
    return f"{version.pmcid}.{version.version}"


def _meta_key(meta: ArticleMeta) -> str:
    return f"{meta.pmcid}.{meta.version}"


def _sample_key(sample: Sample) -> str:
    return sample.key


def _newest_versions(item: tuple[str, Any]) -> Iterator[Any]:
    _, versions = item
    newest, older = stages.split_newest(versions)
    yield newest
    for version in older:
        yield _reject(
            stages.article_reject(
                version.pmcid, version.version, reasons.SUPERSEDED_VERSION, f"v{newest.version}", version.etag
            )
        )


class ProcessArticles(beam.PTransform):
    """Inventory part keys -> processed samples, with every rejection tagged.

    Returns a dict of PCollections: ``samples`` (kept so far), ``rejects``, and the
    funnel stages ``listed``, ``not_selected``, ``selected`` (newest versions), ``gated``,
    ``parsed``, ``figures`` for counting.
    """

    def __init__(
        self,
        location: str,
        inventory_date: str | None,
        config: BuildConfig,
        selection: Selection | None = None,
        options: SourceOptions | None = None,
        work_dir: str | None = None,
    ):
        super().__init__()
        self.args = (location, inventory_date, config, options)
        self.work_dir = work_dir  # the resume journal (pmc15m.storage.journal); None: keep none
        self.batch = batch_size(options)
        self.selection = selection or Selection()

    def _journaled(self, fn: PooledSourceDoFn, stage: str, key_fn: Any) -> beam.DoFn:
        return journaled(fn, stage, key_fn, self.work_dir)

    def expand(self, part_keys: beam.PCollection) -> dict[str, beam.PCollection]:
        listed = (
            part_keys
            | "BatchParts" >> Batch(str, 1)
            | "ReadInventory" >> beam.ParDo(_ReadInventoryPartFn(*self.args))
        )
        chosen = listed | "SelectArticles" >> SelectArticles(self.selection)
        # Routes, not with_outputs: tagged outputs are lost on some runners (pipelines.portable).
        newest = chosen["articles"] | "NewestVersion" >> Routes(
            beam.FlatMap(_newest_versions), [REJECTS], main="selected"
        )
        meta = (
            newest["selected"]
            | "BatchArticles" >> Batch(_version_key, self.batch)
            | "ReadMetadata"
            >> Routes(
                beam.ParDo(self._journaled(_ReadMetadataFn(*self.args), "metadata", _version_key)),
                [REJECTS],
                main="gated",
            )
        )
        extract_fn = _ExtractFiguresFn(*self.args)
        extract = beam.ParDo(self._journaled(extract_fn, "articles", _meta_key))
        figures = (
            meta["gated"]
            | "BatchGated" >> Batch(_meta_key, self.batch)
            | "ExtractFigures" >> Routes(extract, [REJECTS, "parsed"], main="figures")
        )
        images = (
            figures["figures"]
            | "BatchFigures" >> Batch(_sample_key, self.batch)
            | "AttachImage"
            >> Routes(
                beam.ParDo(self._journaled(_AttachImageFn(*self.args), "images", _sample_key)),
                [REJECTS],
                main="samples",
            )
        )
        rejects = (
            newest[REJECTS],
            meta[REJECTS],
            figures[REJECTS],
            images[REJECTS],
        ) | "AllRejects" >> beam.Flatten()
        return {
            "samples": images["samples"],
            "rejects": rejects,
            "listed": listed,
            NOT_SELECTED: chosen[NOT_SELECTED],
            "selected": newest["selected"],
            "gated": meta["gated"],
            "parsed": figures["parsed"],
            "figures": figures["figures"],
        }
