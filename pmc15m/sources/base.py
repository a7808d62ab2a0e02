"""The small interface every source implements, and the URL that names one.

A source is named by a string (a directory, ``s3://bucket``, ``https://host``) so that a
Beam DoFn can carry the string across process boundaries and open its own client in
``setup``; sources themselves are not pickled.
"""

from __future__ import annotations

import abc
import hashlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from pmc15m.record import ArticleMeta, ArticleVersion, MediaRef

if TYPE_CHECKING:
    from pmc15m.sources.options import SourceOptions

BUCKET = "pmc-oa-opendata"
INVENTORY_PREFIX = f"inventory-reports/{BUCKET}/metadata/"


class SourceError(Exception):
    """A source cannot be used at all (bad location, no inventory): a user-facing error."""


class ObjectMissing(Exception):
    """One object cannot be read: counted as a rejection, never fatal to the build.

    Raised as such, the store said the object is not there or not ours to read (404, 403,
    no such file): permanent, never retried, rejected as ``missing_object``. The two
    subclasses below are the other ways a read ends without bytes.
    """


class FetchFailed(ObjectMissing):
    """Transient failures (throttling, 5xx, timeouts, resets) outlasted the retries."""

    def __init__(self, key: str, kind: str, detail: str = "") -> None:
        super().__init__(detail or f"{kind}: {key}")
        self.key = key
        self.kind = kind


class ChecksumMismatch(ObjectMissing):
    """Every read of the object gave bytes that differ from the MD5 the metadata names."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class Source(abc.ABC):
    """List the article versions of a PMC-style bucket and read its objects."""

    @abc.abstractmethod
    def inventory_parts(self) -> list[str]:
        """Keys of the inventory's CSV parts (gzipped), in a stable order."""

    @abc.abstractmethod
    def snapshot(self) -> dict[str, str]:
        """What identifies the listing: source URL and inventory date (for the manifest)."""

    @abc.abstractmethod
    def read(self, key: str) -> bytes:
        """The bytes of one object; raises ``ObjectMissing`` when it cannot be read."""

    def read_verified(self, key: str, md5: str) -> bytes:
        """The bytes of one object, checked against its MD5 (hex; "" skips the check).

        Raises ``ChecksumMismatch`` when they differ. Remote sources override this to
        re-read a mismatching object before giving up (the bytes may have been damaged in
        transit); a local file read twice would only differ twice.
        """
        data = self.read(key)
        if md5 and hashlib.md5(data, usedforsecurity=False).hexdigest() != md5.lower():
            raise ChecksumMismatch(key)
        return data

    def list_part(self, part: str) -> Iterator[ArticleVersion]:
        """The article versions one listing part names (a legacy mirror lists from a CSV)."""
        from pmc15m.inventory import parse_inventory_part

        return parse_inventory_part(self.read(part))

    def article_meta(self, version: ArticleVersion) -> ArticleMeta:
        """The metadata of one version: its JSON here; a legacy mirror synthesises it.

        Raises ``ObjectMissing`` when it cannot be read, ``MetadataError`` when unusable.
        """
        from pmc15m.metadata import parse_metadata

        return parse_metadata(self.read(version.metadata_key), etag=version.etag)

    def take_counts(self) -> dict[str, int]:
        """Events counted since the last call (e.g. ignored tar members), for Beam metrics."""
        return {}

    def list_article_versions(self) -> Iterator[ArticleVersion]:
        """Every article version the inventory lists, part by part."""
        for part in self.inventory_parts():
            yield from self.list_part(part)


def parse_object_url(url: str) -> MediaRef:
    """Split ``s3://bucket/key?md5=hex`` (or an https URL) into key and MD5."""
    parts = urlsplit(url)
    md5 = parse_qs(parts.query).get("md5", [""])[0]
    path = parts.path.lstrip("/")
    if parts.scheme in ("http", "https") and parts.netloc.split(".")[0] != BUCKET:
        # path-style https URL: https://s3.amazonaws.com/<bucket>/<key>
        path = path.split("/", 1)[1] if "/" in path else path
    return MediaRef(key=path, md5=md5)


def open_source(
    location: str, inventory_date: str | None = None, options: SourceOptions | None = None
) -> Source:
    """The source a user names with ``--source``: ``s3://bucket``, an ``https://`` base URL,
    or a local directory (a legacy oa_package mirror when it holds ``oa_file_list.csv``).
    ``options`` (connection settings) matter to remote sources only.
    """
    if location.startswith("s3://"):
        from pmc15m.sources.s3 import S3Source

        return S3Source(location, inventory_date, options)
    if location.startswith(("http://", "https://")):
        from pmc15m.sources.https import HttpsSource

        return HttpsSource(location, inventory_date, options)
    if os.path.isfile(os.path.join(location, "oa_file_list.csv")):
        from pmc15m.sources.legacy import LegacySource

        return LegacySource(location, inventory_date=inventory_date)
    from pmc15m.sources.local import LocalSource

    return LocalSource(location, inventory_date=inventory_date)
