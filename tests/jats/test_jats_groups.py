"""Images a fig does not hold itself: empty and URL hrefs, and fig-groups sharing one image.

The documents are shaped like the real ones that lost figures: SciELO's bilingual
``<fig-group>`` (one ``<fig>`` per language around one graphic, often an ``<alternatives>``
whose first href is empty and whose second is an absolute URL), and PMC's alternatives
that offer a PDF or EPS beside the JPEG.
"""

from __future__ import annotations

import pytest

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig
from pmc15m.core.record import ArticleMeta, Figure, MediaRef
from pmc15m.jats.parse import ParseConfig, parse_article
from pmc15m.shards.schema import reject_schema, rows_to_table, sample_schema
from pmc15m.stages import figure_sample

NS = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
URL = "https://minio.scielo.br/documentstore/1678-4685/xWz/93646b0c8e1a.jpg"


def parse(body: str, *, lang: str = "pt", config: ParseConfig = ParseConfig()) -> list[Figure]:  # noqa: B008
    lang_attr = f' xml:lang="{lang}"' if lang else ""
    data = (
        f'<?xml version="1.0" encoding="UTF-8"?><article {NS}{lang_attr}><front><article-meta>'
        '<article-id pub-id-type="pmc">77</article-id></article-meta></front>'
        f"<body>{body}</body></article>"
    )
    return parse_article(data.encode(), config).figures


def lang_fig(lang: str | None, label: str, text: str, fig_id: str = "") -> str:
    attrs = (f' xml:lang="{lang}"' if lang else "") + (f' id="{fig_id}"' if fig_id else "")
    return f"<fig{attrs}><label>{label}</label><caption><title>{text}</title></caption></fig>"


PT = lang_fig("pt", "Figura 1", "Distribuição dos casos de dengue por município.")
EN = lang_fig("en", "Figure 1", "Distribution of dengue cases by municipality.")
SCIELO_ALTERNATIVES = f'<alternatives><graphic xlink:href=""/><graphic xlink:href="{URL}"/></alternatives>'


def group(*figs: str, image: str = SCIELO_ALTERNATIVES, group_id: str = "f1", extra: str = "") -> str:
    id_attr = f' id="{group_id}"' if group_id else ""
    return f"<fig-group{id_attr}>{''.join(figs)}{image}{extra}</fig-group>"


# --- renditions: empty hrefs are none, usable formats first ---------------------------------------


def test_alternatives_with_an_empty_first_href_take_the_url():
    (f,) = parse(f'<fig id="f1"><caption><p>Cap.</p></caption>{SCIELO_ALTERNATIVES}</fig>')
    assert (f.graphic, f.alternatives, f.fig_key) == (URL, (), "f1")


def test_an_empty_graphic_beside_a_usable_one_is_no_image():
    graphics = '<graphic xlink:href=""/><graphic xlink:href="  "/><graphic xlink:href="g1"/>'
    (f,) = parse(f'<fig id="F1"><caption><p>Cap.</p></caption>{graphics}</fig>')
    assert (f.graphic, f.fig_key) == ("g1", "F1")  # no _g suffix: one image


def test_only_empty_hrefs_still_give_one_rejectable_figure():
    graphics = '<graphic xlink:href=""/><alternatives><graphic xlink:href=""/></alternatives>'
    (f,) = parse(f'<fig id="F1"><caption><p>Cap.</p></caption>{graphics}</fig>')
    assert (f.graphic, f.alternatives) == ("", ())


@pytest.mark.parametrize(
    ("hrefs", "graphic", "alternatives"),
    [
        (["f1.pdf", "f1.jpg"], "f1.jpg", ("f1.pdf",)),
        (["", "f1.eps", "f1"], "f1", ("f1.eps",)),  # a stem resolves to an image: before the EPS
        (["f1.tif", "f1.png", "f1.tif"], "f1.tif", ("f1.png",)),  # image formats keep their order
        ([URL + "?download=1", "f1.svg"], URL + "?download=1", ("f1.svg",)),
        (["x.PDF", "x.docx"], "x.PDF", ("x.docx",)),  # nothing usable: kept, tried in order
    ],
)
def test_renditions_order_usable_first(hrefs: list[str], graphic: str, alternatives: tuple[str, ...]):
    block = "".join(f'<graphic xlink:href="{h}"/>' for h in hrefs)
    (f,) = parse(f'<fig id="F1"><caption><p>Cap.</p></caption><alternatives>{block}</alternatives></fig>')
    assert (f.graphic, f.alternatives) == (graphic, alternatives)


# --- bilingual groups: one figure, English caption, the others as translations -----------------


@pytest.mark.parametrize(
    "image",
    [
        SCIELO_ALTERNATIVES,
        f'<graphic xlink:href="{URL}"/>',
        '<graphic xlink:href=""/><graphic xlink:href="gf1"/>',
    ],
)
@pytest.mark.parametrize("order", ["pt_en", "en_pt"])
def test_bilingual_group_is_one_english_figure_with_its_translation(image: str, order: str):
    figs = (PT, EN) if order == "pt_en" else (EN, PT)
    (f,) = parse("<p>Intro.</p>" + group(*figs, image=image))
    assert (f.fig_id, f.fig_key, f.label) == ("f1", "f1", "Figure 1")
    assert f.caption == "Distribution of dengue cases by municipality."
    assert f.graphic in (URL, "gf1") and f.alternatives == ()
    assert [(t.lang, t.label, t.text) for t in f.caption_translations] == [
        ("pt", "Figura 1", "Distribuição dos casos de dengue por município.")
    ]


def test_english_variant_tags_and_three_languages():
    es = lang_fig("es", "Figura 2", "Distribución de casos.")
    en_us = lang_fig("EN-us", "Figure 2", "Distribution of cases.")
    pt = lang_fig("pt-BR", "Figura 2", "Distribuição de casos.")
    (f,) = parse(group(es, pt, en_us, group_id="f2"))
    assert (f.label, f.caption) == ("Figure 2", "Distribution of cases.")
    assert [(t.lang, t.label) for t in f.caption_translations] == [("es", "Figura 2"), ("pt-br", "Figura 2")]


def test_without_english_the_article_language_wins_then_the_first():
    es, pt = lang_fig("es", "Figura 1", "Casos."), lang_fig("pt", "Figura 1", "Casos por mês.")
    (f,) = parse(group(es, pt), lang="pt")
    assert (f.caption, [t.lang for t in f.caption_translations]) == ("Casos por mês.", ["es"])
    (f,) = parse(group(es, pt), lang="fr")
    assert (f.caption, [t.lang for t in f.caption_translations]) == ("Casos.", ["pt"])


def test_a_fig_without_lang_inherits_the_articles_and_can_be_the_english_one():
    (f,) = parse(group(PT, lang_fig(None, "Figure 1", "English text.")), lang="en")
    assert f.caption == "English text."
    assert [(t.lang, t.label) for t in f.caption_translations] == [("pt", "Figura 1")]


def test_group_key_falls_back_to_the_chosen_figs_id_then_its_position():
    (f,) = parse(group(PT, lang_fig("en", "Figure 1", "Cases.", fig_id="f1en"), group_id=""))
    assert (f.fig_id, f.fig_key) == ("f1en", "f1en")
    figs = parse(
        '<fig id="a"><caption><p>A.</p></caption><graphic xlink:href="a"/></fig>' + group(PT, EN, group_id="")
    )
    assert [(x.fig_id, x.fig_key) for x in figs] == [("a", "a"), ("fig-auto-3", "fig-auto-3")]  # EN is fig 3


def test_group_keys_stay_unique_and_a_group_with_two_images_gets_g_suffixes():
    clash = '<fig id="f1"><caption><p>Other.</p></caption><graphic xlink:href="o"/></fig>'
    figs = parse(clash + group(PT, EN))
    assert [(x.fig_key, x.graphic) for x in figs] == [("f1", "o"), ("f1-2", URL)]
    figs = parse(group(PT, EN, image=SCIELO_ALTERNATIVES + '<graphic xlink:href="second"/>'))
    assert [(x.fig_key, x.graphic) for x in figs] == [("f1_g1", URL), ("f1_g2", "second")]
    assert figs[0].caption_translations == figs[1].caption_translations
    assert figs[0].caption_translations is not figs[1].caption_translations


def test_mentions_of_the_group_are_kept_once():
    prose = '<p>Cases rose (<xref ref-type="fig" rid="f1">Figure 1</xref>).</p>'
    (f,) = parse(prose + group(PT, EN))
    assert f.mentions == ["Cases rose (Figure 1)."]


# --- other groups -----------------------------------------------------------------------------


def test_normal_fig_group_with_own_graphics_is_unchanged():
    child = (
        '<fig id="{0}" xml:lang="{1}"><label>{0}</label><caption><p>Own {0}.</p></caption>'
        '<graphic xlink:href="{0}"/></fig>'
    )
    body = (
        '<fig-group id="G"><caption><p>Group.</p></caption>'
        + child.format("A", "pt")
        + child.format("B", "en")
    )
    figs = parse(body + '<graphic xlink:href="group-level"/></fig-group>')
    assert [(f.fig_id, f.graphic, f.caption, f.group_caption, f.caption_translations) for f in figs] == [
        ("A", "A", "Own A.", "Group.", []),
        ("B", "B", "Own B.", "Group.", []),
    ]


def test_image_less_figs_take_the_group_image_beside_figs_with_their_own():
    own = '<fig id="fa"><caption><p>Has its own.</p></caption><graphic xlink:href="fa"/></fig>'
    figs = parse(group(own, PT, EN, image='<graphic xlink:href="shared"/>'))
    assert [(f.fig_key, f.graphic, f.label) for f in figs] == [("fa", "fa", ""), ("f1", "shared", "Figure 1")]


def test_same_language_figs_sharing_an_image_are_parts_of_one_caption():
    """Not translations: the first caption, then each further fig's label and caption."""
    a = lang_fig(None, "Figure 1A", "Wild type.")
    b = lang_fig(None, "Figure 1B", "Mutant.")
    (f,) = parse(group(a, b, image='<graphic xlink:href="g1"/>'), lang="en")
    assert (f.fig_id, f.label, f.graphic) == ("f1", "Figure 1A", "g1")
    assert (f.caption, f.caption_translations) == ("Wild type. Figure 1B Mutant.", [])
    (g,) = parse(group(a, b, image='<graphic xlink:href="g1"/>'), config=ParseConfig(include_label=True))
    assert g.caption == "Figure 1A Wild type. Figure 1B Mutant."


def test_unmarked_figs_without_any_language_are_joined_too():
    a, b = lang_fig(None, "Figura 1", "Casos."), lang_fig(None, "Figure 1", "Cases.")
    (f,) = parse(group(a, b), lang="")
    assert (f.caption, f.graphic, f.caption_translations) == ("Casos. Figure 1 Cases.", URL, [])


def test_group_without_any_image_keeps_one_rejectable_figure_per_fig():
    figs = parse(group(PT, EN, image=""))
    assert [(f.graphic, f.caption_translations) for f in figs] == [("", []), ("", [])]


# --- through figure_sample: counted once, resolved by URL, schema-valid -----------------------


def test_bilingual_group_becomes_one_sample_resolved_from_its_url():
    body = group(PT, EN) + '<fig id="f2"><caption><p>Another caption here.</p></caption></fig>'
    data = f'<article {NS} xml:lang="pt"><front/><body>{body}</body></article>'.encode()
    article = parse_article(data)
    meta = ArticleMeta(
        pmcid="PMC77",
        version=1,
        media=(MediaRef("PMC77.1/93646b0c8e1a.jpg", "ab"), MediaRef("PMC77.1/other.jpg", "cd")),
    )
    samples = [figure_sample(meta, article, f, BuildConfig()) for f in article.figures]
    assert [(s.key, s.reject_reason, s.source_key) for s in samples] == [
        ("PMC77_1_f1", "", "PMC77.1/93646b0c8e1a.jpg"),
        ("PMC77_1_f2", reasons.NO_GRAPHIC, ""),
    ]
    assert samples[0].caption_translations == [
        {"lang": "pt", "label": "Figura 1", "text": "Distribuição dos casos de dengue por município."}
    ]
    assert rows_to_table([samples[0].row()], sample_schema()).num_rows == 1
    assert rows_to_table([samples[1].row()], reject_schema()).num_rows == 1
