"""What the S3 and HTTPS sources share: report choice, retries, response checks.

A subclass supplies two one-try operations, ``_get_once(key)`` and
``_list_once(prefix)``, which raise ``TransientError`` for failures worth retrying and
``ObjectMissing`` for permanent ones; everything else (which inventory report, the
manifest, retries and their counts, the MD5 checks) lives here so both sources behave
exactly like ``LocalSource``, the reference implementation.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Mapping

from pmc15m.sources.base import Source
from pmc15m.sources.errors import FetchFailed, ObjectMissing, SourceError
from pmc15m.sources.inventory import (
    INVENTORY_PREFIX,
    choose_report,
    is_report_folder,
    manifest_key,
    parse_manifest,
)
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.retry import (
    CORRUPT,
    SERVER_ERROR,
    SHORT_READ,
    THROTTLED,
    TIMEOUT,
    FetchStats,
    Retrier,
    TransientError,
    worker_budget,
)

_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


def check_key(key: str) -> str:
    """``key`` unchanged, or ``ObjectMissing`` when it could address outside the bucket.

    Keys come from data (the inventory, metadata URLs); in a URL path, ``..`` segments or
    a leading slash could reach another bucket of a path-style endpoint.
    """
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in (".", "..") for p in parts) or "\\" in key:
        raise ObjectMissing(f"key escapes the bucket: {key!r}")
    return key


def raise_for_status(status: int, key: str, code: str = "") -> None:
    """Nothing for 200; ``TransientError`` for throttling, timeouts and 5xx; else missing."""
    if status == 200:
        return
    what = f"{key}: HTTP {status} {code}".strip()
    if status in (429, 503) or code in ("SlowDown", "Throttling"):
        raise TransientError(THROTTLED, what)
    if status == 408 or code == "RequestTimeout":
        raise TransientError(TIMEOUT, what)
    if status >= 500:
        raise TransientError(SERVER_ERROR, what)
    # 403/404/410 and anything else the store refuses for good (3xx redirects, 400s).
    raise ObjectMissing(what)


def etag_md5(headers: Mapping[str, str]) -> str:
    """The MD5 an S3 ETag states for the body, or "" when the ETag is not one.

    A single-part upload's ETag is the MD5 of its bytes unless the object is encrypted
    with KMS or customer keys; multipart ETags end in ``-<parts>``. Checking it catches
    bytes damaged in transit on objects the metadata gives no MD5 for (the metadata JSON).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get("x-amz-server-side-encryption", "").startswith("aws:kms"):
        return ""
    if "x-amz-server-side-encryption-customer-algorithm" in lowered:
        return ""
    etag = lowered.get("etag", "").strip().strip('"').lower()
    return etag if _PLAIN_MD5.match(etag) else ""


def check_body(key: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    """``body`` if it has the announced length and matches its ETag; else transient."""
    lowered = {k.lower(): v for k, v in headers.items()}
    length = lowered.get("content-length", "")
    if length.isdigit() and int(length) != len(body):
        raise TransientError(SHORT_READ, f"{key}: {len(body)} of {length} bytes")
    expected = etag_md5(headers)
    if expected and hashlib.md5(body, usedforsecurity=False).hexdigest() != expected:
        raise TransientError(CORRUPT, f"{key}: body does not match its ETag")
    return body


class RemoteSource(Source):
    """A bucket behind a network endpoint; see the module docstring for the split."""

    def __init__(self, location: str, inventory_date: str | None, options: SourceOptions, endpoint: str):
        self.location = location
        self.inventory_date = inventory_date
        self.options = options
        self.stats = FetchStats()
        policy = options.retry_policy()
        self.retrier = Retrier(policy, worker_budget(endpoint, policy), self.stats)
        self._report: str | None = None
        self._manifest: bytes | None = None  # read while checking a pinned report

    @abc.abstractmethod
    def _get_once(self, key: str) -> bytes:
        """One GET of ``key`` (already checked by ``check_key``)."""

    @abc.abstractmethod
    def _list_once(self, prefix: str) -> list[str]:
        """One listing (all pages) of the folder names directly under ``prefix``."""

    def read(self, key: str) -> bytes:
        check_key(key)
        return self.retrier.call(key, lambda: self._get_once(key))

    def read_verified(self, key: str, md5: str) -> bytes:
        check_key(key)
        return self.retrier.call(key, lambda: self._get_once(key), md5=md5)

    def list_folders(self, prefix: str) -> list[str]:
        """Folder names under ``prefix``; a ``SourceError`` when the bucket cannot be listed."""
        try:
            return self.retrier.call(prefix, lambda: self._list_once(prefix))
        except FetchFailed as exc:
            raise SourceError(f"cannot reach {self.location} ({exc.kind}): {exc}") from exc
        except ObjectMissing as exc:
            raise SourceError(f"cannot list {self.location}: {exc}") from exc

    def report(self) -> str:
        """The inventory report to read, resolved once (same rules as ``LocalSource``)."""
        if self._report is None:
            pinned = self.inventory_date
            if pinned is not None and is_report_folder(pinned) and self._has_manifest(pinned):
                # A pinned report needs no listing: mirrors that serve plain files work too.
                self._report = pinned
            else:
                self._report = choose_report(self.list_folders(INVENTORY_PREFIX), pinned)
        return self._report

    def _has_manifest(self, report: str) -> bool:
        try:
            self._manifest = self.read(manifest_key(report))
        except FetchFailed as exc:
            raise SourceError(f"cannot reach {self.location} ({exc.kind}): {exc}") from exc
        except ObjectMissing:
            return False
        return True

    def inventory_parts(self) -> list[str]:
        report = self.report()
        data = self._manifest
        if data is None:
            try:
                data = self.read(manifest_key(report))
            except FetchFailed as exc:
                raise SourceError(f"cannot reach {self.location} ({exc.kind}): {exc}") from exc
            except ObjectMissing as exc:
                raise SourceError(f"inventory report {report} has no manifest.json ({exc})") from exc
            self._manifest = data  # read once: the command checks the source before the build lists it
        return parse_manifest(data)

    def take_counts(self) -> dict[str, int]:
        """What reads did since the last call: ``fetch_requests``, ``fetch_retry_<kind>`` ..."""
        return {f"fetch_{name}": n for name, n in self.stats.drain().items()}

    def snapshot(self) -> dict[str, str]:
        # As LocalSource: no location, so the same bucket read any way gives the same build id.
        return {"inventory_date": self.report()}
