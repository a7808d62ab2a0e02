"""Retries for object reads: exponential backoff with full jitter, and two budgets.

Remote reads fail in ways that go away (503 SlowDown, other 5xx, timeouts, connection
resets, bodies shorter than their Content-Length, bytes that do not match their checksum)
and in ways that do not (403, 404). Only the first kind is retried, here and nowhere else:
botocore's and urllib3's own retries are switched off by the sources, so one policy
decides and every attempt is counted.

Two budgets bound the time lost to a sick endpoint:

- per object, at most ``attempts`` tries, sleeping ``uniform(0, min(max_delay,
  base_delay * 2**n))`` before try ``n + 1`` ("full jitter": concurrent readers that were
  throttled together do not come back together);
- per worker process, a token bucket shared by every reader of the same endpoint: a retry
  spends one token, a success earns back ``refill`` tokens, up to ``budget``. A short burst
  of faults is retried in full; when an endpoint fails nearly everything, the bucket runs
  dry and reads fail at once (as ``fetch_failed``, a recorded rejection that a rerun can
  recover) instead of every object sleeping through its own backoff.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from pmc15m.sources.errors import ChecksumMismatch, FetchFailed, ObjectMissing

# Kinds of transient failure: each is counted as ``retry_<kind>`` and names the cause of a
# ``fetch_failed`` rejection.
THROTTLED = "throttled"  # 429, 503 SlowDown
SERVER_ERROR = "server_error"  # 500, 502, 504
TIMEOUT = "timeout"  # connect or read timeout, 408, S3's 400 RequestTimeout
CONNECTION = "connection"  # refused, reset, closed before the response
SHORT_READ = "short_read"  # body shorter than Content-Length
CORRUPT = "corrupt"  # body does not match the response's own MD5 ETag
CHECKSUM = "checksum"  # body does not match the ?md5= the metadata gives

T = TypeVar("T")

log = logging.getLogger(__name__)


class TransientError(Exception):
    """One try failed in a way that may go away; ``kind`` is one of the constants above."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def md5_matches(data: bytes, md5: str) -> bool:
    """True when ``md5`` (hex, any case) is absent or is the MD5 of ``data``."""
    return not md5 or hashlib.md5(data, usedforsecurity=False).hexdigest() == md5.lower()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently one object is retried (see the module docstring)."""

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 10.0
    budget: float = 1000.0
    refill: float = 0.5

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to sleep before retry number ``retry`` (0-based): full jitter."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * (2**retry)))


class RetryBudget:
    """A thread-safe token bucket of retries, shared per worker process and endpoint."""

    def __init__(self, capacity: float, refill: float) -> None:
        self.capacity = capacity
        self.refill = refill
        self._tokens = capacity
        self._lock = threading.Lock()

    def spend(self) -> bool:
        """Take one retry; False when the bucket is empty (do not retry)."""
        with self._lock:
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True

    def earn(self) -> None:
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + self.refill)

    @property
    def tokens(self) -> float:
        with self._lock:
            return self._tokens


_BUDGETS: dict[tuple[str, float, float], RetryBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def worker_budget(endpoint: str, policy: RetryPolicy) -> RetryBudget:
    """The budget every reader of ``endpoint`` in this process shares."""
    key = (endpoint, policy.budget, policy.refill)
    with _BUDGETS_LOCK:
        if key not in _BUDGETS:
            _BUDGETS[key] = RetryBudget(policy.budget, policy.refill)
        return _BUDGETS[key]


class FetchStats:
    """Thread-safe counts of what reads did; ``drain`` hands the increments to Beam."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def drain(self) -> dict[str, int]:
        """The counts since the last drain (and reset them)."""
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts


class Retrier:
    """Runs one-try read functions under a policy, a shared budget and a stats counter."""

    def __init__(
        self,
        policy: RetryPolicy,
        budget: RetryBudget,
        stats: FetchStats,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.policy = policy
        self.budget = budget
        self.stats = stats
        self.sleep = sleep
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    def _delay(self, retry: int) -> float:
        with self._rng_lock:
            return self.policy.delay(retry, self._rng)

    def call(self, key: str, attempt: Callable[[], T], md5: str = "") -> T:
        """What ``attempt`` returns, retried on ``TransientError`` and on MD5 mismatch.

        ``md5`` (hex) is checked when given (``attempt`` then returns bytes). Raises
        ``ObjectMissing`` at once for a permanent failure, ``ChecksumMismatch`` when every
        try returned bytes that do not match ``md5``, and ``FetchFailed`` when transient
        failures outlasted the attempts or the worker's budget.
        """
        last: TransientError | None = None
        for tried in range(self.policy.attempts):
            if tried:
                if not self.budget.spend():
                    self.stats.add("budget_exhausted")
                    break
                self.stats.add(f"retry_{last.kind if last else CONNECTION}")
                self.sleep(self._delay(tried - 1))
            self.stats.add("requests")
            try:
                data = attempt()
            except TransientError as exc:
                last = exc
                continue
            except ObjectMissing:
                self.stats.add("missing")
                raise
            if not md5 or md5_matches(data, md5):
                self.stats.add("ok")
                self.budget.earn()
                return data
            last = TransientError(CHECKSUM, f"{key}: MD5 differs from the metadata's")
        self._give_up(key, last)

    def _give_up(self, key: str, last: TransientError | None) -> NoReturn:
        kind = last.kind if last else CONNECTION
        log.debug("giving up on %s after %s: %s", key, kind, last)
        if kind == CHECKSUM:
            self.stats.add("checksum_mismatch")
            raise ChecksumMismatch(key)
        self.stats.add("failed")
        raise FetchFailed(key, kind, last.detail if last else "")
