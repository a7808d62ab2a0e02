"""The fast text renderer and mention finder against the plain recursive rules they replace.

``render_text`` reads inline subtrees in one C call and marks citing xrefs by putting the
mark in front of their tails for that call; both must give exactly the text of the plain
rules (visit every element: text, children, tails; blocks spaced; formulas rendered;
dropped elements skipped; the hook's text after each hooked element), call the hook in
rendering order, and leave the tree as it was. Checked here on generated markup, together
with the sentence cut points the mention finder looks sentences up by, and the mention
finder itself against the plain algorithm (every element hooked, fig-groups found by a walk).
"""

from __future__ import annotations

import re
from itertools import pairwise
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pmc15m.core.text import normalize_space
from pmc15m.jats.captions import BLOCK_TAGS, DROP_TAGS, _math_text, render_text
from pmc15m.jats.mathml import localname
from pmc15m.jats.mentions import _NOT_PROSE, MAX_MENTIONS, collect_mentions, sentence_cuts, split_sentences
from pmc15m.jats.parse import parse_article
from pmc15m.jats.texmath import clean_tex

MML = "http://www.w3.org/1998/Math/MathML"


def reference_render(el: etree._Element, hook) -> str:
    """The plain rules: one Python visit per element, the hook asked after every element."""
    out: list[str] = []
    _visit(el, out, hook)
    return normalize_space("".join(out))


def _visit(el: etree._Element, out: list[str], hook) -> None:
    name = localname(el)
    if name in DROP_TAGS:
        return
    if name in ("math", "tex-math", "alternatives"):
        out.append(_self_rendered(el, name, hook))
        return
    out.append(" " if name in BLOCK_TAGS else "")
    out.append(el.text or "")
    for child in el:
        if isinstance(child.tag, str) and not (name == "disp-formula" and child.tag == "label"):
            _visit(child, out, hook)
        out.append(child.tail or "")
    out.append(hook(el) or "")
    out.append(" " if name in BLOCK_TAGS else "")


def _self_rendered(el: etree._Element, name: str, hook) -> str:
    if name == "math":
        return _math_text(el)
    if name == "tex-math":
        return clean_tex("".join(el.itertext()))
    kids = sorted(
        (c for c in el if isinstance(c.tag, str)),
        key=lambda c: {"tex-math": 0, "math": 1}.get(localname(c), 2),
    )
    for child in kids:
        out: list[str] = []
        _visit(child, out, hook)
        if "".join(out).strip():
            return "".join(out)
    return ""


# --- generated markup -------------------------------------------------------------------------

_TEXT = st.text(alphabet="ab .\n\t\u00a0\u200b\u0085(", max_size=6).map(escape)
_LEAVES = st.sampled_from(
    [
        "<!--note-->",
        "<?pi x?>",
        "<mml:math><mml:mi>x</mml:mi><mml:mo>+</mml:mo><mml:mn>1</mml:mn></mml:math>",
        "<math><msub><mi>H</mi><mn>2</mn></msub><mi>O</mi></math>",
        "<tex-math>\\begin{document}$k$\\end{document}</tex-math>",
        "<alternatives><math><mi>z</mi></math><tex-math>z_0</tex-math></alternatives>",
        '<inline-graphic href="g"/>',
        "<break/>",
        "<xref/>",
    ]
)
_TAGS = ["italic", "bold", "sub", "xref", "xref", "p", "label", "list-item", "fig", "disp-formula", "title"]


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, text, kids, tails: (
            f"<{tag}>{text}" + "".join(k + t for k, t in zip(kids, tails, strict=False)) + f"</{tag}>"
        ),
        st.sampled_from(_TAGS),
        _TEXT,
        st.lists(children, max_size=4),
        st.lists(_TEXT, min_size=4, max_size=4),
    )


_MARKUP = st.recursive(st.one_of(_TEXT, _LEAVES), _element, max_leaves=25)


def _paragraph(markup: str) -> etree._Element:
    return etree.fromstring(f'<root xmlns:mml="{MML}"><p>{markup}</p></root>')[0]


class Marker:
    """A hook giving each hooked element a numbered mark, in the order it is called."""

    def __init__(self, hooked: set[etree._Element]):
        self.hooked = hooked
        self.calls = 0

    def __call__(self, el: etree._Element) -> str | None:
        if el not in self.hooked:
            return None
        self.calls += 1
        return f"<{self.calls}>"


@settings(max_examples=400, deadline=None)
@given(_MARKUP, st.lists(st.booleans(), max_size=12))
def test_render_text_equals_the_plain_rules(markup: str, pick: list[bool]):
    p = _paragraph(markup)
    xrefs = list(p.iter("xref"))
    hooked = {x for x, chosen in zip(xrefs, pick, strict=False) if chosen}
    before = etree.tostring(p)
    expected = reference_render(p, Marker(hooked))
    assert render_text(p, hook=Marker(hooked), hooked=hooked) == expected
    assert etree.tostring(p) == before  # the marks were taken back out of the tails
    assert render_text(p) == reference_render(p, lambda el: None)


def test_marks_follow_their_xref_inside_nested_markup():
    p = _paragraph("A <italic>b <xref>c</xref></italic>d <xref/>e <bold><xref>f</xref> g</bold>.")
    xrefs = list(p.iter("xref"))
    assert render_text(p, hook=Marker(set(xrefs)), hooked=xrefs) == "A b c<1>d <2>e f<3> g."
    assert render_text(p, hook=Marker({xrefs[1]}), hooked=[xrefs[1]]) == "A b cd <1>e f g."


def test_a_failing_hook_leaves_the_tree_as_it_was():
    p = _paragraph('Cells <xref rid="F1">1</xref> tail and <xref rid="F2">2</xref>.')
    before = etree.tostring(p)
    calls: list[etree._Element] = []

    def hook(el: etree._Element) -> str:
        calls.append(el)
        if len(calls) == 2:
            raise RuntimeError("hook failed")
        return "#"

    with pytest.raises(RuntimeError):
        render_text(p, hook=hook, hooked=list(p.iter("xref")))
    assert len(calls) == 2 and etree.tostring(p) == before


# --- sentences and mentions -------------------------------------------------------------------

_PROSE = st.lists(
    st.sampled_from(
        ["Cells grew", "(Fig. 1A).", "e.g.", "x.", "A.", "Then", "2015.", "et al.", "“Quote.”", "b"]
    ),
    max_size=20,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_PROSE)
def test_sentence_cuts_are_where_split_sentences_cuts(text: str):
    text = normalize_space(text)
    cuts = [0, *sentence_cuts(text), len(text)]
    pieces = [text[a:b].strip() for a, b in pairwise(cuts)]
    assert pieces[:-1] + [s for s in pieces[-1:] if s] == split_sentences(text)


def doc(body: str) -> bytes:
    return (
        '<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta/></front>'
        f"<body>{body}</body></article>"
    ).encode()


def fig(fig_id: str) -> str:
    return f'<fig id="{fig_id}"><caption><p>Cap {fig_id}.</p></caption><graphic xlink:href="{fig_id}"/></fig>'


def test_mentions_read_alike_with_and_without_special_markup_in_the_paragraph():
    """A paragraph holding a figure or a formula is rendered element by element, a plain one in
    one call: both find the same sentences."""
    cite = 'Cells grew (<xref ref-type="fig" rid="F1">Fig. 1</xref>). Unrelated. '
    plain = f"<p>{cite}Again <xref rid='F1'/>here.</p>"
    formula = "<inline-formula><math><mi>x</mi></math></inline-formula>"
    special = f"<p>{cite}Again <xref rid='F1'/>here.{fig('F2')} {formula}</p>"
    (f1,) = parse_article(doc(plain + fig("F1"))).figures
    assert f1.mentions == ["Cells grew (Fig. 1).", "Again here."]
    _, f1 = parse_article(doc(special + fig("F1"))).figures  # F2 stands first, in the paragraph
    assert f1.mentions == ["Cells grew (Fig. 1).", "Again here. x"]


def test_a_fig_group_id_cites_its_figs_but_no_other():
    body = (
        '<p>See (<xref rid="G1">Figure 1</xref>). And (<xref rid="F9">Figure 9</xref>).</p>'
        f'<fig-group id="G1">{fig("F1")}<fig-group id="G2">{fig("F2")}</fig-group></fig-group>{fig("F9")}'
    )
    f1, f2, f9 = parse_article(doc(body)).figures
    assert f1.mentions == f2.mentions == ["See (Figure 1)."]
    assert f9.mentions == ["And (Figure 9)."]


# --- the mention finder against the plain algorithm -------------------------------------------

_MARK_CHARS = re.compile("[\U000f0000-\U000f00ff]")


def reference_mentions(article: etree._Element, figs: list[etree._Element]) -> dict[str, list[str]]:
    """Every xref hooked on every render, groups found by a walk: the plain algorithm."""
    by_id: dict[str, list[etree._Element]] = {}
    for fig in figs:
        by_id.setdefault((fig.get("id") or "").strip(), []).append(fig)
    for group in article.iter("fig-group"):
        by_id.setdefault((group.get("id") or "").strip(), []).extend(group.iter("fig"))
    by_id.pop("", None)
    targets: dict[etree._Element, list[etree._Element]] = {}
    paragraphs: dict[etree._Element, None] = {}
    for xref in article.iter("xref"):
        cited = [f for rid in (xref.get("rid") or "").split() for f in by_id.get(rid, ())]
        ancestors = list(xref.iterancestors())
        if cited and not any(a.tag in _NOT_PROSE for a in ancestors):
            nearest = next((a for a in ancestors if a.tag == "p"), None)
            if nearest is not None:
                targets[xref] = cited
                paragraphs.setdefault(nearest, None)
    out: dict[etree._Element, list[str]] = {}
    for paragraph in paragraphs:
        marks: dict[str, list[etree._Element]] = {}

        def mark(el: etree._Element, marks=marks) -> str | None:
            if el not in targets or len(marks) >= 256:
                return None
            marks[chr(0xF0000 + len(marks))] = targets[el]
            return chr(0xF0000 + len(marks) - 1)

        for sentence in split_sentences(reference_render(paragraph, mark)):
            cited = [f for char in _MARK_CHARS.findall(sentence) for f in marks.get(char, ())]
            text = normalize_space(_MARK_CHARS.sub("", sentence))
            for fig in dict.fromkeys(cited):
                found = out.setdefault(fig, [])
                if text not in found and len(found) < MAX_MENTIONS:
                    found.append(text)
    return {fig.get("id"): out.get(fig, []) for fig in figs}


_CO2 = "<mi>C</mi><msub><mi>O</mi><mn>2</mn></msub>"
_RIDS = st.sampled_from(["F1", "F2", "G1", "F3 F1", "bib1", "", "S1", "F2  F4"])
_WORDS = st.sampled_from(["Cells grew", "See", "Fig.", "e.g.", "(A).", "More here.", "The end.", " ", "x"])


@st.composite
def _prose(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(
            st.sampled_from(["word", "word", "xref", "xref", "italic", "list", "fig", "math", "table"])
        )
        if kind == "word":
            parts.append(draw(_WORDS) + " ")
        elif kind == "xref":
            parts.append(f'(<xref rid="{draw(_RIDS)}">Fig. {draw(st.integers(1, 3))}</xref>) ')
        elif kind == "italic":
            parts.append(f'<italic>{draw(_WORDS)}<xref rid="{draw(_RIDS)}"/></italic> ')
        elif kind == "math":
            parts.append(
                "<inline-formula><math><mi>C</mi><msub><mi>O</mi><mn>2</mn></msub></math></inline-formula> "
            )
        elif depth < 2 and kind == "list":
            parts.append(f"<list><list-item><p>{draw(_prose(depth + 1))}</p></list-item></list>")
        elif depth < 2 and kind == "fig":
            parts.append(f'<fig id="N{depth}"><caption><p>{draw(_prose(depth + 1))}</p></caption></fig>')
        elif depth < 2:
            parts.append(f"<table-wrap><p>{draw(_prose(depth + 1))}</p></table-wrap>")
    return "".join(parts)


@settings(max_examples=200, deadline=None)
@given(st.lists(_prose(), min_size=1, max_size=5))
def test_mentions_equal_the_plain_algorithm(paragraphs: list[str]):
    figs = (
        '<fig id="F1"/><fig id="F2"/><fig-group id="G1"><fig id="F3"/><fig id="F4"/></fig-group>'
        '<supplementary-material><fig id="S1"/></supplementary-material>'
    )
    body = "".join(f"<sec><p>{p}</p></sec>" for p in paragraphs)
    article = etree.fromstring(f"<article><body>{body}{figs}</body></article>")
    listed = [
        f
        for f in article.iter("fig")
        if not any(a.tag == "supplementary-material" for a in f.iterancestors())
    ]
    before = etree.tostring(article)
    found = collect_mentions(article, listed)
    assert {f.get("id"): found.get(f, []) for f in listed} == reference_mentions(article, listed)
    assert etree.tostring(article) == before


def test_paragraphs_after_the_cap_are_skipped_only_when_they_cannot_add_a_mention():
    """Past ten mentions of F1, a paragraph citing only F1 is skipped; one also citing F2 is read."""
    cite = 'Point {i} (<xref rid="F1">1</xref>).'
    body = "".join(f"<p>{cite.format(i=i)}</p>" for i in range(12))
    body += '<p>Late (<xref rid="F1">1</xref>). Both (<xref rid="F2">2</xref>).</p>'
    article = etree.fromstring(f'<article><body>{body}<fig id="F1"/><fig id="F2"/></body></article>')
    figs = list(article.iter("fig"))
    found = collect_mentions(article, figs)
    assert {f.get("id"): found.get(f, []) for f in figs} == reference_mentions(article, figs)
    assert found[figs[1]] == ["Both (2)."] and len(found[figs[0]]) == MAX_MENTIONS
