"""The small interface every source implements: list article versions, read objects.

Only the interface: the read errors are in ``errors``, the choice of a concrete source by
its URL in ``open``, the inventory in ``pmc15m.sources.inventory`` and the metadata JSON in
``pmc15m.sources.metadata``, so each of those can be imported without this module and none
imports it back.

May import: ``pmc15m.core.record``, ``pmc15m.sources.inventory``, ``pmc15m.sources.metadata`` and
``pmc15m.sources.errors``; never a concrete source.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterator

from pmc15m.core.record import ArticleMeta, ArticleVersion
from pmc15m.sources.errors import ChecksumMismatch
from pmc15m.sources.inventory import parse_inventory_part
from pmc15m.sources.metadata import parse_metadata


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
        return parse_inventory_part(self.read(part))

    def article_meta(self, version: ArticleVersion) -> ArticleMeta:
        """The metadata of one version: its JSON here; a legacy mirror synthesises it.

        Raises ``ObjectMissing`` when it cannot be read, ``MetadataError`` when unusable.
        """
        return parse_metadata(self.read(version.metadata_key), etag=version.etag)

    def take_counts(self) -> dict[str, int]:
        """Events counted since the last call (e.g. ignored tar members), for Beam metrics."""
        return {}

    def list_article_versions(self) -> Iterator[ArticleVersion]:
        """Every article version the inventory lists, part by part."""
        for part in self.inventory_parts():
            yield from self.list_part(part)
