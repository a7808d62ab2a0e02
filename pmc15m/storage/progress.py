"""Progress of a long build while it runs: counts and rates, one line every few seconds.

Beam's local runner returns metrics only when the pipeline is done, so a build of a million
articles would otherwise be silent for hours. Each worker process keeps its own counters
and logs one INFO line on ``pmc15m.storage.progress`` at most every ``interval`` seconds (default 10,
``PMC15M_PROGRESS_SECONDS`` overrides), never one per element. The CLI shows this logger on
stderr by default.

    progress [pid 4242] 52.0 s: articles 1,200 (+231, 23.1/s), figures 6,031 (+1,160, 116.0/s), ...

Rates are over the last interval (what the worker is doing now), not since the start: a
stage that has finished shows its count without a rate.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

LOGGER_NAME = "pmc15m.storage.progress"
INTERVAL_ENV = "PMC15M_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 10.0
# Counters in pipeline order; anything else follows alphabetically.
ORDER = ("articles", "figures", "images", "samples_written", "rejects_written")

_log = logging.getLogger(LOGGER_NAME)


def _interval_from_env() -> float:
    try:
        return max(0.0, float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


class Progress:
    """Thread-safe counters that log a summary line when ``interval`` seconds have passed."""

    def __init__(
        self,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = _log,
    ) -> None:
        self.interval = _interval_from_env() if interval is None else interval
        self._clock = clock
        self._logger = logger
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._logged: dict[str, int] = {}  # counts at the previous line
        self._start: float | None = None
        self._last = 0.0

    def tick(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``; log a line if the interval has passed since the last."""
        with self._lock:
            now = self._clock()
            if self._start is None:
                self._start = self._last = now
            self._counts[name] = self._counts.get(name, 0) + n
            if now - self._last < self.interval or not self._logger.isEnabledFor(logging.INFO):
                return
            line = self.line(now)
            self._last = now
            self._logged = dict(self._counts)
        self._logger.info("%s", line)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def line(self, now: float) -> str:
        """``progress [pid N] T s: name count (+delta, rate/s), ...`` for the counters seen so far."""
        elapsed = now - (self._start if self._start is not None else now)
        window = now - self._last
        names = [n for n in ORDER if n in self._counts]
        names += sorted(n for n in self._counts if n not in ORDER)
        parts = []
        for name in names:
            count = self._counts[name]
            delta = count - self._logged.get(name, 0)
            rate = f" (+{delta:,}, {delta / window:,.1f}/s)" if delta and window > 0 else ""
            parts.append(f"{name} {count:,}{rate}")
        return f"progress [pid {os.getpid()}] {elapsed:.1f} s: " + ", ".join(parts)


_default: Progress | None = None
_default_lock = threading.Lock()


def _progress() -> Progress:
    global _default
    with _default_lock:
        if _default is None:
            _default = Progress()
        return _default


def tick(name: str, n: int = 1) -> None:
    """Count ``n`` more of ``name`` in this process's progress (cheap; logs rarely)."""
    _progress().tick(name, n)


def reset() -> None:
    """Start counting afresh (a new build in the same process), re-reading the interval."""
    global _default
    with _default_lock:
        _default = None


def show_on_stderr(enabled: bool = True) -> None:
    """Let progress lines through at INFO even when the rest of the logging is quieter."""
    _log.setLevel(logging.INFO if enabled else logging.WARNING)
