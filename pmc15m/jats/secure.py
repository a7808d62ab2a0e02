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
short article whose last caption is cut mid-word. ``tests/jats/test_jats_security.py`` shows
these on small documents. A pairing dataset cannot tell such damage from real content,
so the article is refused whole; PMC validates its XML, so refusals are rare.

Named character entities (``&nbsp;``, ``&mdash;``, ``&InvisibleTimes;``, ``&agr;``) are
resolved from a built-in table (:mod:`pmc15m.jats.entities`), never from a DTD, before the
parse, whether or not the document has a DOCTYPE. Both ways libxml2 would otherwise take are
wrong: without a DOCTYPE the strict parse stops at the first such name (a whole article
refused for a dash), and with the DOCTYPE line every real PMC file carries, libxml2 keeps
each one as an unresolved reference that renders as nothing ("IL&mdash;6 at 5&nbsp;&micro;M"
would read "IL6 at 5M", silently). So every named reference outside CDATA sections and
comments is rewritten as numeric character references; the five XML names (``&amp;`` ...)
are left to the parser. A name the table does not know is kept as visible literal text
(``&foo;`` becomes the characters "&foo;") rather than refused or dropped: one publisher's
private entity should not cost the article's other figures, and text that shows the
reference can be found and fixed later, where a vanished character cannot. The pass is a
byte regex (the text of UTF-16/32 documents, re-encoded the same way) run only when the
bytes hold a named reference other than the five; a document in an encoding it cannot
read (EBCDIC) that still ends with an unresolved reference is refused. Empty input,
non-XML and documents without an ``<article>`` raise :class:`JatsError` as well.

Namespaces. Elements are read by local name: every namespace the document declares is
stripped from its elements (a JATS file in a default namespace reads like a plain one),
except MathML's, whose elements keep it: every reader of MathML (:mod:`pmc15m.jats.mathml`, the
caption renderer) goes by local name, and renaming the thousands of MathML elements of a
formula-heavy article one by one in Python cost more than parsing it. The elements to
rename, and any the caller asks for (``collect``: the parser's figs and xrefs), are found
in one C-level walk of the tree: each full walk costs about a sixth of the parse.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import AnyStr

from lxml import etree

from pmc15m.core import reasons
from pmc15m.jats.entities import ENTITIES, XML_BUILTINS

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50_000_000  # PMC's largest articles are a few MB; 50 MB leaves headroom
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_BANG_SCAN_LIMIT = 64  # "!"s looked at one by one before the byte check falls back to the regex
# Any "&" that is not one of the five XML names or a character reference: a named reference.
_NAMED_REF_HINT = re.compile(rb"&(?!amp;|lt;|gt;|quot;|apos;|#)")
# Byte orders of the documents whose bytes are not ASCII-compatible (XML 1.0 appendix F).
_WIDE_CODECS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
# Spans a named reference is never rewritten in (an unclosed one runs to the end, which keeps
# the scan linear on hostile input), and named references (group 1: the name, an XML name:
# ASCII letters, digits, "._:-", or any non-ASCII character).
_PROTECTED = r"<!(?:\[CDATA\[.*?(?:\]\]>|\Z)|--.*?(?:-->|\Z))"
_BYTES_PROTECTED = re.compile(_PROTECTED.encode("ascii"), re.S)
_TEXT_PROTECTED = re.compile(_PROTECTED, re.S)
_BYTES_REF = re.compile(rb"&([A-Za-z_:\x80-\xff][A-Za-z0-9_:.\x80-\xff-]*);")
_TEXT_REF = re.compile("&([A-Za-z_:\x80-\U0010ffff][A-Za-z0-9_:.\x80-\U0010ffff-]*);")
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
    codec = _wide_codec(data)
    probe = data if codec is None else data.decode(codec, errors="replace").encode("utf-8")
    if _declares_entities(probe):
        raise unparseable("document declares entities (<!ENTITY): refused (XXE / entity expansion)")


def _declares_entities(data: bytes) -> bool:
    """Whether ``data`` holds ``<!ENTITY`` in any case: ``_ENTITY_DECL.search``, made cheap.

    "!" is rare in XML (markup declarations, comments, CDATA, the odd exclamation), so
    memchr finds each one and a slice test follows, about 15 times faster than the
    case-insensitive regex over every byte; past ``_BANG_SCAN_LIMIT`` of them (hostile
    input) the regex takes over, so the check stays linear.
    """
    pos = data.find(b"!")
    for _ in range(_BANG_SCAN_LIMIT):
        if pos == -1:
            return False
        if data[pos - 1 : pos] == b"<" and data[pos + 1 : pos + 7].upper() == b"ENTITY":
            return True
        pos = data.find(b"!", pos + 1)
    return pos != -1 and _ENTITY_DECL.search(data, max(pos - 1, 0)) is not None


def load_article_root(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """The ``<article>`` element of a JATS document, parsed securely, namespaces stripped
    (MathML's kept: module doc)."""
    return load_article(data, max_bytes)[0]


def load_article(
    data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, collect: tuple[str, ...] = ()
) -> tuple[etree._Element, dict[str, list[etree._Element]]]:
    """``load_article_root``, and the article's elements named in ``collect`` (local names of
    no-namespace elements once stripped), each list in document order: the same as
    ``list(article.iter(name))``, from the walk that strips namespaces (module doc)."""
    _refuse_hostile(data, max_bytes)
    data, scanned = resolve_named_entities(data)
    try:
        root = etree.fromstring(data, secure_parser())
    except etree.XMLSyntaxError as exc:
        raise unparseable(f"malformed XML: {exc}") from exc
    if not scanned and root is not None and next(root.iter(etree.Entity), None) is not None:
        raise unparseable("unresolved entity reference in an encoding the entity pass cannot read")
    return _article(root, data, collect)


def resolve_named_entities(data: bytes) -> tuple[bytes, bool]:
    """``data`` with every named reference but the five XML ones resolved (module doc).

    Returns the bytes (``data`` itself when nothing changed) and whether the pass could read
    them at all. ``&mdash;`` becomes ``&#8212;``, an unknown ``&foo;`` becomes ``&amp;foo;``.
    """
    codec = _wide_codec(data)
    if codec is not None:
        text = data.decode(codec, errors="replace")
        if "&" not in text:
            return data, True
        rewritten = _rewrite(text, _TEXT_PROTECTED, _TEXT_REF, _text_replacement)
        return (data if rewritten == text else rewritten.encode(codec)), True
    if b"\x00" in data[:4] or data[:4] == b"\x4c\x6f\xa7\x94":  # another wide form, or EBCDIC
        return data, False
    if _NAMED_REF_HINT.search(data) is None:
        return data, True
    rewritten = _rewrite(data, _BYTES_PROTECTED, _BYTES_REF, _bytes_replacement)
    if rewritten == data:
        return data, True
    log.debug("named entity references resolved from the built-in table")
    return rewritten, True


def _wide_codec(data: bytes) -> str | None:
    """The codec of a document whose bytes are not ASCII-compatible (``_WIDE_CODECS``), or None:
    the byte scans decode such a document first."""
    return next((name for bom, name in _WIDE_CODECS if data.startswith(bom)), None)


def _rewrite(
    data: AnyStr,
    protected: re.Pattern[AnyStr],
    refs: re.Pattern[AnyStr],
    replace: Callable[[re.Match[AnyStr]], AnyStr],
) -> AnyStr:
    """``refs`` replaced everywhere but inside the ``protected`` spans (CDATA, comments).

    Two plain regexes, not one alternation: a pattern that can start at every "<" made the
    pass as slow as the parse itself.
    """
    out, pos = [], 0
    for span in protected.finditer(data):
        out.append(refs.sub(replace, data[pos : span.start()]))
        out.append(span.group())
        pos = span.end()
    out.append(refs.sub(replace, data[pos:]))
    return data[:0].join(out)


def _reference(name: str) -> str | None:
    """What ``&name;`` is rewritten to: character references, or literal text when unknown;
    None for the five XML names, which the parser resolves itself."""
    if name in XML_BUILTINS:
        return None
    chars = ENTITIES.get(name)
    if chars is None:
        return f"&amp;{name};"
    return "".join(f"&#{ord(c)};" for c in chars)


def _text_replacement(match: re.Match[str]) -> str:
    reference = _reference(match.group(1))
    return match.group(0) if reference is None else reference


def _bytes_replacement(match: re.Match[bytes]) -> bytes:
    name = match.group(1)
    if not name.isascii():  # the table's names are ASCII: unknown, kept byte for byte
        return b"&amp;" + name + b";"
    reference = _reference(name.decode("ascii"))
    return match.group(0) if reference is None else reference.encode("ascii")


def _article(
    root: etree._Element | None, data: bytes, collect: tuple[str, ...]
) -> tuple[etree._Element, dict[str, list[etree._Element]]]:
    """The ``<article>`` of a parsed tree, after the checks that need the tree, and what
    ``collect`` names in it."""
    if root is None:
        raise unparseable("no XML content")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise unparseable("document declares entities: refused")
    keep = (MATHML_NS,) if not root.tag.startswith(f"{{{MATHML_NS}}}") else ()  # a MathML root: absurd
    found = strip_namespaces(root, data, keep=keep, collect=collect)
    article = root if root.tag == "article" else next(root.iter("article"), None)
    if article is None:
        raise unparseable(f"no <article> element (root is <{root.tag}>)")
    if article is not root:  # rare: the lists hold the whole document, the article is part of it
        found = {name: list(article.iter(name)) for name in collect}
    return article, found


def strip_namespaces(
    root: etree._Element,
    data: bytes | None = None,
    keep: tuple[str, ...] = (),
    collect: tuple[str, ...] = (),
) -> dict[str, list[etree._Element]]:
    """Local names for the elements, so namespaced and plain JATS (and MathML) read alike.

    Attributes keep their namespaces: ``xlink:href`` is read by its full name; elements of
    the namespaces in ``keep`` keep theirs too. With the document's bytes, only elements of
    the namespaces it declares are visited (lxml finds them in C, in the same walk as the
    no-namespace elements named in ``collect``, which are returned by name in document
    order); without them, or when a declaration cannot be read from the bytes (a UTF-16
    document, a character reference in the URI), every element is visited.
    """
    uris = _declared_namespaces(root, data) if data is not None else None
    if uris is None:
        _strip_every_element(root, keep)
        nodes = list(root.iter(*collect)) if collect else []
    else:
        patterns = [f"{{{uri}}}*" for uri in sorted(uris) if uri not in keep]
        nodes = list(root.iter(*patterns, *collect)) if patterns or collect else []
        for el in nodes:
            tag = el.tag
            if tag[0] == "{":
                el.tag = tag[tag.rindex("}") + 1 :]
    found: dict[str, list[etree._Element]] = {name: [] for name in collect}
    for el in nodes:
        named = found.get(el.tag)
        if named is not None:
            named.append(el)
    return found


def _strip_every_element(root: etree._Element, keep: tuple[str, ...]) -> None:
    """The walk over every element, for documents whose declarations cannot be read."""
    kept = tuple(f"{{{uri}}}" for uri in keep)
    for el in root.iter(etree.Element):
        tag = el.tag
        if tag[0] == "{" and not tag.startswith(kept):
            el.tag = tag.rsplit("}", 1)[1]


def _declared_namespaces(root: etree._Element, data: bytes) -> set[str] | None:
    """Namespace URIs declared in ``data``, or None when the bytes cannot be trusted to say."""
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").lower()
    wide = _wide_codec(data) is not None or b"\x00" in data[:4]  # UTF-16/32, declared or not
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
