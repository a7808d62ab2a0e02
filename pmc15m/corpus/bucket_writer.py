"""Write one article version's objects the way the PMC Cloud bucket holds them.

``PMC<id>.<v>/`` gets the JATS, plain text, optional PDF, images and supplementary files,
and the metadata JSON whose every URL carries the MD5 of the object it names; the same
JSON is copied to ``metadata/``. This runs in worker processes: it takes a plan, writes
files, and returns only the small facts the inventory and the ground truth need.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pmc15m.corpus.imagefiles import KINDS, encode_image, near_duplicate, render_figure
from pmc15m.corpus.jats_writer import plain_text, write_jats
from pmc15m.corpus.model import ArticlePlan, ImageSpec
from pmc15m.sources.inventory import BUCKET

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DECODABLE = frozenset({"ok", "image_truncated"})  # kinds whose header gives true dimensions


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """What writing one article version produced."""

    pmcid: str
    version: int
    metadata_key: str
    etag: str  # MD5 hex of the metadata JSON, as S3 reports for a single-part upload
    size: int
    last_modified: str
    n_files: int
    n_bytes: int
    dims: dict[str, tuple[int, int] | None]  # image file name -> width, height it declares


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def object_url(key: str, data: bytes) -> str:
    return f"s3://{BUCKET}/{key}?md5={md5_hex(data)}"


def make_image(spec: ImageSpec) -> tuple[bytes, tuple[int, int] | None]:
    """The file bytes of ``spec`` and the (oriented) size it declares, None if no image."""
    img = render_figure(spec.seed, spec.width, spec.height)
    if spec.near_seed is not None:
        img = near_duplicate(img, spec.near_seed)
    if spec.reencode_from is not None:
        with Image.open(io.BytesIO(encode_image(img, spec.reencode_from))) as decoded:
            img = decoded.convert("RGB")
    data = encode_image(img, spec.kind)
    if KINDS[spec.kind].expected in _DECODABLE:
        return data, img.size  # exif-rotated files are stored turned, and display as img
    if data.startswith(_PNG_SIGNATURE):  # a bomb: the header's claim is the point
        width, height = struct.unpack(">II", data[16:24])
        return data, (width, height)
    return data, None


def supplement_bytes(name: str) -> bytes:
    """A small placeholder: a zip for office files (as they are), a stub PDF otherwise."""
    if name.endswith(".pdf"):
        return pdf_placeholder(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("data/sheet1.csv", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, f"group,value\ncontrol,1.0\ntreated,2.35\n# {name}\n")
    return buf.getvalue()


def pdf_placeholder(name: str) -> bytes:
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n"
        + f"% synthetic placeholder for {name}\n".encode()
        + b"trailer <</Root 1 0 R>>\n%%EOF\n"
    )


def article_files(plan: ArticlePlan) -> tuple[dict[str, bytes], dict[str, tuple[int, int] | None]]:
    """Media files by name (figures, non-figure graphics, supplements), and image sizes."""
    files: dict[str, bytes] = {}
    dims: dict[str, tuple[int, int] | None] = {}
    for fig in plan.figures():
        for graphic in fig.graphics:
            if graphic.filename is not None and graphic.image is not None:
                files[graphic.filename], dims[graphic.filename] = make_image(graphic.image)
    for extra in plan.extras:
        if extra.image is None:
            files[extra.filename] = supplement_bytes(extra.filename)
        else:
            files[extra.filename], dims[extra.filename] = make_image(extra.image)
    return files, dims


def metadata_document(plan: ArticlePlan, objects: dict[str, bytes], media: list[str]) -> dict:
    """The metadata JSON, fields in the bucket's order; URLs carry their object's MD5."""
    stem = f"{plan.prefix}{plan.pmcid}.{plan.version}"
    pdf_key = f"{stem}.pdf"
    return {
        "pmcid": plan.pmcid,
        "version": plan.version,
        "pmid": plan.pmid,
        "doi": plan.doi,
        "title": plan.title,
        "citation": f"{plan.journal}. {plan.year}; {plan.pmid % 40 + 1}:e{plan.pmid % 100_000}",
        "is_pmc_openaccess": plan.is_oa,
        "is_manuscript": plan.is_manuscript,
        "is_historical_ocr": False,
        "is_retracted": plan.is_retracted,
        "license_code": plan.license_code,
        "xml_url": object_url(f"{stem}.xml", objects[f"{stem}.xml"]),
        "pdf_url": object_url(pdf_key, objects[pdf_key]) if pdf_key in objects else None,
        "media_urls": [object_url(key, objects[key]) for key in media],
        "text_url": object_url(f"{stem}.txt", objects[f"{stem}.txt"]),
    }


def write_article(root: Path, plan: ArticlePlan) -> ArticleResult:
    """Write every object of one article version under ``root``; return its facts."""
    stem = f"{plan.prefix}{plan.pmcid}.{plan.version}"
    xml = write_jats(plan)
    objects: dict[str, bytes] = {f"{stem}.xml": xml, f"{stem}.txt": plain_text(xml)}
    if plan.has_pdf:
        objects[f"{stem}.pdf"] = pdf_placeholder(f"{plan.pmcid}.{plan.version}")
    files, dims = article_files(plan)
    media = sorted(f"{plan.prefix}{name}" for name in files)
    objects.update({f"{plan.prefix}{name}": data for name, data in files.items()})
    metadata = json.dumps(metadata_document(plan, objects, media), ensure_ascii=False).encode("utf-8")
    metadata_key = f"metadata/{plan.pmcid}.{plan.version}.json"
    objects[f"{stem}.json"] = metadata
    objects[metadata_key] = metadata
    for key, data in objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return ArticleResult(
        pmcid=plan.pmcid,
        version=plan.version,
        metadata_key=metadata_key,
        etag=md5_hex(metadata),
        size=len(metadata),
        last_modified=plan.last_modified,
        n_files=len(objects),
        n_bytes=sum(len(d) for d in objects.values()),
        dims=dims,
    )


def write_articles(root: str, plans: list[ArticlePlan]) -> list[ArticleResult]:
    """A batch for one worker process (``root`` as str: cheap to pickle)."""
    return [write_article(Path(root), plan) for plan in plans]
