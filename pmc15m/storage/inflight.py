"""Many reads in flight from one worker: a bounded thread pool with a completion queue.

One request at a time leaves a worker idle for the whole round trip (tens of ms to S3);
``size`` requests in flight divide that idle time by ``size``. Threads suit this work:
the waiting happens in sockets, which release the GIL, and boto3 clients and urllib3
pools are thread-safe. At most ``2 * size`` items are queued, so the pool always has the
next request ready while finished ones are handed back, and memory stays bounded.

Results come back in the order they finish (a slow item holds back nobody), so the
output order depends on timing. Nothing downstream may depend on it: shards and rejects
are sorted by key before they are written.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class InFlight(Generic[T, R]):
    """Runs ``fn`` over submitted items on ``size`` threads, at most ``2 * size`` queued."""

    def __init__(self, fn: Callable[[T], R], size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.fn = fn
        self.size = size
        self.window = 2 * size
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="pmc15m-read")
        self._finished: queue.SimpleQueue[tuple[Any, Future[R]]] = queue.SimpleQueue()
        self._pending = 0

    def __len__(self) -> int:
        """Items submitted and not yet handed back."""
        return self._pending

    def submit(self, item: T, tag: Any = None) -> list[tuple[Any, R]]:
        """Queue ``item``; return ``(tag, result)`` of every item finished by now.

        Blocks while the window is full. A failure of ``fn`` (a bug, not a recorded
        rejection) is raised here, in the caller's thread, so the runner sees it.
        """
        future = self._pool.submit(self.fn, item)
        future.add_done_callback(lambda done: self._finished.put((tag, done)))
        self._pending += 1
        ready = []
        while self._pending >= self.window:
            ready.append(self._take(block=True))
        while self._pending:
            try:
                ready.append(self._take(block=False))
            except queue.Empty:
                break
        return ready

    def drain(self) -> Iterator[tuple[Any, R]]:
        """Every remaining ``(tag, result)``, as each finishes."""
        while self._pending:
            yield self._take(block=True)

    def _take(self, block: bool) -> tuple[Any, R]:
        tag, future = self._finished.get(block=block)
        self._pending -= 1
        return tag, future.result()

    def close(self) -> None:
        """Stop the threads (waiting for running items; queued ones are cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending = 0
