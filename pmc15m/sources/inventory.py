"""Reading the bucket's daily S3 Inventory: which report is newest, its parts, their rows.

Listing 8 million prefixes is slow and costly; the inventory names every metadata object
with its ETag, which is also the change detector for incremental builds.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator

from pmc15m.core.record import ArticleVersion
from pmc15m.sources.errors import SourceError

log = logging.getLogger(__name__)

BUCKET = "pmc-oa-opendata"  # PMC's open-access bucket; its inventory reports carry the name
INVENTORY_PREFIX = f"inventory-reports/{BUCKET}/metadata/"

_DATE_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z$")
_METADATA_KEY = re.compile(r"^metadata/(PMC\d+)\.(\d+)\.json$")


def is_report_folder(name: str) -> bool:
    """True for a dated report folder (``2026-11-20T01-00Z``); false for ``hive``, ``data``."""
    return bool(_DATE_FOLDER.match(name))


def choose_report(folders: Iterable[str], pinned: str | None = None) -> str:
    """The report folder to read: the pinned date, else the lexically last dated folder."""
    dated = sorted(f for f in folders if is_report_folder(f))
    if pinned is not None:
        if not is_report_folder(pinned):
            raise SourceError(f"bad inventory date {pinned!r}: expected the form 2026-11-20T01-00Z")
        if pinned not in dated:
            raise SourceError(f"no inventory report dated {pinned}; available: {', '.join(dated) or 'none'}")
        return pinned
    if not dated:
        raise SourceError(f"no inventory report found under {INVENTORY_PREFIX}")
    return dated[-1]


def manifest_key(report: str) -> str:
    return f"{INVENTORY_PREFIX}{report}/manifest.json"


def parse_manifest(data: bytes) -> list[str]:
    """The keys of the CSV parts a manifest names, sorted so every run reads them alike."""
    try:
        manifest = json.loads(data)
        keys = [str(entry["key"]) for entry in manifest["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"unreadable inventory manifest: {exc}") from exc
    if manifest.get("fileFormat", "CSV") != "CSV":
        raise SourceError(f"unsupported inventory format {manifest.get('fileFormat')!r} (need CSV)")
    return sorted(keys)


def parse_article_key(key: str) -> tuple[str, int] | None:
    """``metadata/PMC123.2.json`` -> ("PMC123", 2); other keys -> None."""
    match = _METADATA_KEY.match(key)
    if not match:
        return None
    return match.group(1), int(match.group(2))


def parse_inventory_part(data: bytes) -> Iterator[ArticleVersion]:
    """Rows of one gzipped CSV part as article versions.

    Rows that name no metadata object (other keys, short rows) are skipped: the inventory
    covers the whole ``metadata/`` prefix, and a stray object there is not an article.
    """
    text = gzip.decompress(data).decode("utf-8")
    skipped = 0
    for row in csv.reader(io.StringIO(text)):
        parsed = parse_article_key(row[1]) if len(row) >= 2 else None
        if parsed is None:
            skipped += 1
            continue
        pmcid, version = parsed
        yield ArticleVersion(
            pmcid=pmcid,
            version=version,
            metadata_key=row[1],
            last_modified=row[2] if len(row) > 2 else "",
            etag=row[3].strip('"') if len(row) > 3 else "",
        )
    if skipped:
        log.warning("inventory part: skipped %d rows that name no article metadata", skipped)
