"""Figure mentions: the sentences of an article's prose that cite each figure.

A caption says what a figure shows; the body sentences that cite it (``<xref
ref-type="fig" rid="F2">``) say what it means, and later biomedical image-text corpora
train on both. Prose is ``<p>`` outside figures, tables, front matter and reference
lists, so a caption citing another figure is not a mention of it.

Sentences are found by rendering the whole paragraph once with a private-use marker
character after each citing ``<xref>``, splitting the normalised text into sentences
(the splitter treats the markers as transparent), and reading back which markers each
sentence holds. This keeps the text identical to caption rendering (formulas, spacing)
and costs one pass per citing paragraph. The sentence splitter is here too: prose
sentences are only ever needed for mentions.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

from lxml import etree

from pmc15m.core.text import INVISIBLE_CLASS, normalize_space
from pmc15m.jats.captions import render_raw

MAX_MENTIONS = 10  # per figure: enough context, bounded row size for much-cited figures
# An <xref> under one of these is not prose about the figure (captions, tables, metadata).
_NOT_PROSE = frozenset({"fig", "fig-group", "table-wrap", "front", "front-stub", "ref-list", "floats-group"})
# Supplementary private-use characters: never in article text, so safe as xref markers.
_MARK_BASE = 0xF0000
_MARK_COUNT = 0x100
_MARKERS = "\U000f0000-\U000f00ff"  # transparent to the sentence splitter
_MARK = re.compile(f"[{_MARKERS}]")
# A marker, or a character that normalising deletes (the rare text split after normalising).
_MARK_OR_INVISIBLE = re.compile(f"[{_MARKERS}{INVISIBLE_CLASS}]")
_FIRST_MARK = chr(_MARK_BASE)

Figs = list[etree._Element]


def collect_mentions(
    article: etree._Element, figs: Figs, xrefs: Iterable[etree._Element] | None = None
) -> dict[etree._Element, list[str]]:
    """Sentences of the prose that cite each of ``figs`` by ``<xref rid>``, de-duplicated, in order.

    ``rid`` may list several ids; an id naming a ``<fig-group>`` cites every fig in it.
    At most ``MAX_MENTIONS`` sentences per fig; only figs of ``figs`` are keys. ``xrefs``:
    the article's ``<xref>``s in document order when the caller has them (else a walk finds them).
    """
    if not figs:
        return {}
    xrefs = article.iter("xref") if xrefs is None else xrefs
    targets, paragraphs = _citing_xrefs(xrefs, _targets_by_id(figs))
    out: dict[etree._Element, list[str]] = {}
    for paragraph, xrefs in paragraphs.items():
        if all(len(out.get(fig, ())) >= MAX_MENTIONS for xref in xrefs for fig in targets[xref]):
            continue  # every fig it cites has all its mentions: the paragraph cannot add one
        for sentence, cited in _citing_sentences(paragraph, xrefs, targets):
            for fig in cited:
                found = out.setdefault(fig, [])
                if sentence not in found and len(found) < MAX_MENTIONS:
                    found.append(sentence)
    return out


def _targets_by_id(figs: Figs) -> dict[str, Figs]:
    """``id -> figs`` it names: a fig's own id, and each enclosing fig-group's id.

    Groups are found from the figs (not by a walk of the whole article), so a group's id
    names the figs of ``figs`` in it, the only ones whose mentions are asked for. An id
    with a space inside is left out: no token of a ``rid`` can name it.
    """
    by_id: dict[str, Figs] = {}
    for fig in figs:
        fig_id = (fig.get("id") or "").strip()
        if fig_id:
            by_id.setdefault(fig_id, []).append(fig)
    for fig in figs:
        for group in fig.iterancestors("fig-group"):
            group_id = (group.get("id") or "").strip()
            if group_id:
                by_id.setdefault(group_id, []).append(fig)
    return {key: cited for key, cited in by_id.items() if len(key.split()) == 1}


def _cited(rid: str, by_id: dict[str, Figs]) -> Figs | None:
    """The figs a ``rid`` names (None or empty when none).

    One id, the common case, is one lookup: ``rid`` itself is a key only when it is a
    single token (no key holds a space), and an alphanumeric ``rid`` that is not a key
    names nothing, so only the rest is split.
    """
    cited = by_id.get(rid)
    if cited is not None or rid.isalnum():
        return cited
    rids = rid.split()
    if len(rids) == 1:
        return by_id.get(rids[0])
    return [f for one in rids for f in by_id.get(one, ())]


def _citing_xrefs(
    xrefs: Iterable[etree._Element], by_id: dict[str, Figs]
) -> tuple[dict[etree._Element, Figs], dict[etree._Element, list[etree._Element]]]:
    """Each xref of the prose that cites a fig, with its figs; each citing paragraph, with its xrefs.

    A paragraph is the nearest ``<p>`` of some citing xref, in document order; its xrefs are
    every citing xref inside it, those of a ``<p>`` nested in it included (rendering it marks
    them too, so its sentences that hold them cite their figs).
    """
    targets: dict[etree._Element, Figs] = {}
    paragraphs: dict[etree._Element, list[etree._Element]] = {}
    enclosing: list[tuple[etree._Element, list[etree._Element]]] = []
    chains: dict[etree._Element, list[etree._Element] | None] = {}
    for xref in xrefs:
        rid = xref.get("rid")
        if not rid or not (cited := _cited(rid, by_id)):
            continue
        if around := _prose_paragraphs(xref.getparent(), chains):
            targets[xref] = cited
            paragraphs.setdefault(around[0], [])
            enclosing.append((xref, around))
    for xref, around in enclosing:
        for paragraph in around:
            if paragraph in paragraphs:
                paragraphs[paragraph].append(xref)
    return targets, paragraphs


def _prose_paragraphs(
    parent: etree._Element | None, chains: dict[etree._Element, list[etree._Element] | None]
) -> list[etree._Element] | None:
    """The ``<p>``s around an xref whose parent is ``parent``, nearest first; None when the
    xref is not in body prose (an ancestor is in ``_NOT_PROSE``).

    ``chains`` holds the answer for every element already looked at, so the ancestors that
    the xrefs of a section share are read once, not once per xref.
    """
    path: list[etree._Element] = []
    node = parent
    while node is not None and node not in chains:
        path.append(node)
        node = node.getparent()
    around = chains[node] if node is not None else []
    for el in reversed(path):
        tag = el.tag
        if around is None or tag in _NOT_PROSE:
            around = None
        elif tag == "p":
            around = [el, *around]
        chains[el] = around
    return around


def _citing_sentences(
    paragraph: etree._Element, xrefs: list[etree._Element], targets: dict[etree._Element, Figs]
) -> list[tuple[str, Figs]]:
    """``(sentence, cited figs)`` for each sentence of ``paragraph`` holding a fig xref.

    Each xref leaves a private-use marker character after its text, so the sentence that
    contains it is known after sentence splitting: markers are found once in the paragraph
    and looked up among the sentence cut points. A paragraph with more than 256 citing
    xrefs marks only the first 256.
    """
    marks: dict[str, Figs] = {}

    def mark(el: etree._Element) -> str | None:
        cited = targets.get(el)
        if cited is None or len(marks) >= _MARK_COUNT:
            return None
        char = chr(_MARK_BASE + len(marks))
        marks[char] = cited
        return char

    text = render_raw(paragraph, hook=mark, hooked=xrefs)
    return _marked_sentences(text, marks) if marks else []


def _marked_sentences(text: str, marks: dict[str, Figs]) -> list[tuple[str, Figs]]:
    """``_citing_sentences`` of a rendered paragraph, ``marks`` naming each marker's figs.

    The text is split as rendered, before whitespace normalisation, unless it holds
    characters that normalising deletes: the splitter reads any run of whitespace as one
    space, so the cuts fall at the same places, and only the sentences kept are
    normalised (most of a paragraph is not). One regex pass finds the markers and any
    such character.
    """
    found = [(m.start(), m.group()) for m in _MARK_OR_INVISIBLE.finditer(text)]
    if any(char < _FIRST_MARK for _, char in found):
        text = normalize_space(text)
        found = [(m.start(), m.group()) for m in _MARK.finditer(text)]
    if not found:
        return []
    cuts = sentence_cuts(text)
    by_sentence: dict[int, list[str]] = {}
    for pos, char in found:
        by_sentence.setdefault(bisect_right(cuts, pos), []).append(char)
    bounds = [0, *cuts, len(text)]
    out: list[tuple[str, Figs]] = []
    for i, chars in by_sentence.items():
        cited = [fig for char in chars for fig in marks.get(char, ())]
        if cited:  # no invisible characters left: splitting is all the normalising needed
            sentence = " ".join(_MARK.sub("", text[bounds[i] : bounds[i + 1]]).split())
            out.append((sentence, list(dict.fromkeys(cited))))
    return out


# --- sentences ---------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    {
        "fig", "figs", "e.g", "i.e", "al", "vs", "cf", "approx", "ca", "eq", "eqs", "ref",
        "refs", "no", "nos", "dr", "sp", "spp", "resp", "vol", "pp", "suppl", "supp", "st",
        "prof", "inc", "ltd", "co", "corp", "jr", "sr", "var", "subsp", "mr", "ms", "ed", "eds",
        "calcd", "exptl", "min", "max",
    }
)  # fmt: skip
_SENTENCE_END = re.compile(rf"[.!?][\"”’)\]{_MARKERS}]*\s+(?=[\"“‘(\[{_MARKERS}]*[A-Z])")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)[.!?]$")
_WORD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz."  # _LAST_WORD's [A-Za-z.]


def split_sentences(text: str) -> list[str]:
    """Sentences of normalised prose; abbreviations (Fig., e.g., et al.) and initials do not end one."""
    sentences: list[str] = []
    start = 0
    for cut in sentence_cuts(text):
        sentences.append(text[start:cut].strip())
        start = cut
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences


def sentence_cuts(text: str) -> list[int]:
    """Where each sentence of ``text`` but the last ends (:func:`split_sentences`'s cut points).

    The mention finder looks sentences up by position, without slicing every one. The
    word before a stop decides whether it ends a sentence: the run of letters and dots
    right before it, from its first letter, within a short window that keeps this linear
    (what ``_LAST_WORD`` finds there, taken with ``str.rstrip``, several times faster).
    """
    cuts: list[int] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        stop = match.start()
        window = text[max(start, stop - 39) : stop]
        word = window[len(window.rstrip(_WORD_CHARS)) :].lstrip(".")
        if word:
            token = word.rstrip(".").lower()
            if token in _ABBREVIATIONS or len(token) == 1:
                continue
        cuts.append(match.end())
        start = match.end()
    return cuts
