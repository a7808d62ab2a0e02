"""Figure mentions: the sentences of an article's prose that cite each figure.

A caption says what a figure shows; the body sentences that cite it (``<xref
ref-type="fig" rid="F2">``) say what it means, and later biomedical image-text corpora
train on both. Prose is ``<p>`` outside figures, tables, front matter and reference
lists, so a caption citing another figure is not a mention of it.

Sentences are found by rendering the whole paragraph once with a private-use marker
character after each citing ``<xref>``, splitting the normalised text into sentences
(the splitter treats the markers as transparent), and reading back which markers each
sentence holds. This keeps the text identical to caption rendering (formulas, spacing)
and costs one pass per citing paragraph.
"""

from __future__ import annotations

import re

from lxml import etree

from pmc15m.captions import normalize_space, render_text, split_sentences

MAX_MENTIONS = 10  # per figure: enough context, bounded row size for much-cited figures
# An <xref> under one of these is not prose about the figure (captions, tables, metadata).
_NOT_PROSE = frozenset({"fig", "fig-group", "table-wrap", "front", "front-stub", "ref-list", "floats-group"})
# Supplementary private-use characters: never in article text, so safe as xref markers.
_MARK_BASE = 0xF0000
_MARK_COUNT = 0x100
_MARK = re.compile("[\U000f0000-\U000f00ff]")

Figs = list[etree._Element]


def collect_mentions(article: etree._Element, figs: Figs) -> dict[etree._Element, list[str]]:
    """Sentences of the prose that cite each fig by ``<xref rid>``, de-duplicated, in order.

    ``rid`` may list several ids; an id naming a ``<fig-group>`` cites every fig in it.
    At most ``MAX_MENTIONS`` sentences per fig.
    """
    by_id = _targets_by_id(article, figs)
    targets: dict[etree._Element, Figs] = {}
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


def _targets_by_id(article: etree._Element, figs: Figs) -> dict[str, Figs]:
    """``id -> figs`` it names: a fig's own id, and a fig-group's id for all its figs."""
    by_id: dict[str, Figs] = {}
    for fig in figs:
        fig_id = (fig.get("id") or "").strip()
        if fig_id:
            by_id.setdefault(fig_id, []).append(fig)
    for group in article.iter("fig-group"):
        group_id = (group.get("id") or "").strip()
        if group_id:
            by_id.setdefault(group_id, []).extend(group.iter("fig"))
    return by_id


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
    paragraph: etree._Element, targets: dict[etree._Element, Figs]
) -> list[tuple[str, Figs]]:
    """``(sentence, cited figs)`` for each sentence of ``paragraph`` holding a fig xref.

    Each xref leaves a private-use marker character after its text, so the sentence that
    contains it is known after whitespace normalisation and sentence splitting. A
    paragraph with more than 256 citing xrefs marks only the first 256.
    """
    marks: dict[str, Figs] = {}

    def mark(el: etree._Element) -> str | None:
        cited = targets.get(el)
        if cited is None or len(marks) >= _MARK_COUNT:
            return None
        char = chr(_MARK_BASE + len(marks))
        marks[char] = cited
        return char

    out: list[tuple[str, Figs]] = []
    for sentence in split_sentences(render_text(paragraph, hook=mark)):
        cited = [fig for char in _MARK.findall(sentence) for fig in marks.get(char, ())]
        if cited:
            out.append((normalize_space(_MARK.sub("", sentence)), list(dict.fromkeys(cited))))
    return out
