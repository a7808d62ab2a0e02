"""The selection stage: listed versions -> the articles the build was asked for.

It runs before the newest-version choice, so an article outside the selection leaves no
``superseded_version`` rows either: unselected articles are counted (``not_selected``),
never rejected. The per-article tests (PMCID list, sample fraction) run before the
shuffle that groups versions by PMCID, so a 1,000-article list does not shuffle the whole
listing; the limit runs after it, on unique PMCIDs, with Beam's ``Top.SmallestPerKey``
over ``rank_key`` (combiner-lifted, so each worker sends on only its N smallest). Only
the N-th smallest key is then joined back to the articles, through a GroupByKey rather
than a side input (``pipelines.portable``: the Dask runner mistranslates side inputs and
tagged outputs), so the limit picks the same articles on any runner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.portable import JoinTotals, Routed, Routes
from pmc15m.core.record import ArticleVersion
from pmc15m.rules.selection import OVER_LIMIT, Selection, rank_key

NOT_SELECTED = "not_selected"
_NAMESPACE = "pmc15m"
_LIMIT = "limit"  # the one group the limit's threshold is computed over and joined on

Article = tuple[str, list[ArticleVersion]]


def _not_selected(version: ArticleVersion, reason: str) -> Routed:
    Metrics.counter(_NAMESPACE, f"not_selected_{reason}").inc()
    return Routed(NOT_SELECTED, version)


def _keep(version: ArticleVersion, selection: Selection) -> Iterator[Any]:
    reason = selection.keep(version)
    yield version if reason is None else _not_selected(version, reason)


def _threshold(item: tuple[str, list[tuple[int, str]]]) -> tuple[str, tuple[int, str]]:
    group, smallest = item
    return group, smallest[-1]


def _within_limit(joined: tuple[str, tuple[int, str], Article]) -> Iterator[Any]:
    _, threshold, (pmcid, versions) = joined
    if rank_key(pmcid) <= threshold:
        yield pmcid, versions
        return
    for version in versions:
        yield _not_selected(version, OVER_LIMIT)


class _Limit(beam.PTransform):
    """Articles -> ``articles`` within the limit, ``not_selected`` versions of the rest."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def expand(self, articles: beam.PCollection) -> dict[str, beam.PCollection]:
        threshold = (
            articles
            | "RankKey" >> beam.Map(lambda item: (_LIMIT, rank_key(item[0])))
            | "SmallestRanks" >> beam.combiners.Top.SmallestPerKey(self.limit)
            | "Threshold" >> beam.Map(_threshold)
        )
        items = articles | "OneGroup" >> beam.Map(lambda item: (_LIMIT, item))
        return (
            {"items": items, "totals": threshold}
            | "JoinThreshold" >> JoinTotals(lambda item: item[0])
            | "WithinLimit" >> Routes(beam.FlatMap(_within_limit), [NOT_SELECTED], "articles")
        )


class SelectArticles(beam.PTransform):
    """Article versions -> ``articles``: ``(pmcid, [versions])`` of every selected article,
    and ``not_selected``: the versions left out (for the funnel count).
    """

    def __init__(self, selection: Selection | None = None) -> None:
        super().__init__()
        self.selection = selection or Selection()

    def expand(self, listed: beam.PCollection) -> dict[str, beam.PCollection]:
        kept = listed | "KeepSelected" >> Routes(beam.FlatMap(_keep, self.selection), [NOT_SELECTED], "kept")
        articles = (
            kept["kept"]
            | "ByPmcid" >> beam.Map(lambda v: (v.pmcid, v))
            | "GroupVersions" >> beam.GroupByKey()
            | "VersionLists" >> beam.MapTuple(lambda pmcid, versions: (pmcid, list(versions)))
        )
        left_out = [kept[NOT_SELECTED]]
        if self.selection.limit is not None:
            limited = articles | "Limit" >> _Limit(self.selection.limit)
            articles = limited["articles"]
            left_out.append(limited[NOT_SELECTED])
        not_selected = tuple(left_out) | "AllNotSelected" >> beam.Flatten()
        return {"articles": articles, NOT_SELECTED: not_selected}
