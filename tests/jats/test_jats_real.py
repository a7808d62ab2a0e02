"""parse_article on real PMC and eLife articles from ../shared/jats (see its README).

Expected values (here and in tests/support/jats_real_cases.py) were taken from the XML, not from
running the parser; jats_real_cases.py says how.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from lxml import etree
from support.jats_real_cases import CASES  # tests/ is on sys.path (pytest rootdir-relative import)

from pmc15m.core.record import Figure, ParsedArticle
from pmc15m.jats.parse import ParseConfig, measure_subcaption_split, parse_article
from pmc15m.jats.secure import secure_parser, strip_namespaces

JATS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "jats"
if not JATS_DIR.is_dir():
    print(f"skipping real-article tests: {JATS_DIR} is absent")
    pytest.skip(f"real JATS articles not found at {JATS_DIR}", allow_module_level=True)

ROW = re.compile(r"^\|\s*((?:elife|pmc)/\S+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|$")


def readme_rows() -> dict[str, tuple[str, str, int, str]]:
    """``file -> (pmcid, doi, fig count, license)`` from the README's table."""
    rows = {}
    for line in (JATS_DIR / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3), int(m.group(4)), m.group(5))
    return rows


ROWS = readme_rows()
EMPTY_CAPTIONS = {"elife/elife00133.xml": {"fig7", "fig8"}}
FILES = sorted(str(p.relative_to(JATS_DIR)) for p in JATS_DIR.glob("*/*") if p.suffix in (".xml", ".nxml"))


@cache
def parsed(name: str) -> ParsedArticle:
    return parse_article((JATS_DIR / name).read_bytes())


def by_id(name: str) -> dict[str, Figure]:
    return {f.fig_id: f for f in parsed(name).figures}


def test_readme_lists_every_file():
    assert FILES and sorted(ROWS) == FILES


@pytest.mark.parametrize("name", FILES)
def test_figure_count_matches_readme(name: str):
    """One Figure per graphic: in these files every <fig> has exactly one figure graphic."""
    xml = (JATS_DIR / name).read_text(encoding="utf-8")
    fig_count = len(re.findall(r"<fig[\s>]", xml))
    assert fig_count == ROWS[name][2]
    figures = parsed(name).figures
    assert len(figures) == fig_count  # no fig with several graphics, none without
    assert all(f.graphic for f in figures)
    assert len({f.fig_key for f in figures}) == len(figures)
    # The only empty captions are eLife's author-response images with ``<caption><p/></caption>``.
    empty = {f.fig_id for f in figures if not f.caption}
    assert empty == EMPTY_CAPTIONS.get(name, set())


def test_cases_cover_every_article_with_figures():
    assert sorted(CASES) == sorted(name for name, row in ROWS.items() if row[2] > 0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_ids_and_labels(name: str):
    figures = parsed(name).figures
    assert tuple(f.fig_id for f in figures) == CASES[name].ids
    assert tuple(f.fig_key for f in figures) == CASES[name].ids  # the ids are already key-safe
    assert tuple(f.label for f in figures) == CASES[name].labels


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_captions(name: str):
    figs = by_id(name)
    assert len(CASES[name].captions) >= min(2, len(figs))
    for fig_id, caption in CASES[name].captions.items():
        assert figs[fig_id].caption == caption, fig_id


@pytest.mark.parametrize("name", FILES)
def test_metadata_matches_readme(name: str):
    pmcid, doi, _, license_ = ROWS[name]
    art = parsed(name)
    assert art.doi == doi
    assert art.pmcid == ("" if pmcid == "-" else f"PMC{pmcid}")
    if license_.startswith("http"):
        assert art.license_url == license_
    assert art.title and art.journal
    has_pub_date = "<pub-date" in (JATS_DIR / name).read_text(encoding="utf-8")
    assert (art.year is not None) == has_pub_date  # eLife's publish-on-accept XML has none


def test_ehp_floats_group_captions():
    figs = by_id("pmc/ehp-116-1694.nxml")
    assert [(f.fig_id, f.label, f.graphic, f.location) for f in figs.values()] == [
        ("f1-ehp-116-1694", "Figure 1", "ehp-116-1694f1", "floats"),
        ("f2-ehp-116-1694", "Figure 2", "ehp-116-1694f2", "floats"),
        ("f3-ehp-116-1694", "Figure 3", "ehp-116-1694f3", "floats"),
    ]
    assert figs["f1-ehp-116-1694"].caption == (
        "Exposure to PBDE-47 depressed circulating concentrations of total T4 in males and "
        "females (A), but had no effect on total T3 in males (B). *p < 0.05 compared with control."
    )
    assert figs["f2-ehp-116-1694"].caption == (
        "Dietary exposure to PBDE-47 altered relative transcripts levels for TSHβ (A) and GPHα (B) "
        "in the pituitary gland. Transcript levels are expressed relative to template RNA levels. "
        "*p < 0.05 compared with control."
    )
    assert figs["f3-ehp-116-1694"].caption == (
        "Dietary PBDE-47 exposure elevated mRNA levels for TRα in females (A), and reduced mRNA "
        "levels for TRβ in both sexes (B). PBDE-47 exposure also reduced gene transcripts for BTEB "
        "in the brain of male, but not female, minnows (C). Transcript levels are normalized to 18S. "
        "*p < 0.05 compared to control."
    )
    assert figs["f1-ehp-116-1694"].mentions[0] == (
        "We observed decreased plasma T4 levels in both sexes after dietary PBDE-47 exposure "
        "(p = 0.002; Figure 1)."
    )


def test_elife_14093_formulas_and_fig_group_child():
    figs = by_id("elife/elife-14093-v1.xml")
    child = figs["fig3s1"]
    assert (child.label, child.graphic, child.group_caption) == (
        "Figure 3—figure supplement 1.",
        "elife-14093-fig3-figsupp1-v1",
        "",
    )
    assert child.caption_title == (
        "Divergence angle of a series of simulations of the classical model with control parameter "
        "Γ_1=0.975 and for which the choice of the jth local minimum (instead of the global minimum, "
        "i.e. j=1) has been forced at a given time-point (red arrow)."
    )
    assert child.caption == child.caption_title + (
        " After the forcing, the reaction of the classical model is observed. 1. divergence angles "
        "(left column) 2. corresponding plastochrons (right column) (A,B) j=2. (C,D) j=3. (E,F) j=3 "
        "and j=2 are imposed in this order."
    )
    app = figs["fig13"]
    assert (app.label, app.location) == ("Appendix 1—figure 5.", "back")
    assert app.caption == (
        "Role of the control parameters for the tanh based inhibition function. (a–b) Average "
        "plastochron ratio as a function of Γ and Γ_D = Γ/(β^(1/6)E^(*1/2)), respectively. (c) Number "
        "of permutations π as a function of Γ_P."
    )
    assert [(s.panel, s.text) for s in app.subcaptions] == [
        ("a-b", "Average plastochron ratio as a function of Γ and Γ_D = Γ/(β^(1/6)E^(*1/2)), respectively."),
        ("c", "Number of permutations π as a function of Γ_P."),
    ]
    # The source-data description nested in the caption is not caption text.
    assert figs["fig5"].caption == (
        "Intensity of 2-permutations as a function of the total amount of perturbations. As the "
        "perturbation intensity π increases, the percentage of 2-permutations decreases in a "
        "non-linear way to the benefit of more complex 3-permutations. The diagonal line denotes the "
        "first bisector. In red: values of 2- and 3-permutations observed in different mutants and "
        "ecotypes of Arabidopsis thaliana (Besnard et al., 2014; Landrein et al., 2015 and this study) "
        "placed on the plot of values predicted by the stochastic model."
    )


_TOKENS = ("mi", "mn", "mo", "mtext", "ms")
_ACCENT_MARKS = set("¯‾^ˆ~˜→˙¨")


def _formula_tokens(formula: etree._Element) -> list[str]:
    """The visible tokens of a MathML formula in order (TeX: its body), read from the source."""
    if etree.QName(formula).localname == "tex-math":
        body = "".join(formula.itertext())
        inner = re.search(r"\\begin\{document\}(.*?)\\end\{document\}", body, re.S)
        return [(inner.group(1) if inner else body).strip().strip("$").strip()]
    tokens = []
    for el in formula.iter(etree.Element):
        if etree.QName(el).localname in _TOKENS:
            text = "".join(el.itertext()).translate(_INVISIBLE).strip()
            accent = etree.QName(el.getparent()).localname in ("mover", "munder") and text in _ACCENT_MARKS
            if text and not text.startswith("\\") and not accent:  # rewritten: \degree -> °, x¯ -> bar(x)
                tokens.append(text)
    return tokens


def _in_order(text: str, tokens: list[str]) -> bool:
    pos = 0
    for token in tokens:
        pos = text.find(token, pos)
        if pos < 0:
            return False
        pos += len(token)
    return True


@pytest.mark.parametrize("name", sorted(CASES))
def test_formulas_present(name: str):
    """Every token of every caption formula appears in the caption text, in order."""
    root = etree.parse(str(JATS_DIR / name), etree.XMLParser(load_dtd=False, no_network=True)).getroot()
    captions = {fig.get("id"): fig.find("caption") for fig in root.iter("fig")}
    with_formulas = 0
    for figure in parsed(name).figures:
        caption_el = captions[figure.fig_id]
        formulas = [] if caption_el is None else list(_formulas(caption_el))
        with_formulas += bool(formulas)
        for formula in formulas:
            tokens = _formula_tokens(formula)
            assert _in_order(figure.caption, tokens), (figure.fig_id, tokens)
    assert with_formulas == CASES[name].formula_figs


def _formulas(caption_el: etree._Element):
    """``<math>`` / ``<tex-math>`` elements of the caption text (not of nested source-data files)."""
    for el in caption_el.iter(etree.Element):
        nested = any(etree.QName(a).localname == "supplementary-material" for a in el.iterancestors())
        if etree.QName(el).localname in ("math", "tex-math") and not nested:
            yield el


def test_elife_14093_formulas_never_vanish():
    captions = [f.caption for f in parsed("elife/elife-14093-v1.xml").figures]
    with_formula = [c for c in captions if re.search(r"[ΓπβαϕκE]_|\^|[Γπβαϕκ]", c)]
    assert len(with_formula) >= 10
    assert "Γ_2 = 0.675" in captions[2] and "E_k − E_1" in captions[2]


def test_kitchen_sink_appendix_and_sub_article():
    figs = by_id("elife/elife-kitchen-sink.xml")
    assert (figs["fig10"].label, figs["fig10"].location) == ("Appendix 2 Figure 1", "back")
    assert figs["fig10"].caption.startswith(
        "Schematic diagrams showing mechanisms of cerebellar learning suggested by our data. "
        "Each panel shows the spiking activity"
    )
    resp = figs["fig5"]
    assert (resp.label, resp.location, resp.graphic) == (
        "Author response image 1",
        "sub-article",
        "elife00013f005",
    )
    assert resp.caption == (
        "Correlation between mean Voxel Number and resulting mean Decoding Accuracy (shown for each ROI "
        "(N=13) and each of the three pair-wise comparisons for the Plan-Epoch). Pearson correlation "
        "between Voxel Number and Hand Plan Epoch decoding accuracies (red diamond symbols): r2=0.108, "
        "p=0.272; Pearson Correlation between Voxel Number and Tool Plan Epoch decoding accuracies (blue "
        "square symbols): r2=0.025, p=0.602; Pearson Correlation between Voxel Number and Across-Effector "
        "Plan Epoch decoding accuracies (purple triangle symbols): r2=0.026, p=0.598."
    )


def test_elife_00666_appendix_fig_group_and_response():
    figs = by_id("elife/elife-00666.xml")
    supp = figs["app1fig1s1"]
    assert (supp.label, supp.location, supp.caption_title) == (
        "Appendix 1—Figure 1—Figure Supplement 1.",
        "back",
        "Appendix figure supplement title.",
    )
    accompany = "If there is a caption to accompany the title it would display here"
    assert supp.caption == f"Appendix figure supplement title. {accompany}."
    assert figs["app1fig1"].caption == f"Appendix figure title. {accompany} (Koch, 1959)."
    assert (
        figs["respfig1"].caption == "Single figure: The header of an eLife article example on the HTML page."
    )
    assert figs["respfig1"].location == "sub-article"


def test_pone_lettered_panels():
    fig = by_id("pmc/pone.0046493.nxml")["pone-0046493-g002"]
    assert fig.caption_title == "Inhibition of Lip-HSL proteins by MmPPOX."
    assert [s.panel for s in fig.subcaptions] == ["A", "B"]
    assert fig.subcaptions[1].text.startswith("Residual activities of LipC, LipI, LipU, LipY and Cut6")
    assert "(xI). Residual" in fig.caption and "Ni2+-NTA resin" in fig.caption


def test_include_label_on_real_article():
    art = parse_article((JATS_DIR / "pmc/mds526.nxml").read_bytes(), ParseConfig(include_label=True))
    assert art.figures[0].caption.startswith("Figure 1. Deprivation inequalities in advanced stage")


# --- no glued words ----------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"), None)
# Words the formula renderer writes itself: accents and roots (``bar(x)``, ``sqrt(x)``).
_FORMULA_WORDS = {"bar", "hat", "tilde", "vec", "dot", "ddot", "sqrt"}
_BLOCKS = {"p", "title", "list-item", "label", "caption", "disp-formula", "td", "th", "tr", "break"}


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.translate(_INVISIBLE)))


def _source_reading(el: etree._Element) -> str:
    """Text with the document's own whitespace, plus a space around block elements only."""
    parts = [" " if el.tag in _BLOCKS else "", el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts.append(_source_reading(child))
        parts.append(child.tail or "")
    parts.append(" " if el.tag in _BLOCKS else "")
    return "".join(parts)


def glued_words(caption_el: etree._Element, rendered: str) -> list[str]:
    """Words of ``rendered`` that join two words of the source across a tag boundary.

    A word missing from the reading with a space at every tag boundary spans a boundary;
    that is right only where the source had no whitespace there (``T<sub>4</sub>``), i.e.
    where the word is (part of) a word of the source's own reading.
    """
    spaced = _words(" ".join(caption_el.itertext()))
    source = _words(_source_reading(caption_el))
    known = spaced | _FORMULA_WORDS
    # Part of a source word is fine too: formulas may space what the source ran together.
    return [w for w in _WORD.findall(rendered) if w not in known and not any(w in s for s in source)]


_NOT_PLAIN = ("math", "tex-math", "inline-formula", "disp-formula", "supplementary-material")


def _is_plain(caption_el: etree._Element) -> bool:
    """No formulas or nested floats: the caption must read exactly as its source."""
    return not any(etree.QName(e).localname in _NOT_PLAIN for e in caption_el.iter(etree.Element))


def _without_doi_lines(caption_el: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(caption_el))
    for p in copy.findall("p"):
        if "".join(p.itertext()).strip().startswith("DOI:"):
            p.getparent().remove(p)
    return copy


@pytest.mark.parametrize("name", FILES)
def test_no_glued_words(name: str):
    data = (JATS_DIR / name).read_bytes()
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))
    captions = {fig.get("id"): fig.find("caption") for fig in root.iter("fig")}
    for figure in parsed(name).figures:
        caption_el = captions[figure.fig_id]
        assert not glued_words(caption_el, figure.caption), figure.fig_id
        if _is_plain(caption_el):  # stronger: the same whitespace-separated tokens, in order
            source = _source_reading(_without_doi_lines(caption_el)).translate(_INVISIBLE)
            assert figure.caption.split() == source.split(), figure.fig_id


def test_most_real_captions_get_the_token_for_token_check():
    plain = total = 0
    for name in FILES:
        root = etree.parse(str(JATS_DIR / name), etree.XMLParser(load_dtd=False, no_network=True))
        for caption_el in root.iter("caption"):
            if caption_el.getparent().tag == "fig":
                total += 1
                plain += _is_plain(caption_el)
    assert plain >= total * 0.6, (plain, total)


def test_glue_guard_catches_glue():
    el = etree.fromstring("<caption><title>Title</title><p>total T<sub>4</sub> in males</p></caption>")
    assert glued_words(el, "Title total T4 in males") == []
    assert glued_words(el, "Titletotal T4in males") == ["Titletotal", "T4in"]


# --- sub-caption split rate --------------------------------------------------------------------


def test_subcaption_split_rate_on_real_articles():
    stats = measure_subcaption_split(JATS_DIR / name for name in FILES)
    print(
        f"sub-caption split: {stats.split}/{stats.with_panels} = {stats.rate:.1%} of {stats.figures} figures"
    )
    assert stats.figures == sum(row[2] for row in ROWS.values())
    assert stats.rate >= 0.65
    assert stats.split_any == stats.split  # never splits a caption that mentions no panels


def test_parsing_is_deterministic():
    data = (JATS_DIR / "elife/elife-kitchen-sink.xml").read_bytes()
    assert parse_article(data) == parse_article(data) == parsed("elife/elife-kitchen-sink.xml")


@pytest.mark.parametrize("name", FILES)
def test_namespace_stripping_by_declared_uris_equals_the_full_walk(name: str):
    data = (JATS_DIR / name).read_bytes()
    fast, full = etree.fromstring(data, secure_parser()), etree.fromstring(data, secure_parser())
    strip_namespaces(fast, data)
    strip_namespaces(full)
    assert etree.tostring(fast) == etree.tostring(full)
    assert not any(el.tag.startswith("{") for el in fast.iter(etree.Element))


# --- DOCTYPE and named entities ------------------------------------------------------------------

PMC_DOCTYPE = (
    b'<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.3 '
    b'20210610//EN" "JATS-archivearticle1-3.dtd">'
)
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*>")
# Characters of the real captions written back as the named entities publishers use for them.
_AS_ENTITIES = {
    "\u2014": "mdash", "\u2013": "ndash", "\u00a0": "nbsp", "\u00b5": "micro", "\u03bc": "mu",
    "\u03b1": "alpha", "\u03b2": "beta", "\u03b3": "ggr", "\u0393": "Gamma", "\u00b1": "plusmn",
    "\u00d7": "times", "\u00b0": "deg", "\u2264": "le", "\u2265": "ge", "\u2032": "prime",
    "\u2212": "minus", "\u2019": "rsquo", "\u201c": "ldquo", "\u201d": "rdquo", "\u00e9": "eacute",
    "\u2062": "InvisibleTimes", "\u2061": "ApplyFunction",
}  # fmt: skip


_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")


def _as_named(match: re.Match[str]) -> str:
    """A character reference (PMC writes ``&#x02013;``) as its named entity, when it has one here."""
    ref = match.group(1)
    char = chr(int(ref[1:], 16) if ref.startswith("x") else int(ref))
    return f"&{_AS_ENTITIES[char]};" if char in _AS_ENTITIES else match.group(0)


def _captions(art: ParsedArticle) -> list[tuple[str, str, str, str]]:
    return [(f.fig_key, f.label, f.caption, f.graphic) for f in art.figures]


@pytest.mark.parametrize("name", FILES)
def test_doctype_line_changes_nothing(name: str):
    """Without a DOCTYPE, or with PMC's current one, every real article parses the same."""
    data = (JATS_DIR / name).read_bytes()
    assert _DOCTYPE.search(data), "every real file declares its DTD"
    expected = _captions(parsed(name))
    assert _captions(parse_article(_DOCTYPE.sub(b"", data, count=1))) == expected
    assert _captions(parse_article(_DOCTYPE.sub(PMC_DOCTYPE, data, count=1))) == expected


def _with_named_entities(text: str) -> str:
    """The article's text with the characters of ``_AS_ENTITIES`` written as named entities."""
    assert "<![CDATA[" not in text  # the rewrite would change CDATA text
    return _CHAR_REF.sub(_as_named, text.translate({ord(c): f"&{n};" for c, n in _AS_ENTITIES.items()}))


def test_the_named_entity_rewrite_reaches_the_captions():
    captions = [
        caption
        for name in FILES
        for caption in re.findall(
            r"<caption>.*?</caption>", _with_named_entities((JATS_DIR / name).read_text()), re.S
        )
    ]
    named = [
        ref for c in captions for ref in re.findall(r"&([A-Za-z]+);", c) if ref not in ("amp", "lt", "gt")
    ]
    assert len(named) > 500 and {"ndash", "mu", "alpha", "plusmn", "InvisibleTimes"} <= set(named)


@pytest.mark.parametrize("name", FILES)
def test_named_entities_read_like_the_characters(name: str):
    """Real text rewritten with named entities (as publishers write it) parses identically."""
    text = (JATS_DIR / name).read_text(encoding="utf-8")
    body = text[text.index("<article") :]
    named = _with_named_entities(body)
    assert named != body
    prolog = text[: text.index("<article")]
    for doctype in (prolog, re.sub(r"<!DOCTYPE[^>\[]*>", "", prolog)):
        data = (doctype + named).encode("utf-8")
        assert _captions(parse_article(data)) == _captions(parsed(name)), doctype[:40]
