"""Caption text from JATS: inline markup, whitespace, formulas.

Two rules decide the text. First, inline markup (``<italic>``, ``<sub>``, ``<xref>``, …)
adds no characters: the document's own whitespace separates words, so ``total
T<sub>4</sub> in males`` reads "total T4 in males" and ``T<sub>4</sub>`` stays one word.
Text and tails are both kept at every depth, which is where naive extractors lose words
("T4in") or whole nested runs. Second, block elements (``<p>``, ``<title>``,
``<list-item>``, …) are separated by a space, so paragraphs never glue. Formulas become
text (``$…$`` for TeX, linearised MathML) instead of vanishing; of ``<alternatives>`` only
one rendering is kept, so a formula never appears twice.

Body mentions and the sentence splitter live in :mod:`pmc15m.jats.mentions`; panel
sub-captions, and the label copy some publishers repeat in the caption, in :mod:`pmc15m.jats.panels`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import partial

from lxml import etree

from pmc15m.core.text import normalize_space
from pmc15m.jats.mathml import linearize, localname
from pmc15m.jats.texmath import clean_tex

# Separated from their neighbours by a space: never part of a word on either side.
BLOCK_TAGS = frozenset(
    {
        "p", "title", "list", "list-item", "def-list", "def-item", "term", "def", "disp-quote",
        "caption", "sec", "boxed-text", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
        "label", "break", "attrib", "statement", "verse-group", "verse-line", "fn", "fn-group",
        "disp-formula", "disp-formula-group", "array", "speech", "question", "answer",
    }
)  # fmt: skip
# Contribute no text where they stand: images, identifiers, accessibility copies, and
# floats nested in a paragraph (they are figures or tables of their own, not prose).
DROP_TAGS = frozenset(
    {
        "object-id", "inline-graphic", "graphic", "media", "alt-text", "long-desc",
        "permissions", "fig", "fig-group", "table-wrap", "table-wrap-group",
        "supplementary-material", "chem-struct-wrap", "ref-list", "processing-meta",
    }
)  # fmt: skip
_BINARY_END = tuple("=<>+−×±≤≥≈≠≡∼∝→")
_DOI_LINE = re.compile(r"^DOI:?\s*(?:https?://\S+|10\.\d+/\S+)$", re.I)
# Elements the renderer must visit itself; any other subtree reads as its ``itertext()``.
_SELF_RENDERED = frozenset({"math", "tex-math", "alternatives"})
_SPECIAL = BLOCK_TAGS | DROP_TAGS | _SELF_RENDERED
_NOT_PLAIN = DROP_TAGS | _SELF_RENDERED  # never read as plain text, even without special children

Hook = Callable[[etree._Element], str | None]


def render_text(
    el: etree._Element | None, hook: Hook | None = None, hooked: Collection[etree._Element] = ()
) -> str:
    """The readable text of ``el`` and everything in it, whitespace normalised.

    ``hook`` is called on each element of ``hooked`` inside ``el``, after its content, and
    may return text to append there (before the element's tail); the mention finder uses
    it to mark the ``<xref>``s that cite a figure.
    """
    return normalize_space(render_raw(el, hook, hooked))


def render_raw(
    el: etree._Element | None, hook: Hook | None = None, hooked: Collection[etree._Element] = ()
) -> str:
    """``render_text`` before ``normalize_space``: the mention finder normalises only the
    sentences it keeps, not whole paragraphs."""
    if el is None:
        return ""
    if not len(el) and (hook is None or not hooked):  # a leaf (labels, titles): its own text
        kind = _KIND[el.tag]
        if kind == _PLAIN:
            return el.text or ""
        if kind == _BLOCK:
            return f" {el.text or ''} "
    walk = _Walk(el, hook, hooked)
    if walk.marks_only:
        return _marked_text(el, walk)
    out: list[str] = []
    _render(el, out, walk)
    return "".join(out)


# The text of a subtree in one C call: its text nodes in order, without comments or PIs
# (their tails are kept), without the element's own tail. Four times faster than itertext().
_text_of = partial(etree.tostring, method="text", encoding="unicode", with_tail=False)


class _Walk:
    """Which elements of a render the renderer visits itself; the rest is read by ``_text_of``.

    Inline markup adds no characters, so a subtree holding nothing special (see
    ``_SPECIAL``: blocks, dropped elements, formulas) reads as its plain text, in C rather
    than one Python call per element. Visited are the special elements, the hooked ones,
    entity references, and every element with one of them below it (``inner``); special
    goes by local name (``_Kinds``), as MathML keeps its namespace. ``marks_only``: nothing
    below ``el`` is special and the hooked elements (in ``hooks``, document order) are
    inside it, none inside another.
    """

    __slots__ = ("hook", "hooked", "hooks", "inner", "marks_only", "visit")

    def __init__(self, el: etree._Element, hook: Hook | None, hooked: Collection[etree._Element]):
        self.hook = hook
        self.hooked = frozenset(hooked) if hook is not None else frozenset()
        found: list[etree._Element] = []
        self.hooks: list[etree._Element] = []
        kind = _KIND[el.tag]
        if kind == _PLAIN and el in self.hooked:
            self.hooks.append(el)
        elif kind not in (_PLAIN, _SKIPPED):
            found.append(el)
        if kind != _PRUNED:
            _scan(el, self.hooked, found, self.hooks, 0)
        self.inner: set[etree._Element] = set()
        for node in (*found, *self.hooked):
            while node is not el and (node := node.getparent()) is not None and node not in self.inner:
                self.inner.add(node)
        self.visit = self.inner.union(found, self.hooked)
        self.marks_only = (
            len(self.hooks) == len(self.hooked) > 0
            and all(e is el for e in found)
            and el not in self.hooked
            and self.inner.isdisjoint(self.hooked)
            and localname(el) not in _NOT_PLAIN
        )


_PLAIN, _SPECIAL_NODE, _PRUNED, _SKIPPED, _BLOCK = 0, 1, 2, 3, 4  # _Kinds; pruned: content not visited
_PRUNED_TAGS = DROP_TAGS | {"math", "tex-math"}
_NAME_KINDS = {
    **dict.fromkeys(_SPECIAL, _SPECIAL_NODE),
    **dict.fromkeys(BLOCK_TAGS, _BLOCK),
    **dict.fromkeys(_PRUNED_TAGS, _PRUNED),
}


class _Kinds(dict[object, int]):
    """``tag -> kind`` (one lookup per node), by local name as the renderer's rules go; an
    entity reference is special, a comment or PI skipped. Bounded: a hostile document may
    invent any number of tags."""

    def __missing__(self, tag: object) -> int:
        if tag is etree.Comment or tag is etree.PI:
            kind = _SKIPPED
        elif tag.__class__ is not str:
            kind = _SPECIAL_NODE
        else:
            kind = _NAME_KINDS.get(tag[tag.rfind("}") + 1 :], _PLAIN)  # type: ignore[attr-defined]
        if len(self) < 4096:
            self[tag] = kind
        return kind


_KIND = _Kinds()
_MAX_SCAN_DEPTH = 200  # the parser stops at 256; a deeper tree was built by hand


def _scan(
    node: etree._Element,
    hooked: frozenset[etree._Element],
    found: list[etree._Element],
    hooks: list[etree._Element],
    depth: int,
) -> None:
    """The special elements below ``node`` into ``found``, its hooked ones into ``hooks``.

    In document order. The content of a dropped element or formula (``_PRUNED_TAGS``) is
    passed over: the renderer never visits it, and it can be most of a paragraph (eLife
    puts a figure in the paragraph that first cites it); a walk holding one is never
    ``marks_only``, the one place its hooks would count. A subtree deeper than the parser
    allows (built by hand) is read flat, nothing passed over: the same render.
    """
    kinds = _KIND
    for child in node:
        kind = kinds[child.tag]
        if kind == _PLAIN:
            if child in hooked:
                hooks.append(child)
        elif kind == _SKIPPED:
            continue
        else:
            found.append(child)
            if kind == _PRUNED:
                continue
        if not len(child):
            continue
        if depth < _MAX_SCAN_DEPTH:
            _scan(child, hooked, found, hooks, depth + 1)
            continue
        for e in child.iterdescendants(etree.Element, etree.Entity):
            if kinds[e.tag] != _PLAIN:
                found.append(e)
            elif e in hooked:
                hooks.append(e)


def _marked_text(el: etree._Element, walk: _Walk) -> str:
    """``el``'s text with each hook's text after its element, in one C call (``marks_only``).

    The hook texts go in front of the elements' tails for the call and the tails are put
    back afterwards: the same text as visiting each child, several times faster on the
    long, xref-dense paragraphs the mention finder marks. Hooks run in document order,
    which is rendering order when no hooked element holds another.
    """
    saved: list[tuple[etree._Element, str | None]] = []
    try:
        for el_hooked in walk.hooks:
            extra = walk.hook(el_hooked)  # type: ignore[misc]  # hooks is empty without a hook
            if extra:
                saved.append((el_hooked, el_hooked.tail))
                el_hooked.tail = extra + (el_hooked.tail or "")
        return _text_of(el)
    finally:
        for el_hooked, tail in saved:
            el_hooked.tail = tail


def _render(el: etree._Element, out: list[str], walk: _Walk) -> None:
    name = localname(el)
    if name in DROP_TAGS:
        return
    if name == "math":
        out.append(_math_text(el))
        return
    if name == "tex-math":
        out.append(clean_tex("".join(el.itertext())))
        return
    if name == "alternatives":
        out.append(_one_alternative(el, walk))
        return
    block = name in BLOCK_TAGS
    if block:
        out.append(" ")
    if el in walk.inner:
        _render_children(el, name, out, walk)
    else:
        out.append(_text_of(el))
    if el in walk.hooked:
        extra = walk.hook(el)  # type: ignore[misc]  # hooked is empty without a hook
        if extra:
            out.append(extra)
    if block:
        out.append(" ")


def _render_children(el: etree._Element, name: str, out: list[str], walk: _Walk) -> None:
    """Text and tails in order; comments, PIs and entity references give only their tails."""
    if el.text:
        out.append(el.text)
    visit = walk.visit
    for child in el:
        tag = child.tag
        if tag.__class__ is not str:
            pass
        elif child not in visit:
            out.append(_text_of(child))
        elif not (name == "disp-formula" and tag == "label"):
            _render(child, out, walk)
        if child.tail:
            out.append(child.tail)


def _math_text(el: etree._Element) -> str:
    """Linearised MathML; a trailing binary operator keeps its space before the next word."""
    text = linearize(el)
    return text + " " if text.endswith(_BINARY_END) else text


def _one_alternative(el: etree._Element, walk: _Walk) -> str:
    """The one rendering of an ``<alternatives>`` block: TeX, else MathML, else the first text."""
    kids = [c for c in el if isinstance(c.tag, str)]
    ranked = sorted(kids, key=lambda c: {"tex-math": 0, "math": 1}.get(localname(c), 2))
    for child in ranked:
        out: list[str] = []
        _render(child, out, walk)
        text = "".join(out)
        if text.strip():
            return text
    return ""


def caption_parts(caption: etree._Element | None) -> tuple[str, str]:
    """``(title, full caption)`` of a ``<caption>``; the full caption starts with the title.

    Every block (title, paragraphs, lists) is kept in order, and stray inline content
    directly in the caption reads as it would in a paragraph. eLife's boilerplate
    paragraph "DOI: http://dx.doi.org/…" is dropped: it describes the file, not the image,
    and would teach a CLIP text encoder nothing but URLs.
    """
    if caption is None:
        return "", ""
    title_el = next((c for c in caption if c.tag == "title"), None)
    walk = _Walk(caption, None, ())
    parts: list[str] = [caption.text or ""]
    title = ""
    for child in caption:
        if isinstance(child.tag, str):
            start = len(parts)
            _render(child, parts, walk)
            if child is title_el:  # rendered once, read twice
                title = normalize_space("".join(parts[start:]))
            elif _is_doi_line(child, parts[start:]):
                del parts[start:]
        parts.append(child.tail or "")
    return title, normalize_space("".join(parts))


def _is_doi_line(el: etree._Element, rendered: list[str]) -> bool:
    """eLife's "DOI: http://dx.doi.org/…" paragraph, ``rendered`` its render (a cheap text
    test first: most are not)."""
    if el.tag != "p" or _first_chars(el, 3).upper() != "DOI":
        return False
    return _DOI_LINE.match(normalize_space("".join(rendered))) is not None


def _first_chars(el: etree._Element, n: int) -> str:
    """The first ``n`` characters of ``el``'s text after leading whitespace (without joining it all)."""
    head = (el.text or "").lstrip()  # itertext's first piece, when there is one
    if len(head) >= n:
        return head[:n]
    head = ""
    for piece in el.itertext():
        head = (head + piece).lstrip()
        if len(head) >= n:
            break
    return head[:n]
