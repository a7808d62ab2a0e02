"""Secure reading of JATS bytes into an lxml tree: the ``<article>`` element, or a ``JatsError``.

Security. Article XML comes from a public bucket, so it is parsed as hostile input: no
entity substitution, no DTD loading, no network, no huge trees, and a size limit
(``max_bytes``, configured in ``ParseConfig``) checked before the parser sees a byte.
Documents that declare entities (``<!ENTITY``: XXE, the "billion laughs", quadratic
blow-up) are refused outright, by a byte scan before parsing and again on the parsed
internal DTD subset (which catches encodings the byte scan cannot read); a real JATS
article never needs one, whereas the DOCTYPE line naming the JATS (1.0-1.3) or NLM 3.0 DTD
by public/system id is normal and parses without anything being fetched. lxml's own
limits stay on (``huge_tree=False``): nesting deeper than 256 and text nodes over 10 MB
are errors like any other.

Malformed XML: strict parsing only, no recover mode. A document that is not well-formed
raises :class:`JatsError` (``reason`` ``xml_unparseable``) and lands in ``rejects/``,
counted in the funnel. lxml's recovering parser (``recover=True``) was tried and rejected:
it re-nests the tree around the error, so an unclosed ``<italic>`` or ``<caption>`` pulls
the figure's graphic into its caption (the figure loses its image, and what follows can
land under the wrong figure), and a truncated file (a broken download) passes for a
short article whose last caption is cut mid-word. ``tests/test_jats_security.py`` shows
these on small documents. A pairing dataset cannot tell such damage from real content,
so the article is refused whole; PMC validates its XML, so refusals are rare.

One repair is made, because it is lossless: HTML named entities (``&nbsp;``, ``&mdash;``),
which the never-loaded JATS DTD would define, are rewritten as numeric references and the
strict parse is retried. Empty input, non-XML and documents without an ``<article>`` raise
:class:`JatsError` as well.
"""

from __future__ import annotations

import html.entities
import logging
import re

from lxml import etree

from pmc15m import reasons

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50_000_000  # PMC's largest articles are a few MB; 50 MB leaves headroom
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UNDECLARED_ENTITY = etree.ErrorTypes.ERR_UNDECLARED_ENTITY
_NAMED_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_NS_DECL = re.compile(rb"""xmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*(["'])(.*?)\1""", re.S)


class JatsError(Exception):
    """The document cannot be read as a JATS article; ``reason`` names why for ``rejects/``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def unparseable(detail: str) -> JatsError:
    """The error for every document-level refusal (one reason, the detail says why)."""
    return JatsError(reasons.XML_UNPARSEABLE, detail)


def secure_parser() -> etree.XMLParser:
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
        raise unparseable("empty document")
    if len(data) > max_bytes:
        raise unparseable(f"document of {len(data)} bytes exceeds max_bytes={max_bytes}")
    probe = data
    if data.startswith(_UTF16_BOMS):
        probe = data.decode("utf-16", errors="replace").encode("utf-8")
    if _ENTITY_DECL.search(probe):
        raise unparseable("document declares entities (<!ENTITY): refused (XXE / entity expansion)")


def load_article_root(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The ``<article>`` element of a JATS document, parsed securely, namespaces stripped."""
    _refuse_hostile(data, max_bytes)
    try:
        return _article(etree.fromstring(data, secure_parser()), data)
    except etree.XMLSyntaxError as exc:
        error = exc
    repaired = _numeric_entities(data) if error.code == _UNDECLARED_ENTITY else data
    if repaired is data:
        raise unparseable(f"malformed XML: {error}") from error
    try:
        article = _article(etree.fromstring(repaired, secure_parser()), repaired)
    except etree.XMLSyntaxError as exc:
        raise unparseable(f"malformed XML: {exc}") from exc
    log.debug("JATS used HTML named entities without a DTD; rewritten as numeric references")
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


def _article(root: etree._Element | None, data: bytes) -> etree._Element:
    """The ``<article>`` of a parsed tree, after the checks that need the tree."""
    if root is None:
        raise unparseable("no XML content")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise unparseable("document declares entities: refused")
    strip_namespaces(root, data)
    article = root if root.tag == "article" else next(root.iter("article"), None)
    if article is None:
        raise unparseable(f"no <article> element (root is <{root.tag}>)")
    return article


def strip_namespaces(root: etree._Element, data: bytes | None = None) -> None:
    """Local names for every element, so namespaced and plain JATS (and MathML) read alike.

    Attributes keep their namespaces: ``xlink:href`` is read by its full name. With the
    document's bytes, only elements of the namespaces it declares are visited (lxml finds
    them in C), which spares a Python walk over every element of the common plain-JATS
    article; without them, or when a declaration cannot be read from the bytes (a
    UTF-16 document, a character reference in the URI), every element is visited.
    """
    uris = _declared_namespaces(root, data) if data is not None else None
    if uris is None:
        for el in root.iter(etree.Element):
            tag = el.tag
            if tag[0] == "{":
                el.tag = tag.rsplit("}", 1)[1]
        return
    for uri in uris:
        prefix_len = len(uri) + 2
        for el in list(root.iter(f"{{{uri}}}*")):
            el.tag = el.tag[prefix_len:]


def _declared_namespaces(root: etree._Element, data: bytes) -> set[str] | None:
    """Namespace URIs declared in ``data``, or None when the bytes cannot be trusted to say."""
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").lower()
    wide = data.startswith(_UTF16_BOMS) or b"\x00" in data[:4]  # UTF-16/32, declared or not
    if wide or encoding.startswith(("utf-16", "utf-32", "ucs", "ebcdic")):
        return None
    uris: set[str] = set()
    for match in _NS_DECL.finditer(data):
        uri = match.group(2)
        if b"&" in uri or not uri.isascii():
            return None
        if uri:  # xmlns="" undeclares the default namespace: those elements have none
            uris.add(uri.decode("ascii"))
    return uris


def href(el: etree._Element) -> str:
    """The link target of a graphic or license: ``xlink:href`` by name, else a plain ``href``."""
    return (el.get(XLINK_HREF) or el.get("href") or "").strip()
