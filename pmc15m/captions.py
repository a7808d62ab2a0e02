"""Caption text from JATS: inline markup, whitespace, formulas, label copies, sentences.

Two rules decide the text. First, inline markup (``<italic>``, ``<sub>``, ``<xref>``, …)
adds no characters: the document's own whitespace separates words, so ``total
T<sub>4</sub> in males`` reads "total T4 in males" and ``T<sub>4</sub>`` stays one word.
Text and tails are both kept at every depth, which is where naive extractors lose words
("T4in") or whole nested runs. Second, block elements (``<p>``, ``<title>``,
``<list-item>``, …) are separated by a space, so paragraphs never glue. Formulas become
text (``$…$`` for TeX, linearised MathML) instead of vanishing; of ``<alternatives>`` only
one rendering is kept, so a formula never appears twice.

The module also removes a copy of the figure's label that some publishers repeat at the
start of the caption (the label has its own field), and splits prose into sentences for
body mentions (:mod:`pmc15m.mentions`). Panel sub-captions live in :mod:`pmc15m.panels`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from pmc15m.mathml import linearize, localname
from pmc15m.texmath import clean_tex

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
# Characters no caption shows, deleted from every text field (``strip_controls``): zero-width
# marks, C0 controls that are not whitespace, DEL, the C1 controls (U+0085, "next line", is a
# line break: a space) and the bidirectional embeddings, overrides and isolates, which can
# reorder what a reader sees without changing what a model reads.
_C0 = [c for c in range(0x20) if not chr(c).isspace()]
_INVISIBLE = {
    **dict.fromkeys([*_C0, 0x7F, *range(0x80, 0xA0)], None),
    **dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"), None),
    **dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None),
    0x85: " ",
}
_BINARY_END = tuple("=<>+−×±≤≥≈≠≡∼∝→")
_DOI_LINE = re.compile(r"^DOI:?\s*(?:https?://\S+|10\.\d+/\S+)$", re.I)

Hook = Callable[[etree._Element], str | None]


def normalize_space(text: str) -> str:
    """Single spaces, no invisible characters, stripped.

    ``str.split()`` splits on exactly the characters ``str.isspace()`` accepts (the same
    set as ``re``'s ``\\s``, no-break spaces included) and is several times faster.
    """
    return " ".join(strip_controls(text).split())


def strip_controls(text: str) -> str:
    """``text`` without control, zero-width and bidirectional-override characters.

    For every text field that reaches a shard, whitespace kept as it is (a URL, a DOI).
    """
    return text.translate(_INVISIBLE)


def render_text(el: etree._Element | None, hook: Hook | None = None) -> str:
    """The readable text of ``el`` and everything in it, whitespace normalised.

    ``hook`` is called on every element after its content and may return text to append
    there (before the element's tail); the mention finder uses it to mark ``<xref>``s.
    """
    if el is None:
        return ""
    out: list[str] = []
    _render(el, out, hook)
    return normalize_space("".join(out))


def _render(el: etree._Element, out: list[str], hook: Hook | None) -> None:
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
        out.append(_one_alternative(el, hook))
        return
    block = name in BLOCK_TAGS
    if block:
        out.append(" ")
    if el.text:
        out.append(el.text)
    for child in el:
        if isinstance(child.tag, str) and not (name == "disp-formula" and child.tag == "label"):
            _render(child, out, hook)
        if child.tail:
            out.append(child.tail)
    extra = hook(el) if hook is not None else None
    if extra:
        out.append(extra)
    if block:
        out.append(" ")


def _math_text(el: etree._Element) -> str:
    """Linearised MathML; a trailing binary operator keeps its space before the next word."""
    text = linearize(el)
    return text + " " if text.endswith(_BINARY_END) else text


def _one_alternative(el: etree._Element, hook: Hook | None) -> str:
    """The one rendering of an ``<alternatives>`` block: TeX, else MathML, else the first text."""
    kids = [c for c in el if isinstance(c.tag, str)]
    ranked = sorted(kids, key=lambda c: {"tex-math": 0, "math": 1}.get(localname(c), 2))
    for child in ranked:
        out: list[str] = []
        _render(child, out, hook)
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
    parts: list[str] = [caption.text or ""]
    for child in caption:
        if isinstance(child.tag, str) and not _is_doi_line(child):
            _render(child, parts, None)
        parts.append(child.tail or "")
    return render_text(title_el), normalize_space("".join(parts))


def _is_doi_line(el: etree._Element) -> bool:
    """eLife's "DOI: http://dx.doi.org/…" paragraph (a cheap text test first: most are not)."""
    if el.tag != "p" or "".join(el.itertext()).lstrip()[:3].upper() != "DOI":
        return False
    return _DOI_LINE.match(render_text(el)) is not None


# What may follow a label repeated at the start of a caption: "Figure 1. ", "Figure 1: ", "Fig. 2 | ".
_AFTER_LABEL = re.compile(r"\s*[.:|—–]\s+|\s*[.:|]?$")


def strip_label_copy(text: str, label: str) -> str:
    """``text`` without a leading copy of ``label`` ("Figure 1. Cells" -> "Cells").

    Some publishers repeat the label inside ``<caption>``; the label has its own field
    (and ``include_label`` puts it back once). Only a copy followed by punctuation counts,
    so prose such as "Figure 1 shows the map" keeps its subject.
    """
    core = label.rstrip(" .:|—–")
    if not core or not text.startswith(core):
        return text
    after = _AFTER_LABEL.match(text, len(core))
    return text[after.end() :] if after is not None else text


# --- sentences ---------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    {
        "fig", "figs", "e.g", "i.e", "al", "vs", "cf", "approx", "ca", "eq", "eqs", "ref",
        "refs", "no", "nos", "dr", "sp", "spp", "resp", "vol", "pp", "suppl", "supp", "st",
        "prof", "inc", "ltd", "co", "corp", "jr", "sr", "var", "subsp", "mr", "ms", "ed", "eds",
        "calcd", "exptl", "min", "max",
    }
)  # fmt: skip
_MARKERS = "\U000f0000-\U000f00ff"  # xref markers of the mention finder (see mentions.py)
_SENTENCE_END = re.compile(rf"[.!?][\"”’)\]{_MARKERS}]*\s+(?=[\"“‘(\[{_MARKERS}]*[A-Z])")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)[.!?]$")


def split_sentences(text: str) -> list[str]:
    """Sentences of normalised prose; abbreviations (Fig., e.g., et al.) and initials do not end one."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        # The word before the stop decides; a short window keeps this linear in the text.
        word = _LAST_WORD.search(text[max(start, match.start() - 39) : match.start() + 1])
        if word is not None:
            token = word.group(1).rstrip(".").lower()
            if token in _ABBREVIATIONS or len(token) == 1:
                continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences
