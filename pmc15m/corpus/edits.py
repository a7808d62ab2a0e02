"""Edits PMC makes to a released article in place, applied to a generated corpus.

Each edit rewrites the article's files the way the bucket changes (a new image under the
same name, a retraction flag in the metadata), which gives its metadata a new ETag, and
writes an inventory report a day newer listing the bucket as it is now: what
``build --update`` compares with its index. Tests call them one article at a time, an
update after each (tests/shards/test_update_each.py); ``pmc15m.corpus.changes`` builds state 2
from the report helpers here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from pmc15m.corpus.bucket_writer import md5_hex, object_url
from pmc15m.corpus.generator import GROUND_TRUTH
from pmc15m.corpus.imagefiles import KINDS, OK, encode_image, render_figure
from pmc15m.corpus.inventory_writer import DATE_FORMAT, parse_inventory_date, write_report
from pmc15m.sources import inventory
from pmc15m.sources.errors import SourceError
from pmc15m.sources.inventory import INVENTORY_PREFIX
from pmc15m.sources.metadata import parse_object_url

_PLAIN_KINDS = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "TIFF": "tiff_lzw"}  # Pillow format -> kind


def newest_report(root: Path) -> str:
    """The date of the newest inventory report under ``root`` (what a build reads)."""
    folder = root / INVENTORY_PREFIX
    return inventory.choose_report([p.name for p in folder.iterdir()] if folder.is_dir() else [])


def next_report_date(report: str) -> str:
    """The report date a day after ``report`` (the bucket's inventory is daily)."""
    return (parse_inventory_date(report) + timedelta(days=1)).strftime(DATE_FORMAT)


def write_newer_report(root: Path, base: str, report: str, seed: int) -> None:
    """Write inventory report ``report`` listing every metadata object now under ``root``.

    Objects unchanged since report ``base`` keep its LastModified, as S3's do; new and
    rewritten ones get the new report's day. Older reports stay: the bucket keeps them.
    """
    listed = (root / inventory.manifest_key(base)).read_bytes()
    before = {
        row.metadata_key: row
        for key in inventory.parse_manifest(listed)
        for row in inventory.parse_inventory_part((root / key).read_bytes())
    }
    modified = f"{report[:10]}T00:00:00.000Z"
    rows = []
    for path in sorted((root / "metadata").glob("*.json")):
        key, etag = f"metadata/{path.name}", md5_hex(path.read_bytes())
        old = before.get(key)
        rows.append((key, old.last_modified if old is not None and old.etag == etag else modified, etag))
    write_report(root, report, rows, seed)


def change_in_place(corpus_dir: Path, pmcid: str, seed: int = 0) -> str:
    """Rewrite one image of ``pmcid``'s newest version and list it in a report a day newer.

    For tests of repeated updates: call it for one article after another, updating after
    each. The image keeps its file name, kind and size, so every expected outcome in
    ``ground-truth.json`` stays true (only that article's ``etag`` there goes stale): a
    figure image the ground truth describes, kept ones first, in no planted duplicate,
    else an image it does not describe. Each call writes a picture of its own (from
    ``seed``, the PMCID and the new report date) and a report a day after the newest one,
    whose date it returns. Nothing else changes. SourceError: no such article, or no image
    that can be rewritten.
    """
    root = Path(corpus_dir)
    stem = _newest_stem(root, pmcid)
    document = json.loads((root / "metadata" / f"{stem}.json").read_bytes())
    base = newest_report(root)
    report = next_report_date(base)
    key, kind, size = _rewritable_image(root, document, stem)
    picture = int.from_bytes(hashlib.sha256(f"{seed}/{pmcid}/{report}".encode()).digest()[:4], "big")
    data = encode_image(render_figure(picture, *size), kind)
    (root / key).write_bytes(data)
    urls = document["media_urls"]
    document["media_urls"] = [object_url(key, data) if parse_object_url(u).key == key else u for u in urls]
    metadata = json.dumps(document, ensure_ascii=False).encode("utf-8")  # as the writer does
    (root / "metadata" / f"{stem}.json").write_bytes(metadata)
    (root / stem / f"{stem}.json").write_bytes(metadata)
    write_newer_report(root, base, report, seed)
    return report


def retract_in_place(corpus_dir: Path, pmcid: str, seed: int = 0) -> str:
    """Flag ``pmcid``'s newest version retracted (``is_retracted``: a new metadata ETag),
    as PMC does when a journal retracts an article, and list it in a report a day newer.

    Its figures stay in the bucket; a build drops the article as ``retracted`` and an
    update retires its released samples. Returns the new report date; SourceError for an
    unknown article.
    """
    root = Path(corpus_dir)
    stem = _newest_stem(root, pmcid)
    document = json.loads((root / "metadata" / f"{stem}.json").read_bytes())
    document["is_retracted"] = True
    base = newest_report(root)
    report = next_report_date(base)
    metadata = json.dumps(document, ensure_ascii=False).encode("utf-8")  # as the writer does
    (root / "metadata" / f"{stem}.json").write_bytes(metadata)
    (root / stem / f"{stem}.json").write_bytes(metadata)
    write_newer_report(root, base, report, seed)
    return report


def _newest_stem(root: Path, pmcid: str) -> str:
    """``PMC123.2``: the newest version of ``pmcid`` under ``root/metadata``."""
    keys = [inventory.parse_article_key(f"metadata/{p.name}") for p in root.glob(f"metadata/{pmcid}.*.json")]
    versions = sorted(k[1] for k in keys if k is not None and k[0] == pmcid)
    if not versions:
        raise SourceError(f"no article {pmcid} under {root / 'metadata'}")
    return f"{pmcid}.{versions[-1]}"


def _rewritable_image(root: Path, document: dict[str, Any], stem: str) -> tuple[str, str, tuple[int, int]]:
    """(media key, ``KINDS`` kind, size) of the image ``change_in_place`` rewrites."""
    media = {parse_object_url(url).key for url in document["media_urls"]}
    rows = [
        f for f in _truth_figures(root) if f["media_key"] in media and f["media_key"].startswith(f"{stem}/")
    ]
    for row in sorted(rows, key=lambda f: (f["expected"] != "kept", bool(f["tags"]), f["media_key"])):
        if row["rewritable"]:
            return row["media_key"], row["image_kind"], (row["width"], row["height"])
    for key in sorted(media - {f["media_key"] for f in rows}):
        found = _plain_image(root / key)
        if found is not None:
            return key, *found
    raise SourceError(f"{document['pmcid']} has no image that can be rewritten")


def _truth_figures(root: Path) -> list[dict[str, Any]]:
    """The ground truth's figure rows, each marked rewritable when a new picture of its
    kind and size keeps its expected outcome and no planted duplicate loses a member."""
    path = root / GROUND_TRUTH
    if not path.is_file():
        return []
    truth = json.loads(path.read_text(encoding="utf-8"))
    in_dups = {key for groups in truth["duplicates"].values() for g in groups for key in g}
    return [
        {
            **f,
            "rewritable": f["width"] is not None
            and KINDS[f["image_kind"]].expected == OK
            and f["key"] not in in_dups
            and not any(t.startswith("dup_") for t in f["tags"]),
        }
        for f in truth["figures"]
    ]


def _plain_image(path: Path) -> tuple[str, tuple[int, int]] | None:
    """(kind, size) for a single-frame JPEG, PNG, GIF or TIFF that decodes; else None."""
    try:
        with Image.open(path) as img:
            kind = _PLAIN_KINDS.get(img.format or "")
            if kind is None or getattr(img, "n_frames", 1) != 1:
                return None
            img.load()
            return kind, img.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
