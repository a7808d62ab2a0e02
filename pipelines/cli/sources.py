"""``pmc15m build`` options for remote sources (s3://, https://): how to read, never what.

None of these change the output; they are kept apart from the build's own options so a
user tuning a slow network sees them together in ``--help``.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from pmc15m.core.argtypes import positive_float, positive_int
from pmc15m.core.errors import UserError
from pmc15m.sources.options import SourceOptions


def add_source_arguments(sub: argparse.ArgumentParser) -> None:
    """How a remote source (s3://, https://) is read; none of it changes the output."""
    o = SourceOptions()
    group = sub.add_argument_group("remote sources (s3://, https://)")
    group.add_argument("--s3_endpoint_url", help="an S3-compatible endpoint (mirror, MinIO) instead of AWS")
    group.add_argument(
        "--s3_anonymous",
        action=argparse.BooleanOptionalAction,
        default=o.anonymous,
        help="unsigned requests, as the public bucket allows (default); --no-s3_anonymous signs with "
        "boto3's default credentials (environment, AWS_PROFILE, instance role) for private mirrors",
    )
    group.add_argument(
        "--fetch_concurrency", type=positive_int, default=o.concurrency, help="requests in flight per worker"
    )
    group.add_argument(
        "--fetch_timeout", type=positive_float, default=o.read_timeout, help="seconds to wait for data"
    )
    group.add_argument(
        "--fetch_attempts", type=positive_int, default=o.attempts, help="tries per object, first included"
    )
    group.add_argument(
        "--fetch_backoff",
        type=float,
        default=o.backoff,
        help="base seconds of the exponential backoff with full jitter between tries",
    )
    group.add_argument(
        "--fetch_retry_budget",
        type=float,
        default=o.retry_budget,
        help="retries a worker may spend on the endpoint (a success earns back half a retry)",
    )


def source_options_from_args(args: argparse.Namespace) -> SourceOptions:
    """Connection settings from the command line; a bad value is a one-line error."""
    endpoint = args.s3_endpoint_url
    parts = urlsplit(endpoint or "")
    if endpoint is not None and not (parts.scheme in ("http", "https") and parts.netloc):
        raise UserError(f"--s3_endpoint_url must be an http(s):// URL, got {endpoint!r}")
    if parts.username or parts.password:
        raise UserError("--s3_endpoint_url must not hold credentials (use the AWS credential chain)")
    try:
        return SourceOptions(
            endpoint_url=endpoint,
            anonymous=args.s3_anonymous,
            concurrency=args.fetch_concurrency,
            connect_timeout=min(SourceOptions().connect_timeout, args.fetch_timeout),
            read_timeout=args.fetch_timeout,
            attempts=args.fetch_attempts,
            backoff=args.fetch_backoff,
            retry_budget=args.fetch_retry_budget,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
