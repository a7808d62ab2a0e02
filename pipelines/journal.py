"""Beam wiring of the resume journal (``pmc15m.storage.journal``) around the source-reading DoFns.

``journaled(fn, stage, key_fn, work_dir)`` wraps a ``PooledSourceDoFn``: its per-element
``work`` first looks the element's key up in the journal of the element's group (results
an earlier, killed attempt of the same build already computed) and only does the work
when it is missing, recording the new result. Each group (one ``process`` call, a list
sorted by key) has its own journal folder, loaded when the group starts, so a worker
holds one group's results, never a stage's (``pmc15m.storage.journal``). Everything downstream
(routing, counting, dedup, writing) sees the same results either way, so a resumed build
writes the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.fetch import NAMESPACE, PooledSourceDoFn
from pmc15m.storage.journal import MISSING, Journal, group_name

log = logging.getLogger(__name__)


class JournaledFn(beam.DoFn):
    """Delegates to ``inner``, skipping elements whose result the journal already holds."""

    def __init__(
        self, inner: PooledSourceDoFn, stage: str, key_fn: Callable[[Any], str], work_dir: str
    ) -> None:
        self.inner = inner
        self.stage = stage
        self.key_fn = key_fn
        self.work_dir = work_dir
        self.journal: Journal | None = None

    def setup(self) -> None:
        # The inner DoFn hands ``self.work`` to its thread pool in setup: route it through us.
        self.inner.work = self._work  # type: ignore[method-assign]
        self.inner.setup()

    def _work(self, element: Any) -> Any:
        assert self.journal is not None
        key = self.key_fn(element)
        result = self.journal.get(key)
        if result is MISSING:
            result = type(self.inner).work(self.inner, element)
            self.journal.record(key, result)
        return result

    def process(self, group: Iterable[Any]) -> Iterator[Any]:
        elements = list(group)
        if not elements:
            return
        self._flush()  # the previous group's journal, if a bundle ended without finish_bundle
        name = group_name(self.key_fn(elements[0]))
        self.journal = Journal(self.work_dir, self.stage, group=name)
        self.journal.load()
        yield from self.inner.process(elements)  # drains its pool: no work outlives the group
        self._flush()

    def finish_bundle(self) -> None:
        self._flush()

    def teardown(self) -> None:
        self._flush()
        self.inner.teardown()

    def _flush(self) -> None:
        if self.journal is None:
            return
        self.journal.flush()
        for name, n in self.journal.take_counts().items():
            if n:
                Metrics.counter(NAMESPACE, f"journal_{self.stage}_{name}").inc(n)
                log.info("journal %s: %d %s", self.stage, n, name)


def journaled(
    fn: PooledSourceDoFn, stage: str, key_fn: Callable[[Any], str], work_dir: str | None
) -> beam.DoFn:
    """``fn`` journaled under ``work_dir`` (``fn`` itself when the build keeps no journal)."""
    return fn if work_dir is None else JournaledFn(fn, stage, key_fn, work_dir)
