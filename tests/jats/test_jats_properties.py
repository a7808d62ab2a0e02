"""Property tests: generated JATS articles through parse_article.

Hypothesis writes whole articles (plain, default-namespaced or prefixed JATS; figs with or
without ids, captions and graphics, in body, floats, back matter or fig-groups) whose
captions nest inline markup at random, and checks that every figure comes back with
exactly its own words: none lost, none glued, none borrowed from a neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from pmc15m.jats.parse import parse_article

XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
NAMESPACES = {
    "plain": ("", ""),
    "default": ("", ' xmlns="http://jats.nlm.nih.gov/ns"'),
    "prefixed": ("j:", ' xmlns:j="http://jats.nlm.nih.gov/ns"'),
}
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789αβµ%+-", min_size=1, max_size=8)
INLINE = st.sampled_from(
    ["italic", "bold", "sub", "sup", "sc", "underline", "xref", "monospace", "named-content"]
)
SPACES = st.sampled_from([" ", "  ", "\n", " \t", "\u00a0"])


@st.composite
def inline_run(draw, prefix: str, depth: int = 0) -> tuple[str, list[str]]:
    """XML of words in randomly nested inline markup, and the words it must read as."""
    xml: list[str] = []
    words: list[str] = []
    for i in range(draw(st.integers(1, 4))):
        if i:
            xml.append(draw(SPACES))
        tag = prefix + draw(INLINE)
        if depth < 4 and draw(st.booleans()):
            inner, inner_words = draw(inline_run(prefix, depth + 1))
            lead, trail = draw(st.sampled_from(["", " "])), draw(st.sampled_from(["", " "]))
            xml.append(f"<{tag}>{lead}{inner}{trail}</{tag}>")
            words.extend(inner_words)
            continue
        word = draw(WORDS)
        cut = draw(st.integers(0, len(word)))
        if 0 < cut < len(word):  # markup inside one word, as in T<sub>4</sub>
            xml.append(f"{word[:cut]}<{tag}>{word[cut:]}</{tag}>")
        else:
            xml.append(word)
        words.append(word)
    return "".join(xml), words


@dataclass
class FigSpec:
    xml: str
    fig_id: str | None
    words: list[str]  # expected caption words ([] when the fig has no caption)
    hrefs: list[str]


@st.composite
def fig_spec(draw, prefix: str, n: int) -> FigSpec:
    p = prefix
    fig_id = draw(st.sampled_from([f"F{n}", None]))
    blocks, words = [], []
    if draw(st.integers(0, 4)):  # most figs have a caption
        if draw(st.booleans()):
            title, title_words = draw(inline_run(p))
            blocks.append(f"<{p}title>{title}</{p}title>")
            words += title_words
        for _ in range(draw(st.integers(1, 2))):
            para, para_words = draw(inline_run(p))
            if draw(st.booleans()):
                blocks.append(f"<{p}p>{para}</{p}p>")
            else:
                blocks.append(f"<{p}list><{p}list-item><{p}p>{para}</{p}p></{p}list-item></{p}list>")
            words += para_words
    caption = f"<{p}caption>{''.join(blocks)}</{p}caption>" if blocks else ""
    hrefs = [f"img{n}-{g}" for g in range(draw(st.integers(0, 3)))]
    graphics = "".join(f'<{p}graphic xlink:href="{h}"/>' for h in hrefs)
    id_attr = f' id="{fig_id}"' if fig_id else ""
    xml = f"<{p}fig{id_attr}><{p}label>Figure {n}</{p}label>{caption}{graphics}</{p}fig>"
    return FigSpec(xml=xml, fig_id=fig_id, words=words, hrefs=hrefs)


@st.composite
def article(draw) -> tuple[bytes, list[FigSpec]]:
    """A whole article: its bytes and the figs in document order."""
    prefix, ns = NAMESPACES[draw(st.sampled_from(sorted(NAMESPACES)))]
    p = prefix
    specs = [draw(fig_spec(prefix, n)) for n in range(1, draw(st.integers(1, 4)) + 1)]
    places: dict[str, list[str]] = {"body": [], "back": [], "floats": []}
    for spec in specs:  # keep document order: body, then back, then floats
        places[draw(st.sampled_from(sorted(places)))].append(spec.xml)
    ordered = [s for place in ("body", "back", "floats") for s in specs if s.xml in places[place]]
    body = "".join(places["body"])
    if len(places["body"]) > 1 and draw(st.booleans()):
        body = f"<{p}fig-group><{p}caption><{p}p>Group</{p}p></{p}caption>{body}</{p}fig-group>"
    xml = (
        f"<{p}article{ns} {XLINK}><{p}front><{p}article-meta/></{p}front>"
        f"<{p}body><{p}p>Intro.</{p}p>{body}</{p}body>"
        f"<{p}back><{p}app>{''.join(places['back'])}</{p}app></{p}back>"
        f"<{p}floats-group>{''.join(places['floats'])}</{p}floats-group></{p}article>"
    )
    return xml.encode(), ordered


@settings(max_examples=150, deadline=None)
@given(article())
def test_generated_articles_keep_every_figure_and_word(generated):
    data, specs = generated
    figures = parse_article(data).figures
    expected = []
    for n, spec in enumerate(specs, start=1):
        fig_id = spec.fig_id or f"fig-auto-{n}"
        caption = " ".join(spec.words)
        expected += [(fig_id, caption, href) for href in spec.hrefs or [""]]
    assert [(f.fig_id, f.caption, f.graphic) for f in figures] == expected
    assert len({f.fig_key for f in figures}) == len(figures)
    assert all("." not in f.fig_key for f in figures)
