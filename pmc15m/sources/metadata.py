"""The per-article metadata JSON (``metadata/PMC<id>.<v>.json``) and the article gate.

The gate runs before the JATS is fetched: at 8 million versions, not downloading the XML
of an article we would drop anyway is most of the listing-stage savings.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.core.record import ArticleMeta, MediaRef
from pmc15m.sources.inventory import BUCKET

# Preference order when a stem has several files: the formats that decode best first.
_IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "tif", "tiff", "webp", "bmp")
_RETRACTED_TITLE = re.compile(r"^\s*(retracted|retraction)\b", re.IGNORECASE)
# Formats an <alternatives> block offers beside its image that the image decoder cannot use:
# a rendition naming one of these is tried only after every other rendition of the image.
_NOT_IMAGE_EXTENSIONS = frozenset(
    {
        "pdf", "eps", "ps", "svg", "svgz", "ai", "emf", "wmf", "psd", "cdr", "doc", "docx", "ppt",
        "pptx", "xls", "xlsx", "htm", "html", "xml", "txt", "zip", "gz", "mov", "mp4", "avi",
        "mpg", "mpeg", "webm", "wmv", "mp3", "wav",
    }
)  # fmt: skip
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//")  # https://host/..., also //host/...


class MetadataError(Exception):
    """The metadata object is not the JSON we expect."""


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def parse_metadata(data: bytes, etag: str = "") -> ArticleMeta:
    """An ``ArticleMeta`` from the metadata JSON bytes; ``MetadataError`` when unusable."""
    try:
        doc = json.loads(data)
        pmcid = str(doc["pmcid"])
        version = int(doc["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MetadataError(f"bad metadata JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise MetadataError("metadata JSON is not an object")
    xml = parse_object_url(str(doc.get("xml_url") or ""))
    media_urls = doc.get("media_urls") or []
    if not isinstance(media_urls, list):
        raise MetadataError("media_urls is not a list")
    return ArticleMeta(
        pmcid=pmcid if pmcid.startswith("PMC") else f"PMC{pmcid}",
        version=version,
        pmid=str(doc.get("pmid") or ""),
        doi=str(doc.get("doi") or ""),
        title=str(doc.get("title") or ""),
        citation=str(doc.get("citation") or ""),
        is_pmc_openaccess=_flag(doc.get("is_pmc_openaccess")),
        is_manuscript=_flag(doc.get("is_manuscript")),
        is_historical_ocr=_flag(doc.get("is_historical_ocr")),
        is_retracted=_flag(doc.get("is_retracted")),
        license_code=str(doc.get("license_code") or ""),
        xml_key=xml.key,
        xml_md5=xml.md5,
        media=tuple(parse_object_url(str(u)) for u in media_urls),
        metadata_etag=etag,
    )


def gate_article(meta: ArticleMeta, config: BuildConfig) -> str | None:
    """Why the article is excluded (a reason), or None to keep it.

    ``is_retracted`` has been seen false on articles titled "RETRACTED ARTICLE", so the
    title is a second signal.
    """
    if config.require_open_access and not meta.is_pmc_openaccess:
        return reasons.NOT_OPEN_ACCESS
    if config.licenses and meta.license_code not in config.licenses:
        return reasons.LICENSE_EXCLUDED
    if config.drop_retracted and (meta.is_retracted or _RETRACTED_TITLE.match(meta.title)):
        return reasons.RETRACTED
    return None


def href_filename(href: str) -> str:
    """The file name a graphic's href names: its last path segment.

    A relative href (``pone.0046493.g001``, ``figs/f1.jpg``) is used as written, since the
    bucket's files are named as the JATS names them. An absolute URL (SciELO writes
    ``https://host/path/93646b.jpg``, sometimes with ``?query`` or ``#fragment``) names the
    file by its path alone, percent-escapes decoded, because the bucket's copy of that file
    carries its plain name.
    """
    if _URL.match(href):
        return unquote(urlsplit(href).path.rsplit("/", 1)[-1])
    return href.rsplit("/", 1)[-1]


def rendition_rank(href: str) -> int:
    """Order of preference among the renditions of one image: 0 first, 1 last.

    A rendition whose name carries a format the image decoder cannot read (a PDF or EPS
    beside the JPEG) ranks 1; image formats and extension-less stems, which the resolver
    completes with an image extension, rank 0.
    """
    _, dot, ext = href_filename(href).rpartition(".")
    return 1 if dot and ext.lower() in _NOT_IMAGE_EXTENSIONS else 0


def resolve_graphic(href: str, media: tuple[MediaRef, ...]) -> MediaRef | None:
    """The media file a ``graphic/@xlink:href`` names (see ``href_filename``).

    Hrefs usually lack the extension (``pone.0046493.g001`` is ``pone.0046493.g001.jpg``);
    when several files share the stem, prefer the formats that decode best.
    """
    name = href_filename(href)
    if not name:
        return None
    by_name = {m.filename.lower(): m for m in media}
    if name.lower() in by_name:
        return by_name[name.lower()]
    stem, dot, ext = name.rpartition(".")
    stems = [name, stem] if dot and ext.lower() in _IMAGE_EXTENSIONS else [name]
    for base in stems:
        for candidate in _IMAGE_EXTENSIONS:
            found = by_name.get(f"{base}.{candidate}".lower())
            if found is not None:
                return found
    return None


def parse_object_url(url: str) -> MediaRef:
    """Split ``s3://bucket/key?md5=hex`` (or an https URL) into key and MD5.

    Here because the metadata JSON is what names objects by URL (its ``xml_url`` and
    ``media_urls``); the corpus generator writes such URLs and reads them back with it.
    """
    parts = urlsplit(url)
    md5 = parse_qs(parts.query).get("md5", [""])[0]
    path = parts.path.lstrip("/")
    if parts.scheme in ("http", "https") and parts.netloc.split(".")[0] != BUCKET:
        # path-style https URL: https://s3.amazonaws.com/<bucket>/<key>
        path = path.split("/", 1)[1] if "/" in path else path
    return MediaRef(key=path, md5=md5)
