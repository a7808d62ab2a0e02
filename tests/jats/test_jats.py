"""parse_article on small inline JATS: one test per figure-discovery and metadata rule."""

from __future__ import annotations

import json

import pytest

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.core.record import ArticleMeta, MediaRef
from pmc15m.jats.parse import JatsError, ParseConfig, parse_article
from pmc15m.stages import figure_sample

NS = 'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"'
FRONT = """<front><journal-meta><journal-title-group><journal-title>J Test</journal-title>
</journal-title-group></journal-meta><article-meta>
<article-id pub-id-type="pmc">123</article-id><article-id pub-id-type="pmid">456</article-id>
<article-id pub-id-type="doi">10.1/x</article-id>
<title-group><article-title>A <italic>title</italic></article-title></title-group>
</article-meta></front>"""


def doc(body: str = "", *, back: str = "", floats: str = "", tail: str = "", front: str = FRONT) -> bytes:
    """A minimal JATS article around the given body, back matter and floats."""
    parts = [
        f'<article {NS} article-type="research-article">',
        front,
        f"<body>{body}</body>",
        f"<back>{back}</back>" if back else "",
        f"<floats-group>{floats}</floats-group>" if floats else "",
        tail,
        "</article>",
    ]
    return "".join(parts).encode()


def fig(
    fig_id: str = "F1", caption: str = "<p>Cap.</p>", graphics: str = '<graphic xlink:href="g1"/>'
) -> str:
    id_attr = f' id="{fig_id}"' if fig_id else ""
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f"<fig{id_attr}><label>Figure 1</label>{cap}{graphics}</fig>"


def figures(body: str = "", **kw):
    return parse_article(doc(body, **kw)).figures


# --- metadata --------------------------------------------------------------------------------


def test_metadata_fields():
    front = """<front><journal-meta><journal-title>Old Style J</journal-title></journal-meta>
    <article-meta><article-id pub-id-type="pmcid">PMC77</article-id>
    <article-categories><subj-group><subject>Research</subject><subj-group><subject>Biology</subject>
    </subj-group></subj-group><subj-group><subject>Research</subject></subj-group></article-categories>
    <title-group><article-title>T<sub>4</sub> levels</article-title></title-group>
    <pub-date pub-type="collection"><year>2010</year></pub-date>
    <pub-date pub-type="epub"><day>1</day><year>2011</year></pub-date>
    <permissions><license license-type="open-access" xlink:href=" http://cc/by/4.0/ ">
    <license-p>text</license-p></license></permissions></article-meta></front>"""
    art = parse_article(doc(front=front))
    assert art.pmcid == "PMC77"
    assert art.title == "T4 levels"
    assert art.journal == "Old Style J"
    assert art.year == 2011  # epub preferred over the earlier "collection" date
    assert art.license_url == "http://cc/by/4.0/"
    assert art.license_type == "open-access"
    assert art.article_type == "research-article"
    assert art.subjects == ("Research", "Biology")


def test_metadata_ids_and_numeric_pmcid():
    art = parse_article(doc())
    assert (art.pmcid, art.pmid, art.doi, art.title, art.journal) == (
        "PMC123",
        "456",
        "10.1/x",
        "A title",
        "J Test",
    )
    assert art.year is None and art.license_url == "" and art.subjects == ()


def test_metadata_date_type_pub_and_ali_license():
    front = """<front><article-meta><pub-date date-type="received"><year>2019</year></pub-date>
    <pub-date date-type="pub" publication-format="electronic"><year>2020</year></pub-date>
    <permissions><license><ali:license_ref xmlns:ali="http://www.niso.org/schemas/ali/1.0/">
    https://creativecommons.org/licenses/by/4.0/</ali:license_ref></license></permissions>
    </article-meta></front>"""
    art = parse_article(doc(front=front))
    assert art.year == 2020
    assert art.license_url == "https://creativecommons.org/licenses/by/4.0/"


def test_first_year_when_no_preferred_date():
    front = '<front><article-meta><pub-date pub-type="x"><year>1999</year></pub-date></article-meta></front>'
    assert parse_article(doc(front=front)).year == 1999


# --- figure discovery ------------------------------------------------------------------------


def test_one_figure_per_fig_with_all_fields():
    (f,) = figures(fig("F1", "<title>Title.</title><p>Body <italic>text</italic>.</p>"))
    assert (f.fig_id, f.fig_key, f.label, f.graphic, f.location) == ("F1", "F1", "Figure 1", "g1", "body")
    assert f.caption == "Title. Body text."
    assert f.caption_title == "Title."
    assert f.alternatives == () and f.group_caption == ""


def test_alternatives_block_is_one_image():
    graphics = '<alternatives><graphic xlink:href="a.tif"/><graphic xlink:href="a.jpg"/></alternatives>'
    (f,) = figures(fig("F1", graphics=graphics))
    assert (f.graphic, f.alternatives, f.fig_key) == ("a.tif", ("a.jpg",), "F1")


def test_several_graphics_give_one_figure_each():
    graphics = '<graphic xlink:href="g1"/><graphic xlink:href="g2"/><graphic xlink:href="g3"/>'
    out = figures(fig("F.1", graphics=graphics))
    assert [(f.fig_id, f.fig_key, f.graphic) for f in out] == [
        ("F.1", "F-1_g1", "g1"),
        ("F.1", "F-1_g2", "g2"),
        ("F.1", "F-1_g3", "g3"),
    ]
    assert {f.caption for f in out} == {"Cap."}


def test_fig_without_graphic_is_kept_with_empty_graphic():
    (f,) = figures(fig("F1", graphics=""))
    assert f.graphic == "" and f.caption == "Cap."


def test_figs_without_id_get_stable_synthetic_ids():
    out = figures(fig("", "<p>One.</p>") + fig("F2") + fig("", "<p>Three.</p>"))
    assert [(f.fig_id, f.fig_key, f.caption) for f in out] == [
        ("fig-auto-1", "fig-auto-1", "One."),
        ("F2", "F2", "Cap."),
        ("fig-auto-3", "fig-auto-3", "Three."),
    ]


def test_colliding_sanitized_ids_get_suffixes():
    out = figures(fig("a.b") + fig("a-b") + fig("a b"))
    assert [f.fig_key for f in out] == ["a-b", "a-b-2", "a-b-3"]


def test_captionless_fig_never_borrows_a_neighbours_caption():
    out = figures(fig("F1", caption="") + fig("F2", "<p>Second caption.</p>"))
    assert [(f.fig_id, f.caption, f.caption_title) for f in out] == [
        ("F1", "", ""),
        ("F2", "Second caption.", ""),
    ]


def test_locations_floats_back_and_sub_article():
    sub = f'<sub-article article-type="reply"><body><p>{fig("R1")}</p></body></sub-article>'
    out = figures(
        fig("B1"),
        back=f"<app-group><app><sec>{fig('A1')}</sec></app></app-group>",
        floats=fig("FL1"),
        tail=sub,
    )
    assert [(f.fig_id, f.location) for f in out] == [
        ("B1", "body"),
        ("A1", "back"),
        ("FL1", "floats"),
        ("R1", "sub-article"),
    ]


def test_fig_group_children_and_group_caption():
    group = (
        '<fig-group id="G1"><caption><title>Group title.</title></caption>'
        + fig("F1", "<p>First.</p>")
        + fig("F1s1", "<p>Supplement.</p>", '<graphic xlink:href="g2"/>')
        + "</fig-group>"
    )
    out = figures(f"<p>{group}</p>")
    assert [(f.fig_id, f.caption, f.group_caption) for f in out] == [
        ("F1", "First.", "Group title."),
        ("F1s1", "Supplement.", "Group title."),
    ]
    pre = parse_article(doc(group), ParseConfig(prepend_group_caption=True)).figures
    assert [f.caption for f in pre] == ["Group title. First.", "Group title. Supplement."]


def test_include_label():
    (f,) = parse_article(doc(fig("F1")), ParseConfig(include_label=True)).figures
    assert f.caption == "Figure 1 Cap."
    assert f.label == "Figure 1"


def test_non_figure_graphics_are_ignored():
    body = """<p>Text <inline-graphic xlink:href="ig"/> and
    <disp-formula><graphic xlink:href="eq1"/></disp-formula>
    <inline-formula><alternatives><inline-graphic xlink:href="eq2"/></alternatives></inline-formula></p>
    <table-wrap id="T1"><alternatives><graphic xlink:href="t1"/><table/></alternatives></table-wrap>
    <supplementary-material><graphic xlink:href="s1"/></supplementary-material>
    <fig id="F1"><caption><p>Formula <inline-formula><inline-graphic xlink:href="eq3"/></inline-formula>
    <disp-formula><graphic xlink:href="eq4"/></disp-formula></p></caption>
    <graphic xlink:href="real"/></fig>"""
    (f,) = figures(body)
    assert f.graphic == "real" and f.alternatives == ()


def test_plain_href_attribute_and_default_namespace():
    data = (
        b'<article xmlns="http://jats.nlm.nih.gov/ns"><front><article-meta/></front><body>'
        b'<fig id="F1"><caption><p>Plain.</p></caption><graphic href="g9"/></fig></body></article>'
    )
    (f,) = parse_article(data).figures
    assert (f.graphic, f.caption) == ("g9", "Plain.")


def test_wrapped_article_is_found():
    data = b"<pmc-articleset>" + doc(fig("F1")) + b"</pmc-articleset>"
    assert [f.fig_id for f in parse_article(data).figures] == ["F1"]


def test_no_article_element_is_an_error():
    with pytest.raises(JatsError) as err:
        parse_article(b"<html><body/></html>")
    assert err.value.reason == reasons.XML_UNPARSEABLE
    assert "article" in err.value.detail


# --- captions in context -------------------------------------------------------------------


def test_caption_blocks_lists_and_doi_line():
    caption = """<title>Overview</title><p>First para.</p>
    <list list-type="bullet"><list-item><p>item one</p></list-item>
    <list-item><p>item two</p></list-item></list>
    <p><bold>DOI:</bold> <ext-link ext-link-type="doi">http://dx.doi.org/10.7554/eLife.1.003</ext-link></p>"""
    (f,) = figures(fig("F1", caption))
    assert f.caption == "Overview First para. item one item two"


def test_caption_nested_markup_and_subcaptions():
    caption = (
        "<p>(<bold>A</bold>) Total T<sub>4</sub> in males. (<bold>B</bold>) See "
        '<xref ref-type="bibr" rid="b1"><bold>Smith <italic>et al.</italic></bold></xref>'
        " for details.</p>"
    )
    (f,) = figures(fig("F1", caption))
    assert f.caption == "(A) Total T4 in males. (B) See Smith et al. for details."
    assert [(s.panel, s.text) for s in f.subcaptions] == [
        ("A", "Total T4 in males."),
        ("B", "See Smith et al. for details."),
    ]


# --- mentions ------------------------------------------------------------------------------


def test_mentions_sentences_citing_the_figure():
    body = (
        '<p>Intro sentence. Cells grew fast (<xref ref-type="fig" rid="F1">Fig. 1A</xref>). '
        'Both panels differ (<xref ref-type="fig" rid="F1 F2">Figs 1 and 2</xref>). Unrelated.</p>'
        '<p>Again cells grew fast (<xref ref-type="fig" rid="F1">Fig. 1A</xref>). '
        'Again cells grew fast (<xref ref-type="fig" rid="F1">Fig. 1A</xref>).</p>'
        + fig("F1", '<p>Caption cites <xref ref-type="fig" rid="F2">Fig. 2</xref>.</p>')
        + fig("F2")
    )
    f1, f2 = figures(body)
    assert f1.mentions == [
        "Cells grew fast (Fig. 1A).",
        "Both panels differ (Figs 1 and 2).",
        "Again cells grew fast (Fig. 1A).",
    ]
    assert f2.mentions == ["Both panels differ (Figs 1 and 2)."]


def test_mentions_of_fig_group_cite_every_child_and_can_be_disabled():
    group = '<fig-group id="G1">' + fig("F1") + fig("F1s1") + "</fig-group>"
    body = f'<p>See the group (<xref ref-type="fig" rid="G1">Figure 1</xref>).</p>{group}'
    assert [f.mentions for f in figures(body)] == [["See the group (Figure 1)."]] * 2
    off = parse_article(doc(body), ParseConfig(extract_mentions=False)).figures
    assert [f.mentions for f in off] == [[], []]


def test_mentions_are_capped():
    body = "".join(f'<p>Sentence {i} (<xref ref-type="fig" rid="F1">1</xref>).</p>' for i in range(15))
    (f,) = figures(body + fig("F1"))
    assert len(f.mentions) == 10 and f.mentions[0] == "Sentence 0 (1)."


# --- labels repeated in captions, namespaces, odd structure -----------------------------------


def test_label_copied_into_caption_is_not_duplicated():
    caption = "<title>Figure 1. Cells grow.</title><p>More text.</p>"
    (f,) = figures(fig("F1", caption))
    assert (f.label, f.caption_title, f.caption) == ("Figure 1", "Cells grow.", "Cells grow. More text.")
    (with_label,) = parse_article(doc(fig("F1", caption)), ParseConfig(include_label=True)).figures
    assert with_label.caption == "Figure 1 Cells grow. More text."


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("<p>Figure 1 shows the map.</p>", "Figure 1 shows the map."),  # prose, not a copy
        ("<p>Figure 10: other figure.</p>", "Figure 10: other figure."),
        ("<p>Figure 1: Map.</p>", "Map."),
        ("<p><bold>Figure 1 |</bold> Map.</p>", "Map."),
        ("<p>Figure 1</p>", ""),  # nothing but the label: no caption
    ],
)
def test_label_copy_rules(caption: str, expected: str):
    (f,) = figures(fig("F1", caption))
    assert f.caption == expected


def test_fig_inside_supplementary_material_is_not_a_figure():
    body = (
        '<supplementary-material id="S1"><caption><p>Data.</p></caption>'
        + fig("SF1", "<p>Supplementary figure.</p>", '<graphic xlink:href="s1"/>')
        + "</supplementary-material>"
        + fig("F1")
    )
    assert [f.fig_id for f in figures(body)] == ["F1"]


def test_prefixed_namespace_jats():
    data = (
        b'<j:article xmlns:j="http://jats.nlm.nih.gov/ns" xmlns:x="http://www.w3.org/1999/xlink">'
        b'<j:front><j:article-meta><j:article-id pub-id-type="pmc">5</j:article-id></j:article-meta>'
        b'</j:front><j:body><j:fig id="F1"><j:label>Figure 1</j:label><j:caption><j:p>Ca<j:sup>2+</j:sup>'
        b' <j:italic>waves</j:italic>.</j:p></j:caption><j:graphic x:href="g1"/></j:fig></j:body></j:article>'
    )
    art = parse_article(data)
    assert art.pmcid == "PMC5"
    assert [(f.fig_id, f.label, f.caption, f.graphic) for f in art.figures] == [
        ("F1", "Figure 1", "Ca2+ waves.", "g1")
    ]


def test_synthetic_id_with_several_graphics_is_stable():
    graphics = '<graphic xlink:href="a"/><alternatives><graphic xlink:href="b.tif"/></alternatives>'
    data = doc(fig("F1") + fig("", "<p>Two images.</p>", graphics))
    first = parse_article(data).figures
    assert [(f.fig_id, f.fig_key, f.graphic) for f in first[1:]] == [
        ("fig-auto-2", "fig-auto-2_g1", "a"),
        ("fig-auto-2", "fig-auto-2_g2", "b.tif"),
    ]
    assert parse_article(data).figures == first


def test_inline_content_directly_in_caption_reads_as_a_paragraph():
    (f,) = figures(fig("F1", "Direct <italic>text</italic>s and <p>a para</p>"))
    assert f.caption == "Direct texts and a para"


def test_group_caption_and_label_together():
    group = "<fig-group><caption><p>Group.</p></caption>" + fig("F1", "<p>Own.</p>") + "</fig-group>"
    config = ParseConfig(prepend_group_caption=True, include_label=True)
    (f,) = parse_article(doc(group), config).figures
    assert (f.caption, f.group_caption) == ("Figure 1 Group. Own.", "Group.")


def test_many_citing_xrefs_in_one_paragraph_leave_no_markers():
    """More xrefs than marker characters: the rest are not marked, and no marker leaks."""
    cites = "".join(f'Point {i} (<xref ref-type="fig" rid="F{i % 2 + 1}">x</xref>). ' for i in range(300))
    f1, f2 = figures(f"<p>{cites}</p>" + fig("F1") + fig("F2"))
    assert len(f1.mentions) == len(f2.mentions) == 10
    assert f1.mentions[0] == "Point 0 (x)." and f2.mentions[0] == "Point 1 (x)."
    assert all(c.isascii() for m in f1.mentions + f2.mentions for c in m)


@pytest.mark.parametrize(
    ("encoding", "ns_decl"),
    [
        ("utf-8", 'xmlns="http://jats.nlm.nih.gov/ns"'),
        ("utf-8", 'xmlns="http&#58;//jats.nlm.nih.gov/ns"'),  # URI the byte scan cannot read
        ("utf-16", 'xmlns="http://jats.nlm.nih.gov/ns"'),  # bytes the byte scan cannot read
        ("utf-8", 'xmlns:q="urn:x"'),  # declared, unused
    ],
)
def test_namespaced_documents_in_every_encoding(encoding: str, ns_decl: str):
    """Namespace stripping falls back to a full walk whenever the bytes cannot list the URIs."""
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?><article {ns_decl} {NS}><front><article-meta/></front>'
        '<body><fig id="F1"><caption><p>A <mml:math><mml:msub><mml:mi>x</mml:mi><mml:mn>1</mml:mn>'
        '</mml:msub></mml:math> b</p></caption><graphic xlink:href="g"/></fig></body></article>'
    )
    (f,) = parse_article(xml.encode(encoding)).figures
    assert (f.fig_id, f.caption, f.graphic) == ("F1", "A x_1 b", "g")


def test_captionless_fig_becomes_a_no_caption_rejection():
    """Through the pipeline's figure stage: rejected with its reason, its neighbour kept intact."""
    art = parse_article(doc(fig("F1", caption="") + fig("F2", "<p>A real caption here.</p>")))
    meta = ArticleMeta(pmcid="PMC123", version=1, media=(MediaRef(key="PMC123.1/g1.jpg", md5=""),))
    first, second = (figure_sample(meta, art, f, BuildConfig()) for f in art.figures)
    assert (first.key, first.caption, first.reject_reason) == ("PMC123_1_F1", "", reasons.NO_CAPTION)
    assert (second.caption, second.reject_reason) == ("A real caption here.", "")


# Characters a reader does not see, by class: DEL, every C1 control, the bidirectional
# embeddings, overrides and isolates, zero-width marks (U+0085 is a line break: a space).
INVISIBLE = [
    "\x7f",
    *(chr(c) for c in range(0x80, 0xA0) if c != 0x85),
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
    "\u200b",
    "\ufeff",
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_control_and_bidi_characters_leave_every_text_field(char):
    """In the caption (as an XML character reference, as real files write them) and in the
    metadata's fields, which never pass through the caption renderer."""
    ref = f"&#x{ord(char):x};"
    art = parse_article(doc(fig("F1", f"<p>IL{ref}6 binds{ref} its receptor at 5 nM.</p>")))
    meta = ArticleMeta(
        pmcid="PMC123",
        version=1,
        title=f"A title{char} with{char}{char} marks",
        citation=f"J Biol{char}. 2020",
        media=(MediaRef(key="PMC123.1/g1.jpg", md5=""),),
    )
    sample = figure_sample(meta, art, art.figures[0], BuildConfig())
    assert sample.caption == "IL6 binds its receptor at 5 nM."
    assert (sample.title, sample.citation) == ("A title with marks", "J Biol. 2020")
    row = json.dumps(sample.row(), ensure_ascii=False)
    assert char not in row


def test_next_line_is_a_space_and_ascii_controls_go_too():
    from pmc15m.core.text import normalize_space, strip_controls

    assert normalize_space("a\x85b\x7fc \x01d") == "a bc d"
    assert strip_controls("https://x.org/a\x7fb\u202e") == "https://x.org/ab"
