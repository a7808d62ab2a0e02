"""The per-element work of each pipeline stage, as plain functions.

``pipelines/`` wraps each of these in a DoFn; keeping them here, free of Beam, lets unit
tests call them directly and keeps the DoFns to routing and counting. A stage returns the
record it produced or a ``Sample`` with ``reject_reason`` set: nothing is dropped without
a row in ``rejects/``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from typing import Any

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.core.record import (
    ARTICLE_KEY_PART,
    SAMPLE_FIELDS,
    ArticleMeta,
    ArticleVersion,
    Figure,
    ParsedArticle,
    Sample,
    make_key,
)
from pmc15m.core.text import strip_controls
from pmc15m.image.process import ImageRejected, process_image
from pmc15m.jats.parse import JatsError, ParseConfig, parse_article
from pmc15m.rules.filters import CAPTION_RULES, IMAGE_RULES, first_rejection
from pmc15m.rules.splits import assign_split
from pmc15m.sources.base import Source
from pmc15m.sources.errors import ChecksumMismatch, FetchFailed, ObjectMissing
from pmc15m.sources.metadata import MetadataError, gate_article, resolve_graphic


def article_key(pmcid: str, version: int) -> str:
    """The key of an article-level reject row (it has no figure part)."""
    return make_key(pmcid, version, ARTICLE_KEY_PART)


def article_reject(pmcid: str, version: int, reason: str, detail: str = "", etag: str = "") -> Sample:
    return Sample(key=article_key(pmcid, version), pmcid=pmcid, version=version, metadata_etag=etag).rejected(
        reason, detail
    )


def split_newest(versions: Iterable[ArticleVersion]) -> tuple[ArticleVersion, list[ArticleVersion]]:
    """The newest version of one PMCID, and the older ones it supersedes."""
    ordered = sorted(versions, key=lambda v: v.version)
    return ordered[-1], ordered[:-1]


def checksum_ok(data: bytes, md5: str) -> bool:
    """True when ``md5`` is absent or matches: the bucket's URLs carry each object's MD5."""
    return not md5 or hashlib.md5(data, usedforsecurity=False).hexdigest() == md5.lower()


def unreadable(exc: ObjectMissing, key: str) -> tuple[str, str]:
    """Reason and detail of a read that ended without bytes (see pmc15m.core.reasons).

    The detail is the object key (plus the kind of the last transient failure), never
    the source's own message, so a local and a remote build write the same reject rows.
    """
    if isinstance(exc, ChecksumMismatch):
        return reasons.CHECKSUM_MISMATCH, key
    if isinstance(exc, FetchFailed):
        return reasons.FETCH_FAILED, f"{key} ({exc.kind})"
    return reasons.MISSING_OBJECT, key


def read_metadata(source: Source, version: ArticleVersion, config: BuildConfig) -> ArticleMeta | Sample:
    """Fetch, parse and gate one article version's metadata."""
    try:
        meta = source.article_meta(version)
    except ObjectMissing as exc:
        reason, detail = unreadable(exc, version.metadata_key)
        return article_reject(version.pmcid, version.version, reason, detail, version.etag)
    except MetadataError as exc:
        return article_reject(
            version.pmcid, version.version, reasons.METADATA_UNREADABLE, str(exc), version.etag
        )
    reason = gate_article(meta, config)
    if reason is not None:
        return article_reject(meta.pmcid, meta.version, reason, meta.license_code, meta.metadata_etag)
    return meta


def gate_on_article_title(meta: ArticleMeta, article: ParsedArticle, config: BuildConfig) -> Sample | None:
    """The gate again, with the JATS title, for a source whose metadata has none.

    The gate reads a retraction from the title too ("RETRACTED: ..."). The legacy packages'
    metadata is synthesised from a CSV row without a title, so their articles are gated on
    the title once the JATS is parsed, here, rather than by the source reading JATS itself.
    """
    if meta.title or not article.title:
        return None
    reason = gate_article(dataclasses.replace(meta, title=article.title), config)
    if reason is None:
        return None
    return article_reject(meta.pmcid, meta.version, reason, meta.license_code, meta.metadata_etag)


def read_article(source: Source, meta: ArticleMeta, parse_config: ParseConfig) -> ParsedArticle | Sample:
    """Fetch and parse the JATS of an article that passed the gate."""
    try:
        data = source.read_verified(meta.xml_key, meta.xml_md5)
    except ObjectMissing as exc:
        reason, detail = unreadable(exc, meta.xml_key)
        return article_reject(meta.pmcid, meta.version, reason, detail, meta.metadata_etag)
    try:
        return parse_article(data, parse_config)
    except JatsError as exc:
        return article_reject(meta.pmcid, meta.version, exc.reason, exc.detail, meta.metadata_etag)


def figure_sample(meta: ArticleMeta, article: ParsedArticle, figure: Figure, config: BuildConfig) -> Sample:
    """The sample of one figure, or its rejection, before any image is fetched."""
    sample = Sample(
        key=make_key(meta.pmcid, meta.version, figure.fig_key),
        pmcid=meta.pmcid,
        version=meta.version,
        pmid=meta.pmid or article.pmid,
        doi=meta.doi or article.doi,
        fig_id=figure.fig_id,
        label=figure.label,
        caption=figure.caption,
        caption_title=figure.caption_title,
        group_caption=figure.group_caption,
        subcaptions=[{"panel": s.panel, "text": s.text} for s in figure.subcaptions],
        caption_translations=[
            {"lang": t.lang, "label": t.label, "text": t.text} for t in figure.caption_translations
        ],
        mentions=list(figure.mentions),
        graphic=figure.graphic,
        fig_location=figure.location,
        title=meta.title or article.title,
        journal=article.journal,
        year=article.year,
        license_code=meta.license_code,
        license_url=article.license_url,
        article_type=article.article_type,
        subjects=list(article.subjects),
        citation=meta.citation,
        metadata_etag=meta.metadata_etag,
        split=assign_split(meta.pmcid, config),
    )
    clean_text_fields(sample)  # the metadata's fields too: they reach the tar, JSON and Parquet
    if not figure.graphic:
        return sample.rejected(reasons.NO_GRAPHIC)
    reason = first_rejection(sample, CAPTION_RULES, config.filters)
    if reason is not None:
        return sample.rejected(reason)
    media = None
    for href in (figure.graphic, *figure.alternatives):
        media = resolve_graphic(href, meta.media)
        if media is not None:
            break
    if media is None:
        return sample.rejected(reasons.GRAPHIC_NOT_FOUND, figure.graphic)
    sample.source_key = media.key
    sample.source_md5 = media.md5
    return sample


def clean_text_fields(sample: Sample) -> None:
    """Strip control and bidirectional-override characters from every text of ``sample``
    (strings, lists of strings, sub-caption dicts), in place (``captions.strip_controls``)."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return strip_controls(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    for name in SAMPLE_FIELDS:
        setattr(sample, name, clean(getattr(sample, name)))


def attach_image(source: Source, sample: Sample, config: BuildConfig) -> Sample:
    """Fetch, check, decode and normalise the sample's image, then apply the image rules."""
    try:
        data = source.read_verified(sample.source_key, sample.source_md5)
    except ObjectMissing as exc:
        return sample.rejected(*unreadable(exc, sample.source_key))
    try:
        image = process_image(data, config.image)
    except ImageRejected as exc:
        return sample.rejected(exc.reason, exc.detail)
    sample.src_format, sample.src_mode = image.src_format, image.src_mode
    sample.src_width, sample.src_height = image.src_width, image.src_height
    sample.src_bytes, sample.src_sha256 = image.src_bytes, image.src_sha256
    sample.width, sample.height, sample.out_bytes = image.width, image.height, len(image.data)
    sample.phash = image.phash
    sample.pixel_sha256, sample.pixel_std = image.pixel_sha256, image.pixel_std
    sample.image = image.data
    reason = first_rejection(sample, IMAGE_RULES, config.filters)
    return sample.rejected(reason) if reason is not None else sample
