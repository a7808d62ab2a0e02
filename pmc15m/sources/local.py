"""A local directory laid out like the PMC Cloud bucket (the mini corpus, or a mirror)."""

from __future__ import annotations

import os
from pathlib import Path

from pmc15m.sources.base import Source
from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.inventory import INVENTORY_PREFIX, choose_report, manifest_key, parse_manifest


class LocalSource(Source):
    """Objects are files under ``root``; keys are their paths relative to it."""

    def __init__(self, root: str | os.PathLike[str], inventory_date: str | None = None) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise SourceError(f"source directory does not exist: {root}")
        self.inventory_date = inventory_date
        self._report: str | None = None

    def _path(self, key: str) -> Path:
        # A key comes from data (inventory, metadata URLs): never let it leave the root.
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectMissing(f"key escapes the source root: {key!r}")
        return path

    def report(self) -> str:
        """The inventory report folder this source lists from (resolved once)."""
        if self._report is None:
            folder = self.root / INVENTORY_PREFIX
            names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
            self._report = choose_report(names, self.inventory_date)
        return self._report

    def inventory_parts(self) -> list[str]:
        try:
            data = self.read(manifest_key(self.report()))
        except ObjectMissing as exc:
            raise SourceError(f"inventory report {self.report()} has no manifest.json") from exc
        return parse_manifest(data)

    def snapshot(self) -> dict[str, str]:
        # No path here: the snapshot feeds the build id stamped into every row, and the same
        # bucket read from a local copy or over S3 must give the same shards.
        return {"inventory_date": self.report()}

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectMissing(f"no object {key!r}") from exc
