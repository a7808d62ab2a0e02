"""The PMC Cloud bucket (or an S3-compatible mirror of it) read with boto3.

Anonymous by default: the bucket is world-readable and unsigned requests need no AWS
account; ``anonymous=False`` signs with boto3's default credential chain (environment,
``AWS_PROFILE``, instance role) for private mirrors. ``endpoint_url`` points at an
S3-compatible store (MinIO, Ceph, moto in tests), addressed path-style as such stores
expect. botocore's own retries are off (``pmc15m.sources.retry`` owns them) and its connection
pool is sized to the requests a worker keeps in flight.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.exceptions as bx
from botocore.config import Config

from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.remote import RemoteSource, check_body, raise_for_status
from pmc15m.sources.retry import CONNECTION, CORRUPT, SHORT_READ, TIMEOUT, TransientError

# Error codes whose HTTP status a response may lack (never trust a missing status as 200).
_CODE_STATUS = {"NoSuchKey": 404, "NoSuchBucket": 404, "AccessDenied": 403, "SlowDown": 503}


def make_client(options: SourceOptions) -> Any:
    """A boto3 S3 client for ``options``: one per source, safe to share between threads."""
    settings: dict[str, Any] = {
        "max_pool_connections": options.concurrency,
        "connect_timeout": options.connect_timeout,
        "read_timeout": options.read_timeout,
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "tcp_keepalive": True,
    }
    if options.anonymous:
        settings["signature_version"] = botocore.UNSIGNED
    if options.endpoint_url:
        settings["s3"] = {"addressing_style": "path"}
    session = boto3.session.Session()
    return session.client(
        "s3", region_name=options.region, endpoint_url=options.endpoint_url, config=Config(**settings)
    )


def _classify(exc: Exception, what: str) -> Exception:
    """The exception a botocore failure stands for: transient, missing, or unusable source."""
    if isinstance(exc, bx.ClientError):
        meta = exc.response.get("ResponseMetadata", {})
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(meta.get("HTTPStatusCode") or _CODE_STATUS.get(code, 500))
        try:
            raise_for_status(status if status != 200 else 500, what, code)
        except (TransientError, ObjectMissing) as classified:
            return classified
    if isinstance(exc, bx.NoCredentialsError):
        return SourceError("no AWS credentials found (they are only needed with --no-s3_anonymous)")
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectTimeoutError)):
        return TransientError(TIMEOUT, f"{what}: {exc}")
    if isinstance(exc, (bx.IncompleteReadError, bx.ResponseStreamingError)):
        return TransientError(SHORT_READ, f"{what}: {exc}")
    if isinstance(exc, bx.FlexibleChecksumError):
        return TransientError(CORRUPT, f"{what}: {exc}")
    return TransientError(CONNECTION, f"{what}: {exc}")


_FAILURES = (bx.BotoCoreError, bx.ClientError, OSError)


class S3Source(RemoteSource):
    """``s3://<bucket>`` through boto3; see the module docstring for the settings."""

    def __init__(
        self, location: str, inventory_date: str | None = None, options: SourceOptions | None = None
    ) -> None:
        options = options or SourceOptions()
        parts = urlsplit(location)
        if parts.scheme != "s3" or not parts.netloc or parts.path.strip("/") or parts.query:
            raise SourceError(f"an S3 source is named s3://<bucket>, got {location!r}")
        self.bucket = parts.netloc
        endpoint = f"{options.endpoint_url or 'aws'}/{self.bucket}"
        super().__init__(location, inventory_date, options, endpoint)
        try:
            self.client = make_client(options)
        except ValueError as exc:  # botocore's check of endpoint_url
            raise SourceError(f"bad --s3_endpoint_url {options.endpoint_url!r}: {exc}") from exc

    def _get_once(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read()
        except _FAILURES as exc:
            raise _classify(exc, key) from exc
        return check_body(key, body, response["ResponseMetadata"].get("HTTPHeaders", {}))

    def _list_once(self, prefix: str) -> list[str]:
        names: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        except _FAILURES as exc:
            raise _classify(exc, f"listing {prefix}") from exc
        return names
