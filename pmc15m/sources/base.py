"""The small interface every source implements, and the URL that names one.

A source is named by a string (a directory, ``s3://bucket``, ``https://host``) so that a
Beam DoFn can carry the string across process boundaries and open its own client in
``setup``; sources themselves are not pickled.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from pmc15m.record import ArticleVersion, MediaRef

BUCKET = "pmc-oa-opendata"
INVENTORY_PREFIX = f"inventory-reports/{BUCKET}/metadata/"


class SourceError(Exception):
    """A source cannot be used at all (bad location, no inventory): a user-facing error."""


class ObjectMissing(Exception):
    """One object cannot be read: counted as a rejection, never fatal to the build."""


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

    def list_article_versions(self) -> Iterator[ArticleVersion]:
        """Every article version the inventory lists, part by part."""
        from pmc15m.inventory import parse_inventory_part

        for part in self.inventory_parts():
            yield from parse_inventory_part(self.read(part))


def parse_object_url(url: str) -> MediaRef:
    """Split ``s3://bucket/key?md5=hex`` (or an https URL) into key and MD5."""
    parts = urlsplit(url)
    md5 = parse_qs(parts.query).get("md5", [""])[0]
    path = parts.path.lstrip("/")
    if parts.scheme in ("http", "https") and parts.netloc.split(".")[0] != BUCKET:
        # path-style https URL: https://s3.amazonaws.com/<bucket>/<key>
        path = path.split("/", 1)[1] if "/" in path else path
    return MediaRef(key=path, md5=md5)


def open_source(location: str, inventory_date: str | None = None) -> Source:
    """The source a user names with ``--source``: a local directory for now."""
    if location.startswith(("s3://", "http://", "https://")):
        raise SourceError(f"remote sources are not supported yet: {location!r}")
    from pmc15m.sources.local import LocalSource

    return LocalSource(location, inventory_date=inventory_date)
