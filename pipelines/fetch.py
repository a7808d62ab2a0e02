"""Many source reads in flight per worker, the same way on every runner.

One request at a time leaves a worker idle for each round trip, so a stage that reads
the source takes its elements in groups (``Batch``) and a ``PooledSourceDoFn`` runs the
per-element work of a whole group on a bounded thread pool (``pmc15m.storage.inflight``),
``SourceOptions.concurrency`` requests in flight, yielding outputs as they finish.

Why groups and not a window across ``process`` calls flushed in ``finish_bundle``: Beam
2.77's Dask runner collects a bundle's outputs *before* it calls ``finish_bundle``, so
whatever a DoFn emits there is silently lost (``runners/dask/transform_evaluator.py``,
``apply_dofn_to_bundle``). Emitting everything from ``process`` is safe on every runner.

``Batch`` is a GroupByKey on a hash of each element's key over ``ceil(n / size)``
buckets (at least ``MIN_GROUPS``), ``n`` counted and joined without side inputs
(``pipelines.portable``): groups hold at most about ``size`` elements whether the build
reads sixty articles or eight million, and, like the Reshuffle it replaces, it spreads
the work over the workers.

Only ``emit`` runs in the bundle's thread, so it is the one place that increments Beam
metrics (a counter incremented in a pool thread is lost: Beam keeps its metrics
container per thread); the source's own counts (retries, ignored tar members ...) are
handed to Beam from there too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.portable import JoinTotals
from pmc15m.rules.splits import unit_hash
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.storage.inflight import InFlight

NAMESPACE = "pmc15m"
_ALL = "all"
# The fewest groups ``Batch`` cuts an input of at least that many elements into. A group is
# the unit of work a runner hands to a worker, so without it a small build (400 articles:
# one group of 512) runs each stage on one worker while the others idle; a full build
# makes thousands of groups anyway.
MIN_GROUPS = 16


def batch_size(options: SourceOptions | None) -> int:
    """Elements per group: many times the requests in flight, so that the end of a group,
    when fewer and fewer requests are left in flight, is a small part of its time."""
    return 16 * (options or SourceOptions()).concurrency


def _bucketed(joined: tuple[str, int, Any], key_fn: Callable[[Any], str], size: int) -> tuple[int, Any]:
    _, total, item = joined
    total = total or 1
    buckets = max(math.ceil(total / size), min(MIN_GROUPS, total))
    return int(unit_hash(key_fn(item), "batch") * buckets), item


class Batch(beam.PTransform):
    """Elements -> lists of about ``size`` elements, sorted by ``key_fn`` (see module doc)."""

    def __init__(self, key_fn: Callable[[Any], str], size: int) -> None:
        super().__init__()
        self.key_fn = key_fn
        self.size = size

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        key_fn = self.key_fn
        totals = pcoll | "Name" >> beam.Map(lambda _: _ALL) | "Count" >> beam.combiners.Count.PerElement()
        items = pcoll | "Keyed" >> beam.Map(lambda item: (_ALL, item))
        return (
            {"items": items, "totals": totals}
            | "JoinCount" >> JoinTotals(key_fn)
            | "Bucket" >> beam.Map(_bucketed, key_fn, self.size)
            | "Group" >> beam.GroupByKey()
            | "Sort" >> beam.Map(lambda group: sorted(group[1], key=key_fn))
        )


class PooledSourceDoFn(beam.DoFn):
    """Takes groups from ``Batch``; runs ``work`` on a thread pool, ``emit`` in the bundle.

    Subclasses implement ``work(element)`` (pool thread: plain ``pmc15m`` calls, no Beam)
    and ``emit(result)`` (bundle thread: routing, counting). The source is opened in
    ``setup``, once per DoFn instance, with a connection pool sized to the concurrency.
    """

    def __init__(self, location: str, inventory_date: str | None, options: SourceOptions | None) -> None:
        self.location = location
        self.inventory_date = inventory_date
        self.options = options or SourceOptions()
        self.source: Any = None
        self._inflight: InFlight | None = None

    def setup(self) -> None:
        self.source = open_source(self.location, self.inventory_date, self.options)
        self._inflight = InFlight(self.work, self.options.concurrency)

    def work(self, element: Any) -> Any:
        raise NotImplementedError

    def emit(self, result: Any) -> Iterable[Any]:
        raise NotImplementedError

    def process(self, group: Iterable[Any]) -> Iterator[Any]:
        assert self._inflight is not None, "setup() was not called"
        for element in group:
            for _, result in self._inflight.submit(element):
                yield from self.emit(result)
        for _, result in self._inflight.drain():
            yield from self.emit(result)
        self._count_source_events()

    def teardown(self) -> None:
        if self._inflight is not None:
            self._inflight.close()
            self._inflight = None

    def _count_source_events(self) -> None:
        for name, n in self.source.take_counts().items():
            Metrics.counter(NAMESPACE, name).inc(n)
