"""Caption text: inline markup, whitespace, formulas, sentences and panel sub-captions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pmc15m.jats.captions import caption_parts, render_text
from pmc15m.jats.mentions import split_sentences
from pmc15m.jats.panels import (
    _LETTER_MARKER,
    _WORD_MARKER,
    _at_sentence_starts,
    _sentence_starts,
    mentions_panels,
    split_rate,
    split_subcaptions,
)
from pmc15m.jats.texmath import clean_tex

MML = "http://www.w3.org/1998/Math/MathML"


def el(xml: str) -> etree._Element:
    return etree.fromstring(f'<root xmlns:mml="{MML}">{xml}</root>')


def text(xml: str) -> str:
    return render_text(el(xml))


def math(inner: str, prefix: str = "mml:") -> str:
    """Render ``inner`` (written with ``m:`` tags) as MathML with the given prefix."""
    return text(f"<{prefix}math>{inner.replace('m:', prefix)}</{prefix}math>")


# --- inline markup and whitespace -------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<p>total T<sub>4</sub> in males</p>", "total T4 in males"),
        ("<p>T<sub>4</sub></p>", "T4"),
        ("<p>Ni<sup>2+</sup>-NTA</p>", "Ni2+-NTA"),
        ("<p>a <italic>b</italic> c</p>", "a b c"),
        ("<p>end.</p><p>Next</p>", "end. Next"),
        ("<title>Title</title><p>Para</p>", "Title Para"),
        ("<p>  lots \n\t of   space\u00a0here </p>", "lots of space here"),
        ("<p>zero\u200bwidth</p>", "zerowidth"),
        (
            '<p>see <xref rid="b1"><bold>Smith <italic>et <sc>al</sc>.</italic></bold></xref>, 2001</p>',
            "see Smith et al., 2001",
        ),
        ("<p>x<break/>y</p>", "x y"),
        ('<p>a<inline-graphic href="x"/>b <object-id>10.1/x</object-id>c</p>', "ab c"),
        ("<list><list-item><p>one</p></list-item><list-item><p>two</p></list-item></list>", "one two"),
        ("<p>text<fig><caption><p>nested</p></caption></fig> after</p>", "text after"),
        ("<p>before<!-- comment -->after</p>", "beforeafter"),
    ],
)
def test_render_text(xml: str, expected: str):
    assert text(xml) == expected


def test_caption_parts_title_and_paragraphs():
    cap = el("<caption><title>The title.</title><p>One.</p><p>Two <bold>bold</bold>.</p></caption>")[0]
    assert caption_parts(cap) == ("The title.", "The title. One. Two bold.")
    assert caption_parts(None) == ("", "")


def test_caption_parts_drops_only_the_doi_boilerplate():
    cap = el(
        "<caption><p>Keep DOI: 10.1/x in prose.</p>"
        "<p><bold>DOI:</bold> <ext-link>http://dx.doi.org/10.7554/eLife.00013.003</ext-link></p></caption>"
    )[0]
    assert caption_parts(cap)[1] == "Keep DOI: 10.1/x in prose."


# --- formulas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("<m:mi>x</m:mi>", "x"),
        ("<m:msub><m:mi>E</m:mi><m:mi>k</m:mi></m:msub><m:mo>−</m:mo><m:msub><m:mi>E</m:mi><m:mn>1</m:mn></m:msub>",
         "E_k − E_1"),
        ("<m:msup><m:mi>x</m:mi><m:mn>2</m:mn></m:msup>", "x^2"),
        ("<m:msup><m:mi>e</m:mi><m:mrow><m:mo>−</m:mo><m:mi>t</m:mi></m:mrow></m:msup>", "e^(−t)"),
        ("<m:msubsup><m:mi>x</m:mi><m:mi>i</m:mi><m:mn>2</m:mn></m:msubsup>", "x_i^2"),
        ("<m:msub><m:mi>x</m:mi><m:mrow><m:mi>i</m:mi><m:mo>+</m:mo><m:mn>1</m:mn></m:mrow></m:msub>",
         "x_(i + 1)"),
        ("<m:mfrac><m:mi>a</m:mi><m:mi>b</m:mi></m:mfrac>", "a/b"),
        ("<m:mfrac><m:mrow><m:mi>a</m:mi><m:mo>+</m:mo><m:mi>b</m:mi></m:mrow><m:mn>2</m:mn></m:mfrac>",
         "(a + b)/2"),
        ("<m:msqrt><m:mi>x</m:mi><m:mo>+</m:mo><m:mn>1</m:mn></m:msqrt>", "sqrt(x + 1)"),
        ("<m:mroot><m:mi>x</m:mi><m:mn>3</m:mn></m:mroot>", "sqrt[3](x)"),
        ('<m:mfenced><m:mi>a</m:mi><m:mi>b</m:mi></m:mfenced>', "(a, b)"),
        ('<m:mfenced open="[" close="]" separators=";"><m:mi>a</m:mi><m:mi>b</m:mi></m:mfenced>', "[a; b]"),
        ("<m:munderover><m:mo>∑</m:mo><m:mrow><m:mi>i</m:mi><m:mo>=</m:mo><m:mn>1</m:mn></m:mrow>"
         "<m:mi>n</m:mi></m:munderover><m:msub><m:mi>x</m:mi><m:mi>i</m:mi></m:msub>", "∑_(i = 1)^n x_i"),
        ("<m:munder><m:mo>lim</m:mo><m:mrow><m:mi>x</m:mi><m:mo>→</m:mo><m:mn>0</m:mn></m:mrow></m:munder>",
         "lim_(x → 0)"),
        ("<m:mover><m:mi>x</m:mi><m:mo>¯</m:mo></m:mover>", "bar(x)"),
        ("<m:mover><m:mi>x</m:mi><m:mo>^</m:mo></m:mover>", "hat(x)"),
        ("<m:mtable><m:mtr><m:mtd><m:mn>1</m:mn></m:mtd><m:mtd><m:mn>0</m:mn></m:mtd></m:mtr>"
         "<m:mtr><m:mtd><m:mn>0</m:mn></m:mtd><m:mtd><m:mn>1</m:mn></m:mtd></m:mtr></m:mtable>",
         "[1, 0; 0, 1]"),
        ("<m:mo>−</m:mo><m:mn>1</m:mn>", "−1"),
        ("<m:mi>sin</m:mi><m:mo>\u2061</m:mo><m:mi>x</m:mi>", "sin x"),
        ("<m:mn>2</m:mn><m:mo>\u2062</m:mo><m:mi>x</m:mi>", "2x"),
        ("<m:mi>P</m:mi><m:mo>&lt;</m:mo><m:mn>0.05</m:mn>", "P < 0.05"),
        ("<m:semantics><m:mi>y</m:mi><m:annotation>y-tex</m:annotation></m:semantics>", "y"),
        ("<m:mtext>if and only if</m:mtext>", "if and only if"),
        # converter output seen in eLife XML: an "=" wrapped in an empty subscript, an em space
        ("<m:mi>d</m:mi><m:mo>\u2003</m:mo><m:msub><m:mo>=</m:mo><m:mo>\u2003</m:mo></m:msub>"
         "<m:mo>\u2061</m:mo><m:mi>exp</m:mi><m:mi>x</m:mi>", "d = exp x"),
        ("<m:mn>0.1</m:mn><m:mo>\u2061</m:mo><m:mi>sin</m:mi><m:mi>y</m:mi>", "0.1 sin y"),
        ("<m:mn>137.5</m:mn><m:merror><m:mtext>\\degree</m:mtext></m:merror>", "137.5°"),
        ("<m:msub><m:mi>x</m:mi><m:mrow/></m:msub>", "x"),
        ("<m:msup><m:mi>E</m:mi><m:mrow><m:mi/><m:mo>*</m:mo></m:mrow></m:msup>", "E^*"),
    ],
)  # fmt: skip
def test_mathml_linearisation(inner: str, expected: str):
    assert math(inner) == expected


@pytest.mark.parametrize("prefix", ["mml:", "", "m2:"])
def test_mathml_with_any_prefix_or_none(prefix: str):
    inner = "<m:msub><m:mi>x</m:mi><m:mn>1</m:mn></m:msub>"
    if prefix == "m2:":
        xml = f'<m2:math xmlns:m2="{MML}">{inner.replace("m:", "m2:")}</m2:math>'
        assert text(xml) == "x_1"
    else:
        assert math(inner, prefix) == "x_1"


def test_inline_formula_keeps_word_spacing():
    xml = (
        "<p>parameter <inline-formula><mml:math><mml:msub><mml:mi>Γ</mml:mi><mml:mn>1</mml:mn>"
        "</mml:msub></mml:math></inline-formula> = 0.975 and (<inline-formula><mml:math><mml:mi>α</mml:mi>"
        "<mml:mo>=</mml:mo></mml:math></inline-formula>137°)</p>"
    )
    assert text(xml) == "parameter Γ_1 = 0.975 and (α = 137°)"


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        ("x^2", "$x^2$"),
        ("$x^2$", "$x^2$"),
        ("\\[ a+b \\]", "$a+b$"),
        (
            "\\documentclass[12pt]{minimal}\\usepackage{amsmath}\\usepackage{wasysym}"
            "\\begin{document}$$\\alpha_{1}$$\\end{document}",
            "$\\alpha_{1}$",
        ),
        ("\\documentclass{minimal}\\usepackage{amsmath} $$y$$", "$y$"),
        ("   ", ""),
    ],
)
def test_clean_tex(tex: str, expected: str):
    assert clean_tex(tex) == expected


def test_tex_math_in_caption():
    tex = "<tex-math><![CDATA[\\begin{document}$k_{on}$\\end{document}]]></tex-math>"
    xml = f"<p>Rate <inline-formula>{tex}</inline-formula> rises.</p>"
    assert text(xml) == "Rate $k_{on}$ rises."


def test_alternatives_pick_tex_over_mathml_and_never_both():
    xml = (
        "<p>Value <inline-formula><alternatives><mml:math><mml:mi>z</mml:mi></mml:math>"
        "<tex-math>z_0</tex-math><inline-graphic href='eq'/></alternatives></inline-formula> here"
        " and <disp-formula><label>(1)</label><alternatives><mml:math><mml:mi>w</mml:mi></mml:math>"
        "<graphic href='eq2'/></alternatives></disp-formula>done</p>"
    )
    assert text(xml) == "Value $z_0$ here and w done"


# --- sentences ------------------------------------------------------------------------------


def test_split_sentences_respects_abbreviations():
    prose = (
        "As shown in Fig. 2B, cells grew (Smith et al. 2001). Growth was e.g. fast. "
        "J. Smith agreed! Values were 1.5 vs. 2.0? Yes. (Next) sentence here."
    )
    assert split_sentences(prose) == [
        "As shown in Fig. 2B, cells grew (Smith et al. 2001).",
        "Growth was e.g. fast.",
        "J. Smith agreed!",
        "Values were 1.5 vs. 2.0?",
        "Yes.",
        "(Next) sentence here.",
    ]


# --- sub-captions ----------------------------------------------------------------------------


def panels(caption: str) -> list[tuple[str, str]]:
    return [(s.panel, s.text) for s in split_subcaptions(caption)]


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("Title. (A) Mouse brain. (B) Rat liver.", [("A", "Mouse brain."), ("B", "Rat liver.")]),
        ("(a) one (b) two (c) three", [("a", "one"), ("b", "two"), ("c", "three")]),
        (
            "(A–C) Sections. (D, E) Counts. (F) Model.",
            [("A-C", "Sections."), ("D,E", "Counts."), ("F", "Model.")],
        ),
        ("(A)–(C) Sections. (D) Counts.", [("A-C", "Sections."), ("D", "Counts.")]),
        ("(A) and (C) Wild type. (B) and (D) Mutant.", [("A,C", "Wild type."), ("B,D", "Mutant.")]),
        ("(C1) Early. (C2) Late.", []),  # does not start with A
        ("(A1) Early. (A2) Late. (B) Other.", [("A1", "Early."), ("A2", "Late."), ("B", "Other.")]),
        ("(A). First panel. (B). Second panel.", [("A", "First panel."), ("B", "Second panel.")]),
        ("A, SDS-PAGE gel. B, Activity curve.", [("A", "SDS-PAGE gel."), ("B", "Activity curve.")]),
        ("A. Gel image. B. Activity curve.", [("A", "Gel image."), ("B", "Activity curve.")]),
        ("Left: control. Right: treated.", [("left", "control."), ("right", "treated.")]),
        (
            "Maps. Top: rainfall. Middle: heat. Bottom: wind.",
            [("top", "rainfall."), ("middle", "heat."), ("bottom", "wind.")],
        ),
        (
            "(E) Model. (F–I) Histograms: wild type (F); mutant (G). (J) Fit.",
            [],  # the chain must start at panel A
        ),
        (
            "(A) Model. (B–D) Histograms: wild type (B); mutant (C). (E) Fit.",
            [("A", "Model."), ("B-D", "Histograms: wild type (B); mutant (C)."), ("E", "Fit.")],
        ),
    ],
)
def test_split_subcaptions(caption: str, expected: list[tuple[str, str]]):
    assert panels(caption) == expected


@pytest.mark.parametrize(
    "caption",
    [
        "Levels in males (A) and females (B).",  # postfix markers
        "Cells were stained (A) and imaged (B) later.",  # not at a sentence start
        "Only one panel. (A) Mouse brain.",
        "A total of 20 mice. B cells were counted.",
        "(A) Mouse brain (P) phosphorylated.",
        "(A) (B) Adjacent markers.",
        "Chemical structures of A, THL and B, MmPPOX.",
        "Left: control. Left: again.",
        "",
    ],
)
def test_split_subcaptions_is_conservative(caption: str):
    assert panels(caption) == []


def test_skips_markers_that_break_the_sequence():
    got = panels("(A) Total protein (P) blot. (B) Phosphorylated form.")
    assert got == [("A", "Total protein (P) blot."), ("B", "Phosphorylated form.")]


def test_mentions_panels_and_split_rate():
    captions = [
        "(A) One. (B) Two.",  # mentions panels, split
        "Males (A) and females (B).",  # mentions panels, not split
        "No panels at all.",
        "Top panel: x. Bottom panel: y.",  # mentions panels, split
    ]
    assert [mentions_panels(c) for c in captions] == [True, True, False, True]
    stats = split_rate(captions)
    assert (stats.figures, stats.with_panels, stats.split, stats.split_any) == (4, 3, 2, 2)
    assert stats.rate == pytest.approx(2 / 3)
    assert split_rate([]).rate == 0.0


_CAPTION_PIECES = st.sampled_from(
    ["A.", "B,", "C:", "a)", "A–C.", "D2.", "Left:", "(right)", "Top panel:", "bottom left:", "cells", "(B)",
     "x.", "y!", "z?", "w;", "  ", "\n", "Stop.", "RIGHT:", "upper-left:", "A-", "b."]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_CAPTION_PIECES, max_size=14).map(" ".join))
def test_sentence_start_markers_are_found_as_a_full_scan_finds_them(caption: str):
    """Markers tried only where a sentence may start match exactly what ``finditer`` finds."""
    starts = _sentence_starts(caption)
    for pattern in (_LETTER_MARKER, _WORD_MARKER):
        fast = [(m.span(), m.groupdict()) for m in _at_sentence_starts(pattern, caption, starts)]
        assert fast == [(m.span(), m.groupdict()) for m in pattern.finditer(caption)]


# --- property: inline markup never loses or glues words -------------------------------------

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789αβ", min_size=1, max_size=8)
INLINE = st.sampled_from(["italic", "bold", "sub", "sup", "sc", "underline", "xref", "monospace"])


@st.composite
def markup(draw, depth: int = 0) -> tuple[str, list[str]]:
    """XML for a run of words in random inline markup, and the words it must read as."""
    xml, words = [], []
    for i in range(draw(st.integers(1, 4))):
        if i:
            xml.append(draw(st.sampled_from([" ", "  ", "\n", " \t"])))
        if depth < 3 and draw(st.booleans()):
            inner, inner_words = draw(markup(depth + 1))
            tag = draw(INLINE)
            lead = draw(st.sampled_from(["", " "]))
            xml.append(f"<{tag}>{lead}{inner}{draw(st.sampled_from(['', ' ']))}</{tag}>")
            words.extend(inner_words)
        else:
            word = draw(WORDS)
            cut = draw(st.integers(0, len(word)))
            if 0 < cut < len(word) and draw(st.booleans()):  # markup inside one word: T<sub>4</sub>
                tag = draw(INLINE)
                xml.append(f"{word[:cut]}<{tag}>{word[cut:]}</{tag}>")
            else:
                xml.append(word)
            words.append(word)
    return "".join(xml), words


@settings(max_examples=300, deadline=None)
@given(markup(), markup())
def test_inline_markup_never_loses_or_glues_words(first, second):
    (xml1, words1), (xml2, words2) = first, second
    rendered = text(f"<caption><p>{xml1}</p><p>{xml2}</p></caption>")
    assert rendered.split(" ") == words1 + words2
