"""The parser's fast paths against the general code they stand in for, on generated input.

Each shortcut taken for speed must give exactly what the plain way gives: the "!" scan for
entity declarations and the regex; ``normalize_space``'s printable test and the regex
search; the sentence splitter's ``rstrip`` and the windowed ``_LAST_WORD`` search; the
mention finder's split of the raw paragraph and the split of the normalised one; the walk
that strips namespaces, keeps MathML's and collects figs and xrefs, and the full strip
followed by ``iter``; and, end to end, ``parse_article`` and the general path (every
namespace stripped, ``find_figures`` walking the tree itself) on generated and real articles.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pmc15m.core.text import normalize_space, strip_controls
from pmc15m.corpus.jats_writer import write_jats
from pmc15m.corpus.plan import plan_corpus
from pmc15m.jats.captions import _first_chars, render_text
from pmc15m.jats.front import article_metadata
from pmc15m.jats.mentions import _ABBREVIATIONS, _MARK, _SENTENCE_END, _marked_sentences, sentence_cuts
from pmc15m.jats.panels import _at_sentence_start
from pmc15m.jats.parse import JatsError, ParseConfig, find_figures, parse_article
from pmc15m.jats.secure import (
    _ENTITY_DECL,
    MATHML_NS,
    _declares_entities,
    load_article,
    resolve_named_entities,
    secure_parser,
    strip_namespaces,
)

JATS_DIR = Path(__file__).resolve().parents[3] / "shared" / "jats"
REAL = sorted(p for p in JATS_DIR.glob("*/*") if p.suffix in (".xml", ".nxml"))
CONFIGS = (
    ParseConfig(extract_mentions=True),
    ParseConfig(extract_mentions=False, include_label=True, prepend_group_caption=True),
)

# --- byte scans ------------------------------------------------------------------------------


_BANGS = st.sampled_from([b"!", b"<!", b"<!ENTITY", b"<!eNtItY", b"<!ENTIT", b"a", b"<", b"E"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_BANGS, max_size=90))
def test_entity_declaration_scan_equals_the_regex(pieces: list[bytes]):
    """Past 64 "!"s the scan hands over to the regex, so both sides of that limit are drawn."""
    data = b"".join(pieces)
    assert _declares_entities(data) == (_ENTITY_DECL.search(data) is not None)


def test_entity_declaration_after_many_exclamation_marks_is_found():
    assert _declares_entities(b"!" * 500 + b"<!entity x 'y'>")
    assert not _declares_entities(b"<!-- ! -->" * 500)


# --- whitespace and sentences ----------------------------------------------------------------

_TEXT = st.text(
    alphabet="ab .\n\t\u00a0\u2009\u200b\u200e\u0085\u00ad\x1c\x07\u202aµ\U000f0001-",
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_normalize_space_equals_the_regex_path(text: str):
    assert normalize_space(text) == " ".join(strip_controls(text).split())


_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)[.!?]$")


def reference_cuts(text: str) -> list[int]:
    """``sentence_cuts`` as first written: ``_LAST_WORD`` searched in the window."""
    cuts: list[int] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        word = _LAST_WORD.search(text, max(start, match.start() - 39), match.start() + 1)
        if word is not None:
            token = word.group(1).rstrip(".").lower()
            if token in _ABBREVIATIONS or len(token) == 1:
                continue
        cuts.append(match.end())
        start = match.end()
    return cuts


_PIECES = st.sampled_from(
    [
        "Cells", "grew.", "Fig.", "e.g.", "i.e.", "al.", "A.", "x.", "..b.", "(A).", "2015.", "“Quote.”",
        "The", "Then", "?", "!", "a" * 45 + ".", "E.coli.", ".", "vs.", "\n", "\u00a0", "\U000f0003",
    ]
)  # fmt: skip
_PROSE = st.lists(st.tuples(_PIECES, st.sampled_from([" ", "  ", "\n\t", "", " \u2009"])), max_size=25).map(
    lambda parts: "".join(p + s for p, s in parts)
)


@settings(max_examples=500, deadline=None)
@given(_PROSE)
def test_sentence_cuts_equal_the_windowed_search(text: str):
    assert sentence_cuts(text) == reference_cuts(text)


def reference_marked_sentences(raw: str, marks: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """The mention finder's split as first written: of the normalised paragraph."""
    from bisect import bisect_right

    text = normalize_space(raw)
    by_sentence: dict[int, list[str]] = {}
    cuts: list[int] | None = None
    for match in _MARK.finditer(text):
        cuts = sentence_cuts(text) if cuts is None else cuts
        by_sentence.setdefault(bisect_right(cuts, match.start()), []).append(match.group())
    if cuts is None:
        return []
    bounds = [0, *cuts, len(text)]
    out = []
    for i, chars in by_sentence.items():
        cited = [fig for char in chars for fig in marks.get(char, ())]
        if cited:
            sentence = text[bounds[i] : bounds[i + 1]].strip()
            out.append((normalize_space(_MARK.sub("", sentence)), list(dict.fromkeys(cited))))
    return out


_MARKS = {"\U000f0000": ["F1"], "\U000f0001": ["F2", "F1"], "\U000f0002": ["F3"]}
_MARKED = st.lists(
    st.tuples(
        st.sampled_from(["Cells grew", "Fig.", "e.g.", "A.", "The end.", "x", "\u200b", "\x07", "(B)."]),
        st.sampled_from([" ", "  ", "\n   ", "", "\u0085", "\U000f0000 ", "\U000f0001", " \U000f0002"]),
    ),
    max_size=20,
).map(lambda parts: "".join(p + s for p, s in parts))


@settings(max_examples=500, deadline=None)
@given(_MARKED)
def test_splitting_the_raw_paragraph_equals_splitting_the_normalised_one(raw: str):
    assert _marked_sentences(raw, _MARKS) == reference_marked_sentences(raw, _MARKS)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=' .;:)]"”’ab\n', max_size=12), st.integers(0, 12))
def test_sentence_start_reads_back_like_the_slice(text: str, pos: int):
    pos = min(pos, len(text))
    before = text[:pos].rstrip().rstrip('"”’)]')
    assert _at_sentence_start(text, pos) == (not before or before[-1] in ".;:!?")


def test_first_chars_takes_the_text_or_reads_on():
    cases = [("<p>  DOI: x</p>", "DOI"), ("<p> D<i>O</i>I</p>", "DOI"), ("<p><!--c-->ab</p>", "ab")]
    for xml, first in cases:
        el = etree.fromstring(xml)
        head = ""
        for piece in el.itertext():
            head = (head + piece).lstrip()
            if len(head) >= 3:
                break
        assert _first_chars(el, 3) == head[:3] == first


# --- namespaces and the one walk ---------------------------------------------------------------


def _docs() -> list[tuple[str, bytes]]:
    docs = [(p.name, p.read_bytes()) for p in REAL]
    for plan in plan_corpus(11, 40, (1, 4), datetime(2024, 1, 1)):
        docs.append((plan.pmcid, write_jats(plan)))
    jats = '<article xmlns="urn:jats" xmlns:m="{m}" xmlns:j="urn:j"><body><p>x<xref rid="F1"/></p>'
    jats += '<j:fig id="F1"><caption><p><m:math><m:mi>y</m:mi></m:math></p></caption></j:fig>'
    jats += '<fig id="F2"/></body></article>'
    docs.append(("namespaced", jats.format(m=MATHML_NS).encode()))
    docs.append(("utf16", jats.format(m=MATHML_NS).encode("utf-16")))
    return docs


DOCS = _docs()


def _well_formed(data: bytes) -> bool:
    try:
        etree.fromstring(resolve_named_entities(data)[0], secure_parser())
    except etree.XMLSyntaxError:
        return False
    return True


# The generated corpus plants malformed articles; the walk is only defined on parsed trees.
PARSED_DOCS = [(name, data) for name, data in DOCS if _well_formed(data)]


@pytest.mark.parametrize(("name", "data"), PARSED_DOCS, ids=[name for name, _ in PARSED_DOCS])
def test_the_stripping_walk_equals_the_full_strip_and_iter(name: str, data: bytes):
    data, _ = resolve_named_entities(data)
    fast, full = etree.fromstring(data, secure_parser()), etree.fromstring(data, secure_parser())
    found = strip_namespaces(fast, data, keep=(MATHML_NS,), collect=("fig", "xref"))
    strip_namespaces(full)
    assert found == {"fig": list(fast.iter("fig")), "xref": list(fast.iter("xref"))}
    strip_namespaces(fast)  # what is left: MathML's elements, and only those
    assert etree.tostring(fast) == etree.tostring(full)


def general_parse(data: bytes, config: ParseConfig) -> dict:
    """``parse_article`` the general way: every namespace stripped, figs and xrefs walked for."""
    article, _ = load_article(data, config.max_bytes)
    strip_namespaces(article)
    parsed = article_metadata(article)
    parsed.figures = find_figures(article, config)
    return dataclasses.asdict(parsed)


@pytest.mark.parametrize(("name", "data"), DOCS, ids=[name for name, _ in DOCS])
def test_parse_article_equals_the_general_path(name: str, data: bytes):
    for config in CONFIGS:
        try:
            expected = general_parse(data, config)
        except JatsError as exc:
            with pytest.raises(JatsError, match=re.escape(exc.detail)):
                parse_article(data, config)
            continue
        assert dataclasses.asdict(parse_article(data, config)) == expected


def test_namespaced_and_stripped_mathml_render_alike():
    xml = (
        f'<caption xmlns:mml="{MATHML_NS}"><title>T <mml:math><mml:msub><mml:mi>x</mml:mi>'
        "<mml:mn>2</mml:mn></mml:msub></mml:math>.</title><p>A <mml:mi>b</mml:mi> "
        "<inline-formula><mml:math><mml:mi>E</mml:mi><mml:mo>=</mml:mo></mml:math></inline-formula>c</p></caption>"
    )
    kept, stripped = etree.fromstring(xml), etree.fromstring(xml)
    strip_namespaces(stripped)
    assert render_text(kept) == render_text(stripped) == "T x_2. A b E = c"


def test_a_tree_deeper_than_the_scan_recursion_renders_the_same():
    """Hand-built (the parser stops at 256): read flat below the scan's depth limit."""
    inner = "<p>deep <inline-graphic/>end</p>"
    xml = "<caption>" + "<italic>a " * 230 + inner + "</italic>" * 230 + "</caption>"
    el = etree.fromstring(xml)
    assert render_text(el) == normalize_space("a " * 230 + " deep end ")
