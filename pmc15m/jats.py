"""Secure JATS parsing: article metadata and one ``Figure`` per figure graphic.

Security. Article XML comes from a public bucket, so it is parsed as hostile input: no
entity substitution, no DTD loading, no network, no huge trees, and a size limit checked
before the parser sees a byte. Documents that declare entities (``<!ENTITY``: XXE, the
"billion laughs") are refused outright; a real JATS article never needs one, whereas the
DOCTYPE line naming the JATS or NLM DTD by public/system id is normal and parses without
anything being fetched.

Malformed XML. Only the strict parser is used: a document that is not well-formed raises
:class:`JatsError` (``reason`` ``xml_unparseable``) and lands in ``rejects/``. lxml's
recovering parser was considered and rejected: it re-nests the tree around the error, so a
recovered article can pair a figure with the wrong caption (the very failure this parser
exists to avoid), and a truncated file (a broken download) would pass for a short article.
PMC validates its XML, so refusals are rare and countable in the funnel. One repair is
made: HTML named entities (``&nbsp;``, ``&mdash;``), which the never-loaded JATS DTD would
define, are rewritten as numeric references and the strict parse is retried. Safety limits
(nesting deeper than 256, text nodes over 10 MB) are errors like any other. Empty input,
non-XML and documents without an ``<article>`` raise :class:`JatsError` as well.

Figures. Every ``<fig>`` counts wherever it stands (body, floats-group, appendices,
sub-articles, inside a ``<fig-group>``); graphics of formulas, tables, inline images and
supplementary material do not. A fig with several images yields one ``Figure`` per image,
and a fig with none yields one ``Figure`` with an empty ``graphic`` so that it is rejected
with a reason instead of disappearing. A fig's caption is only ever its own ``<caption>``.

Mentions. The sentences of the article's prose (``<p>`` outside figures, tables and the
front matter) that cite a figure through ``<xref rid>`` travel with it: they are extra
text about the same image, useful for training and for checking captions.
"""

from __future__ import annotations

import dataclasses
import html.entities
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from pmc15m import reasons
from pmc15m.captions import (
    SplitStats,
    caption_parts,
    normalize_space,
    render_text,
    split_rate,
    split_sentences,
    split_subcaptions,
)
from pmc15m.record import Figure, ParsedArticle, figure_key_part, sanitize_key_part

log = logging.getLogger(__name__)

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UNDECLARED_ENTITY = etree.ErrorTypes.ERR_UNDECLARED_ENTITY
_NAMED_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


@dataclass(slots=True, frozen=True)
class ParseConfig:
    """How to parse: the size limit and what a figure's caption text includes.

    Frozen, so one instance can be shared by every worker and used as a default argument.
    """

    max_bytes: int = 50_000_000  # refuse larger documents before parsing
    prepend_group_caption: bool = False  # fig-group caption prepended to each child's caption
    include_label: bool = False  # keep the label ("Figure 1") at the start of the caption text
    extract_mentions: bool = True


class JatsError(Exception):
    """The document cannot be read as a JATS article; ``reason`` names why for ``rejects/``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _fail(detail: str) -> JatsError:
    return JatsError(reasons.XML_UNPARSEABLE, detail)


def _parser() -> etree.XMLParser:
    """A strict parser that reads nothing but the given bytes (fresh: parsers keep error logs)."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
    )


def _refuse_hostile(data: bytes, max_bytes: int) -> None:
    """Checks that need no parse: empty, too large, entity declarations."""
    if not data or data.isspace():
        raise _fail("empty document")
    if len(data) > max_bytes:
        raise _fail(f"document of {len(data)} bytes exceeds max_bytes={max_bytes}")
    probe = data
    if data.startswith(_UTF16_BOMS):
        probe = data.decode("utf-16", errors="replace").encode("utf-8")
    if _ENTITY_DECL.search(probe):
        raise _fail("document declares entities (<!ENTITY): refused (XXE / entity expansion)")


def load_article_root(data: bytes, max_bytes: int = ParseConfig.max_bytes) -> etree._Element:
    """The ``<article>`` element of a JATS document, parsed securely, namespaces stripped."""
    _refuse_hostile(data, max_bytes)
    try:
        return _article(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        error = exc
    repaired = _numeric_entities(data) if error.code == _UNDECLARED_ENTITY else data
    if repaired is data:
        raise _fail(f"malformed XML: {error}") from error
    try:
        article = _article(etree.fromstring(repaired, _parser()))
    except etree.XMLSyntaxError as exc:
        raise _fail(f"malformed XML: {exc}") from exc
    log.warning("JATS used HTML named entities without a DTD; rewritten as numeric references")
    return article


def _numeric_entities(data: bytes) -> bytes:
    """``&nbsp;`` -> ``&#160;`` for every HTML named entity; ``data`` itself when none is found.

    The JATS DTD defines these names, but the DTD is never loaded, so a strict parse stops
    at the first one. Rewriting them repairs the document without any lenient parsing.
    """

    def numeric(match: re.Match[bytes]) -> bytes:
        chars = html.entities.html5.get(match.group(1).decode("ascii") + ";")
        if chars is None or match.group(1) in _XML_ENTITIES:
            return match.group(0)
        return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")

    repaired = _NAMED_REF.sub(numeric, data)
    return data if repaired == data else repaired


def _article(root: etree._Element | None) -> etree._Element:
    """The ``<article>`` of a parsed tree, after the checks that need the tree."""
    if root is None:
        raise _fail("no XML content")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _fail("document declares entities: refused")
    _strip_namespaces(root)
    article = root if root.tag == "article" else next(root.iter("article"), None)
    if article is None:
        raise _fail(f"no <article> element (root is <{root.tag}>)")
    return article


def _strip_namespaces(root: etree._Element) -> None:
    """Local names for every element, so namespaced and plain JATS (and MathML) read alike.

    Attributes keep their namespaces: ``xlink:href`` is read by its full name.
    """
    for el in root.iter(etree.Element):
        tag = el.tag
        if tag[0] == "{":
            el.tag = tag.rsplit("}", 1)[1]


def parse_article(data: bytes, config: ParseConfig = ParseConfig()) -> ParsedArticle:
    """Metadata and figures of one JATS article (see the module docstring for the rules)."""
    article = load_article_root(data, config.max_bytes)
    try:
        parsed = _metadata(article)
        parsed.figures = find_figures(article, config)
    except RecursionError as exc:  # text rendering recurses; the parser caps depth at 256
        raise _fail("markup nested too deeply to render") from exc
    return parsed


def measure_subcaption_split(paths: Iterable[str | Path]) -> SplitStats:
    """Sub-caption split rate over every ``<fig>`` of the JATS files at ``paths`` (benchmarks).

    Counts each fig once (not once per graphic), using its own caption text.
    """
    captions: list[str] = []
    for path in paths:
        seen: dict[str, str] = {}
        for figure in parse_article(Path(path).read_bytes()).figures:
            seen.setdefault(figure.fig_id, figure.caption)
        captions.extend(seen.values())
    return split_rate(captions)


# --- article metadata ----------------------------------------------------------------------

_PREFERRED_DATES = frozenset({"epub", "ppub", "epub-ppub", "pub"})


def _metadata(article: etree._Element) -> ParsedArticle:
    """The article-level fields of ``ParsedArticle`` (figures are added by the caller)."""
    meta = article.find("front/article-meta")
    journal = article.find("front/journal-meta")
    if meta is None:
        meta = etree.Element("article-meta")
    ids = _article_ids(meta)
    license_url, license_type = _license(meta)
    return ParsedArticle(
        pmcid=_normalize_pmcid(ids.get("pmc") or ids.get("pmcid", "")),
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
    ids: dict[str, str] = {}
    for el in meta.findall("article-id"):
        kind = (el.get("pub-id-type") or "").strip().lower()
        value = normalize_space("".join(el.itertext()))
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def _normalize_pmcid(value: str) -> str:
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
    url = (lic.get(XLINK_HREF) or lic.get("href") or "").strip()
    if not url:
        url = normalize_space("".join(lic.findtext("license_ref") or ""))
    if not url:
        link = lic.find(".//ext-link")
        url = (link.get(XLINK_HREF) or "").strip() if link is not None else ""
    return url, (lic.get("license-type") or "").strip()


def _subjects(meta: etree._Element) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for el in meta.iterfind("article-categories//subject"):
        text = render_text(el)
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


# --- figures -------------------------------------------------------------------------------

# Subtrees of a <fig> whose graphics are not the figure's image.
_NOT_FIGURE_IMAGE = frozenset(
    {
        "caption", "label", "disp-formula", "inline-formula", "table-wrap", "supplementary-material",
        "fig", "fig-group", "chem-struct-wrap", "inline-graphic", "permissions", "attrib",
    }
)  # fmt: skip
# Checked in this order, so a sub-article's own back matter still counts as "sub-article".
_LOCATIONS = (
    ("sub-article", "sub-article"),
    ("response", "sub-article"),
    ("floats-group", "floats"),
    ("floats-wrap", "floats"),
    ("back", "back"),
)


def find_figures(article: etree._Element, config: ParseConfig = ParseConfig()) -> list[Figure]:
    """One ``Figure`` per image of every ``<fig>``, in document order (see module doc)."""
    figs = list(article.iter("fig"))
    mentions = collect_mentions(article, figs) if config.extract_mentions else {}
    used: set[str] = set()
    out: list[Figure] = []
    for n, fig in enumerate(figs, start=1):
        fig_id = (fig.get("id") or "").strip() or f"fig-auto-{n}"
        images = _images(fig) or [("", ())]
        keys = _allocate_keys(sanitize_key_part(fig_id), len(images), used)
        base = _base_figure(fig, fig_id, config, mentions.get(fig, []))
        for key, (href, alternatives) in zip(keys, images, strict=True):
            out.append(_with_image(base, key, href, alternatives))
    return out


def _base_figure(fig: etree._Element, fig_id: str, config: ParseConfig, mentions: list[str]) -> Figure:
    """Everything but the image: text, location and mentions, shared by the fig's images.

    Sub-captions are split from the fig's own caption, whatever the config prepends to it.
    """
    title, own = caption_parts(fig.find("caption"))
    group = next(fig.iterancestors("fig-group"), None)
    group_caption = caption_parts(group.find("caption"))[1] if group is not None else ""
    label = render_text(fig.find("label"))
    text = own
    if config.prepend_group_caption and group_caption:
        text = f"{group_caption} {text}".strip()
    if config.include_label and label:
        text = f"{label} {text}".strip()
    return Figure(
        fig_id=fig_id,
        fig_key="",
        label=label,
        caption=text,
        caption_title=title,
        group_caption=group_caption,
        location=_location(fig),
        subcaptions=split_subcaptions(own),
        mentions=list(mentions),
    )


def _with_image(base: Figure, key: str, href: str, alternatives: tuple[str, ...]) -> Figure:
    """A copy of ``base`` for one image; lists are copied so figures never share them."""
    return dataclasses.replace(
        base,
        fig_key=key,
        graphic=href,
        alternatives=alternatives,
        subcaptions=list(base.subcaptions),
        mentions=list(base.mentions),
    )


def _allocate_keys(base: str, n: int, used: set[str]) -> list[str]:
    """Key parts for the fig's ``n`` images, unique in the article (``-2``, ``-3`` on collision)."""
    suffix = 1
    while True:
        stem = base if suffix == 1 else f"{base}-{suffix}"
        keys = [figure_key_part(stem, i, n) for i in range(1, n + 1)]
        if used.isdisjoint(keys):
            used.update(keys)
            return keys
        suffix += 1


def _location(fig: etree._Element) -> str:
    ancestors = {a.tag for a in fig.iterancestors()}
    for tag, location in _LOCATIONS:
        if tag in ancestors:
            return location
    return "body"


def _href(graphic: etree._Element) -> str:
    return (graphic.get(XLINK_HREF) or graphic.get("href") or "").strip()


def _images(fig: etree._Element) -> list[tuple[str, tuple[str, ...]]]:
    """``(href, alternative hrefs)`` per image; an ``<alternatives>`` block is one image."""
    images: list[tuple[str, tuple[str, ...]]] = []
    for graphic, alternatives in _graphics(fig):
        if alternatives is None:
            images.append((_href(graphic), ()))
            continue
        hrefs = list(dict.fromkeys(_href(g) for g, _ in _graphics(alternatives)))
        if hrefs:
            images.append((hrefs[0], tuple(h for h in hrefs[1:] if h)))
    return images


def _graphics(el: etree._Element) -> list[tuple[etree._Element, etree._Element | None]]:
    """Graphics under ``el`` outside excluded subtrees; an ``<alternatives>`` stands for its own."""
    found: list[tuple[etree._Element, etree._Element | None]] = []
    for child in el.iterchildren(etree.Element):
        if child.tag in _NOT_FIGURE_IMAGE:
            continue
        if child.tag == "graphic":
            found.append((child, None))
        elif child.tag == "alternatives" and el.tag != "alternatives":
            found.append((child, child))
        else:
            found.extend(_graphics(child))
    return found


# --- body mentions -------------------------------------------------------------------------

MAX_MENTIONS = 10
# An <xref> under one of these is not prose about the figure (captions, tables, metadata).
_NOT_PROSE = frozenset({"fig", "fig-group", "table-wrap", "front", "front-stub", "ref-list", "floats-group"})
# Supplementary private-use characters: never in article text, so safe as xref markers.
_MARK_BASE = 0xF0000
_MARK = re.compile("[\U000f0000-\U000f00ff]")


def collect_mentions(article: etree._Element, figs: list[etree._Element]) -> dict[etree._Element, list[str]]:
    """Sentences of the prose that cite each fig by ``<xref rid>``, de-duplicated, in order.

    ``rid`` may list several ids; an id naming a ``<fig-group>`` cites every fig in it.
    At most ``MAX_MENTIONS`` sentences per fig.
    """
    by_id: dict[str, list[etree._Element]] = {}
    for fig in figs:
        if fig.get("id"):
            by_id.setdefault(fig.get("id", "").strip(), []).append(fig)
    for group in article.iter("fig-group"):
        if group.get("id"):
            by_id.setdefault(group.get("id", "").strip(), []).extend(group.iter("fig"))
    targets: dict[etree._Element, list[etree._Element]] = {}
    paragraphs: dict[etree._Element, None] = {}
    for xref in article.iter("xref"):
        cited = [f for rid in (xref.get("rid") or "").split() for f in by_id.get(rid, ())]
        paragraph = _prose_paragraph(xref) if cited else None
        if paragraph is not None:
            targets[xref] = cited
            paragraphs.setdefault(paragraph, None)
    out: dict[etree._Element, list[str]] = {}
    for paragraph in paragraphs:
        for sentence, cited in _citing_sentences(paragraph, targets):
            for fig in cited:
                found = out.setdefault(fig, [])
                if sentence not in found and len(found) < MAX_MENTIONS:
                    found.append(sentence)
    return out


def _prose_paragraph(xref: etree._Element) -> etree._Element | None:
    """The nearest ``<p>`` around ``xref``, or None when the xref is not in body prose."""
    paragraph = None
    for ancestor in xref.iterancestors():
        if ancestor.tag in _NOT_PROSE:
            return None
        if paragraph is None and ancestor.tag == "p":
            paragraph = ancestor
    return paragraph


def _citing_sentences(
    paragraph: etree._Element, targets: dict[etree._Element, list[etree._Element]]
) -> list[tuple[str, list[etree._Element]]]:
    """``(sentence, cited figs)`` for each sentence of ``paragraph`` holding a fig xref.

    Each xref leaves a private-use marker character after its text, so the sentence that
    contains it is known after whitespace normalisation and sentence splitting (which
    treats the markers as transparent).
    """
    marks: dict[str, list[etree._Element]] = {}

    def mark(el: etree._Element) -> str | None:
        cited = targets.get(el)
        if cited is None or len(marks) > 0xFF:
            return None
        char = chr(_MARK_BASE + len(marks))
        marks[char] = cited
        return char

    out: list[tuple[str, list[etree._Element]]] = []
    for sentence in split_sentences(render_text(paragraph, hook=mark)):
        cited = [fig for char in _MARK.findall(sentence) for fig in marks.get(char, ())]
        if cited:
            out.append((normalize_space(_MARK.sub("", sentence)), list(dict.fromkeys(cited))))
    return out
