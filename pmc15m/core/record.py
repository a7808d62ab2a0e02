"""The typed records that travel the pipeline, and the sample key.

Stages pass these dataclasses rather than dicts or tuples so a renamed field fails loudly
at the first stage that touches it. ``Sample`` is the one record that becomes a shard row
(or a reject row); the others are what comes before a figure exists.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sanitize_key_part(text: str) -> str:
    """Make ``text`` safe inside a sample key.

    webdataset splits a tar member name at the first dot, and keys travel into file names,
    so only ASCII letters, digits, ``_`` and ``-`` survive; anything else becomes ``-``.
    """
    cleaned = _KEY_UNSAFE.sub("-", text.strip())
    return cleaned or "x"


def figure_key_part(fig_id: str, graphic_index: int, n_graphics: int) -> str:
    """The figure's part of a sample key: its id, plus ``_g<n>`` when it has several graphics.

    ``graphic_index`` counts from 1. A figure with a single graphic gets no suffix, so the
    common case reads ``PMC123_1_F1``.
    """
    part = sanitize_key_part(fig_id)
    if n_graphics > 1:
        part = f"{part}_g{graphic_index}"
    return part


def make_key(pmcid: str, version: int, fig_key: str) -> str:
    """The stable sample key ``PMC<id>_<v>_<figkey>`` (no dots, see ``sanitize_key_part``)."""
    return f"{sanitize_key_part(pmcid)}_{version}_{fig_key}"


ARTICLE_KEY_PART = "article"  # the figure part of an article-level reject's key


def is_article_key(key: str) -> bool:
    """Whether a reject row stands for a whole article rather than one figure."""
    return key.endswith(f"_{ARTICLE_KEY_PART}")


@dataclass(slots=True, frozen=True)
class ArticleVersion:
    """One article version as the listing (the inventory) names it."""

    pmcid: str  # "PMC10009416"
    version: int  # 1
    metadata_key: str  # "metadata/PMC10009416.1.json"
    etag: str = ""  # the metadata object's ETag: changes whenever the version changes
    last_modified: str = ""

    @property
    def prefix(self) -> str:
        """The bucket prefix holding the version's files, ``PMC10009416.1/``."""
        return f"{self.pmcid}.{self.version}/"


@dataclass(slots=True, frozen=True)
class MediaRef:
    """A file of the article version, as the metadata's ``media_urls`` name it."""

    key: str  # object key inside the bucket, "PMC10009416.1/NPR2-43-85-g001.jpg"
    md5: str  # hex MD5 from the URL's ?md5= parameter ("" when absent)

    @property
    def filename(self) -> str:
        return self.key.rsplit("/", 1)[-1]


@dataclass(slots=True)
class ArticleMeta:
    """The fields of ``metadata/PMC<id>.<v>.json`` the pipeline uses."""

    pmcid: str
    version: int
    pmid: str = ""
    doi: str = ""
    title: str = ""
    citation: str = ""
    is_pmc_openaccess: bool = False
    is_manuscript: bool = False
    is_historical_ocr: bool = False
    is_retracted: bool = False
    license_code: str = ""
    xml_key: str = ""
    xml_md5: str = ""
    media: tuple[MediaRef, ...] = ()
    metadata_etag: str = ""


@dataclass(slots=True)
class SubCaption:
    """One panel of a composite figure's caption: ``(A) ...`` gives panel ``A``."""

    panel: str
    text: str


@dataclass(slots=True)
class CaptionTranslation:
    """The caption of the same figure in another language (SciELO's bilingual fig-groups)."""

    lang: str  # the fig's xml:lang ("pt"), or the language it inherits; "" when none is known
    label: str  # "Figura 1"
    text: str


@dataclass(slots=True)
class Figure:
    """One ``<fig>`` (or one graphic of a multi-graphic fig) found in the JATS."""

    fig_id: str  # the @id, or a stable synthetic id when the fig has none
    fig_key: str  # key part, unique within the article (see figure_key_part)
    label: str = ""  # "Figure 1"
    caption: str = ""  # full caption text: title then paragraphs, normalised
    caption_title: str = ""
    group_caption: str = ""  # caption of the enclosing <fig-group>, if any
    caption_translations: list[CaptionTranslation] = field(default_factory=list)
    graphic: str = ""  # xlink:href as written (often without an extension)
    alternatives: tuple[str, ...] = ()  # other hrefs of the same image (<alternatives>)
    location: str = "body"  # body | floats | back | sub-article
    subcaptions: list[SubCaption] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParsedArticle:
    """What the JATS parser returns for one article."""

    pmcid: str = ""
    pmid: str = ""
    doi: str = ""
    title: str = ""
    journal: str = ""
    year: int | None = None
    license_url: str = ""
    license_type: str = ""
    article_type: str = ""
    subjects: tuple[str, ...] = ()
    figures: list[Figure] = field(default_factory=list)


@dataclass(slots=True)
class Sample:
    """A figure-caption pair on its way to a shard, or to ``rejects/`` with its reason.

    Every field but ``image`` becomes a column of the shard's Parquet file and the
    ``<key>.json`` member of its tar; ``image`` becomes ``<key>.jpg``.
    """

    key: str
    pmcid: str
    version: int
    pmid: str = ""
    doi: str = ""
    # figure
    fig_id: str = ""
    label: str = ""
    caption: str = ""
    caption_title: str = ""
    group_caption: str = ""
    subcaptions: list[dict[str, str]] = field(default_factory=list)
    caption_translations: list[dict[str, str]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    graphic: str = ""
    fig_location: str = ""
    # article
    title: str = ""
    journal: str = ""
    year: int | None = None
    license_code: str = ""
    license_url: str = ""
    article_type: str = ""
    subjects: list[str] = field(default_factory=list)
    citation: str = ""
    # image facts
    source_key: str = ""
    source_md5: str = ""
    src_format: str = ""
    src_mode: str = ""
    src_width: int | None = None
    src_height: int | None = None
    src_bytes: int | None = None
    src_sha256: str = ""
    width: int | None = None
    height: int | None = None
    out_bytes: int | None = None
    phash: str = ""
    pixel_sha256: str = ""
    pixel_std: float | None = None
    # deduplication
    cluster_id: str = ""
    cluster_size: int | None = None
    duplicate_of: str = ""
    # provenance and routing
    metadata_etag: str = ""
    build_id: str = ""
    split: str = ""
    reject_reason: str = ""
    reject_detail: str = ""
    image: bytes | None = field(default=None, repr=False)

    def row(self) -> dict[str, Any]:
        """The metadata row: every field except the image bytes."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["image"]
        return out

    def rejected(self, reason: str, detail: str = "") -> Sample:
        """This sample marked as dropped, its image released."""
        return dataclasses.replace(self, reject_reason=reason, reject_detail=detail[:500], image=None)


SAMPLE_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Sample) if f.name != "image")
