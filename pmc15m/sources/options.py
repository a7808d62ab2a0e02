"""How a remote source connects: endpoint, credentials, concurrency, timeouts, retries.

None of this changes what a build writes, so it is kept out of ``BuildConfig`` (and out
of the build id): the same bucket read anonymously over S3, over HTTPS or from a local
copy gives the same shards. The record is small, frozen and picklable because every
Beam DoFn carries one and opens its own client from it in ``setup``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmc15m.sources.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Connection settings shared by the S3 and HTTPS sources."""

    endpoint_url: str | None = None  # S3-compatible mirror; None: AWS itself
    anonymous: bool = True  # unsigned requests, as the public bucket allows
    region: str = "us-east-1"  # where pmc-oa-opendata lives
    concurrency: int = 32  # requests in flight per DoFn instance (and pooled connections)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    attempts: int = 6  # tries per object, the first included
    backoff: float = 0.2  # base delay of the exponential backoff, seconds
    max_backoff: float = 10.0
    retry_budget: float = 1000.0  # retries a worker may spend on one endpoint (token bucket)
    retry_refill: float = 0.5  # retries earned back per successful read

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if min(self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if self.backoff < 0 or self.max_backoff < 0 or self.retry_budget < 0 or self.retry_refill < 0:
            raise ValueError("backoff and retry budget settings must not be negative")

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.attempts,
            base_delay=self.backoff,
            max_delay=self.max_backoff,
            budget=self.retry_budget,
            refill=self.retry_refill,
        )
