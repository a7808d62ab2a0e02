"""Article-level metadata from JATS front matter: ids, title, journal, year, license, subjects.

The bucket's metadata JSON already names the PMCID, DOI and license code; these fields are
read from the XML as well because the XML is what a local mirror (or an old package) has,
and because the license URL, article type and subjects exist only there. Every field is
optional in real articles (eLife's publish-on-accept XML has no publication date), so a
missing one becomes "" / None / (), never an error.
"""

from __future__ import annotations

import re

from lxml import etree

from pmc15m.core.record import ParsedArticle
from pmc15m.core.text import normalize_space
from pmc15m.jats.captions import render_text
from pmc15m.jats.secure import href

# Publication dates that say when the article came out (not received/accepted/collection).
_PREFERRED_DATES = frozenset({"epub", "ppub", "epub-ppub", "pub"})


def article_metadata(article: etree._Element) -> ParsedArticle:
    """The article-level fields of ``ParsedArticle`` (figures are added by the caller)."""
    meta = article.find("front/article-meta")
    journal = article.find("front/journal-meta")
    if meta is None:
        meta = etree.Element("article-meta")
    ids = _article_ids(meta)
    license_url, license_type = _license(meta)
    return ParsedArticle(
        pmcid=normalize_pmcid(ids.get("pmc") or ids.get("pmcid", "")),
        pmid=ids.get("pmid", ""),
        doi=ids.get("doi", ""),
        title=render_text(meta.find("title-group/article-title")),
        journal=render_text(journal.find(".//journal-title")) if journal is not None else "",
        year=_year(meta),
        license_url=license_url,
        license_type=license_type,
        article_type=(article.get("article-type") or "").strip(),
        subjects=_subjects(meta),
    )


def _article_ids(meta: etree._Element) -> dict[str, str]:
    """``pub-id-type -> value`` (lower-cased type), the first of each type winning."""
    ids: dict[str, str] = {}
    for el in meta.findall("article-id"):
        kind = (el.get("pub-id-type") or "").strip().lower()
        value = normalize_space("".join(el.itertext()))
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def normalize_pmcid(value: str) -> str:
    """``3166277`` or ``pmc3166277`` -> ``PMC3166277``; anything without digits -> ""."""
    digits = re.sub(r"^PMC", "", value.strip(), flags=re.I)
    return f"PMC{digits}" if digits.isdigit() else ""


def _year(meta: etree._Element) -> int | None:
    """Year of the first publication date, preferring the electronic/print publication dates."""
    fallback = None
    for date in meta.iter("pub-date"):
        match = re.search(r"\d{4}", date.findtext("year") or "")
        if match is None:
            continue
        kind = {(date.get("pub-type") or "").lower(), (date.get("date-type") or "").lower()}
        if kind & _PREFERRED_DATES:
            return int(match.group())
        fallback = fallback or int(match.group())
    return fallback


def _license(meta: etree._Element) -> tuple[str, str]:
    """``(url, type)`` of the first license: its xlink:href, else ali:license_ref, else a link."""
    lic = meta.find("permissions/license")
    if lic is None:
        return "", ""
    url = href(lic)
    if not url:
        url = normalize_space(lic.findtext("license_ref") or "")
    if not url:
        link = lic.find(".//ext-link")
        url = href(link) if link is not None else ""
    return url, (lic.get("license-type") or "").strip()


def _subjects(meta: etree._Element) -> tuple[str, ...]:
    """Every subject heading, nested groups included, de-duplicated in document order."""
    seen: dict[str, None] = {}
    for el in meta.iterfind("article-categories//subject"):
        text = render_text(el)
        if text:
            seen.setdefault(text, None)
    return tuple(seen)
