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
from apache_beam.pvalue import TaggedOutput

from pmc15m import reasons, stages
from pmc15m.config import BuildConfig
from pmc15m.inventory import parse_inventory_part
from pmc15m.jats import ParseConfig
from pmc15m.record import ArticleMeta, ArticleVersion, Sample
from pmc15m.sources.base import open_source

REJECTS = "rejects"
NAMESPACE = "pmc15m"


def _reject(sample: Sample) -> TaggedOutput:
    Metrics.counter(NAMESPACE, f"rejected_{sample.reject_reason}").inc()
    return TaggedOutput(REJECTS, sample)


class _SourceDoFn(beam.DoFn):
    """A DoFn that reads from the build's source, opened once per worker."""

    def __init__(self, location: str, inventory_date: str | None, config: BuildConfig) -> None:
        self.location = location
        self.inventory_date = inventory_date
        self.config = config
        self.source: Any = None

    def setup(self) -> None:
        self.source = open_source(self.location, self.inventory_date)


class _ReadInventoryPartFn(_SourceDoFn):
    def process(self, part_key: str) -> Iterator[ArticleVersion]:
        yield from parse_inventory_part(self.source.read(part_key))


class _ReadMetadataFn(_SourceDoFn):
    def process(self, version: ArticleVersion) -> Iterator[Any]:
        result = stages.read_metadata(self.source, version, self.config)
        yield _reject(result) if isinstance(result, Sample) else result


class _ExtractFiguresFn(_SourceDoFn):
    def __init__(self, location: str, inventory_date: str | None, config: BuildConfig, parse: ParseConfig):
        super().__init__(location, inventory_date, config)
        self.parse = parse
        self.no_figures = Metrics.counter(NAMESPACE, "articles_without_figures")

    def process(self, meta: ArticleMeta) -> Iterator[Any]:
        article = stages.read_article(self.source, meta, self.parse)
        if isinstance(article, Sample):
            yield _reject(article)
            return
        yield TaggedOutput("parsed", meta.pmcid)
        if not article.figures:
            self.no_figures.inc()
        for figure in article.figures:
            sample = stages.figure_sample(meta, article, figure, self.config)
            yield _reject(sample) if sample.reject_reason else sample


class _AttachImageFn(_SourceDoFn):
    def process(self, sample: Sample) -> Iterator[Any]:
        result = stages.attach_image(self.source, sample, self.config)
        yield _reject(result) if result.reject_reason else result


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
    funnel stages ``listed``, ``selected``, ``gated``, ``parsed``, ``figures`` for counting.
    """

    def __init__(self, location: str, inventory_date: str | None, config: BuildConfig, parse: ParseConfig):
        super().__init__()
        self.args = (location, inventory_date, config)
        self.parse = parse

    def expand(self, part_keys: beam.PCollection) -> dict[str, beam.PCollection]:
        listed = (
            part_keys
            | "ReshuffleParts" >> beam.Reshuffle()
            | "ReadInventory" >> beam.ParDo(_ReadInventoryPartFn(*self.args))
        )
        newest = (
            listed
            | "ByPmcid" >> beam.Map(lambda v: (v.pmcid, v))
            | "GroupVersions" >> beam.GroupByKey()
            | "NewestVersion" >> beam.FlatMap(_newest_versions).with_outputs(REJECTS, main="selected")
        )
        meta = (
            newest.selected
            | "ReshuffleArticles" >> beam.Reshuffle()
            | "ReadMetadata" >> beam.ParDo(_ReadMetadataFn(*self.args)).with_outputs(REJECTS, main="gated")
        )
        figures = meta.gated | "ExtractFigures" >> beam.ParDo(
            _ExtractFiguresFn(*self.args, self.parse)
        ).with_outputs(REJECTS, "parsed", main="figures")
        images = (
            figures.figures
            | "ReshuffleFigures" >> beam.Reshuffle()
            | "AttachImage" >> beam.ParDo(_AttachImageFn(*self.args)).with_outputs(REJECTS, main="samples")
        )
        rejects = (
            newest[REJECTS],
            meta[REJECTS],
            figures[REJECTS],
            images[REJECTS],
        ) | "AllRejects" >> beam.Flatten()
        return {
            "samples": images.samples,
            "rejects": rejects,
            "listed": listed,
            "selected": newest.selected,
            "gated": meta.gated,
            "parsed": figures.parsed,
            "figures": figures.figures,
        }
