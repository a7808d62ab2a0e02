"""Caption quality rules: too long, label or stock phrase only, not English."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmc15m.core import reasons
from pmc15m.core.config import FilterConfig
from pmc15m.core.record import Sample
from pmc15m.jats.parse import ParseConfig, parse_article
from pmc15m.rules.filters import CAPTION_RULES, first_rejection, is_english, is_stock_caption

SHARED_JATS = Path(__file__).resolve().parents[2].parent / "shared" / "jats"

FOREIGN = {
    "es": "Distribución de los casos de dengue por semana epidemiológica en la región, con los valores "
    "para cada año del estudio.",
    "pt": "Distribuição dos casos de dengue por semana epidemiológica na região, com os valores para "
    "cada ano do estudo.",
    "fr": "Répartition des cas de dengue par semaine dans la région, avec les valeurs pour chaque année "
    "de l'étude.",
    "de": "Verteilung der Fälle pro Woche in der Region, mit den Werten für jedes Jahr der Studie und den "
    "Kontrollen.",
    "it": "Distribuzione dei casi di dengue per settimana nella regione, con i valori per ogni anno dello "
    "studio.",
    "zh": "图1 肺癌组织中TP53的表达水平。(A) 对照组；(B) 治疗组。",
    "ru": "Рис. 1. Распределение случаев заболевания по неделям в регионе за 2010–2015 гг.",
    "ja": "図1 マウス肝臓におけるTP53の発現。",
}
ENGLISH = [
    "TP53 expression in HeLa cells.",  # no function word at all: too little evidence to judge
    "Effect of TNF-α and IFN-γ on β-cell viability (μM).",  # Greek letters are not a script change
    "De novo assembly of the genome as described by Smith et al. per sample.",
    "Samples collected in La Paz and Los Angeles by the team of de la Cruz.",
    "Western blot of Bcl-2 (26 kDa) and GAPDH; x and y axes give OS in months.",
]
STOCK = [
    "Figure 1.",
    "Fig. 2B",
    "Supplementary Figure S3.",
    "Click here for additional data file.",
    "Additional file 1: Click here for file",
    "Figure 3—figure supplement 1.",
    "N/A",
    "Graphical abstract",
]
INFORMATIVE = [
    "Figure shows the timeline of the experimental design.",
    "Supplementary figure of the sampling sites across three provinces.",
    "Click-chemistry labelling of nascent proteins in neurons.",
]


def _sample(caption: str) -> Sample:
    return Sample(key="PMC1_1_F1", pmcid="PMC1", version=1, caption=caption)


@pytest.mark.parametrize("lang", sorted(FOREIGN))
def test_captions_in_other_languages_are_dropped(lang):
    assert not is_english(FOREIGN[lang])
    reason = first_rejection(_sample(FOREIGN[lang]), CAPTION_RULES, FilterConfig())
    assert reason == reasons.CAPTION_NOT_ENGLISH
    off = first_rejection(_sample(FOREIGN[lang]), CAPTION_RULES, FilterConfig(english_only=False))
    assert off != reasons.CAPTION_NOT_ENGLISH


@pytest.mark.parametrize("caption", ENGLISH)
def test_english_captions_with_foreign_looking_words_are_kept(caption):
    assert is_english(caption)


@pytest.mark.parametrize("caption", STOCK)
def test_label_or_stock_phrase_captions_are_recognised(caption):
    assert is_stock_caption(caption)


@pytest.mark.parametrize("caption", INFORMATIVE)
def test_captions_that_only_start_like_a_label_are_not_stock(caption):
    assert not is_stock_caption(caption)


def test_rule_order_keeps_the_older_reason_and_settings_switch_rules_off():
    config = FilterConfig()
    assert first_rejection(_sample("Figure 1."), CAPTION_RULES, config) == reasons.CAPTION_TOO_SHORT
    stock = _sample("Click here for additional data file.")
    assert first_rejection(stock, CAPTION_RULES, config) == reasons.CAPTION_BOILERPLATE
    assert first_rejection(stock, CAPTION_RULES, FilterConfig(drop_stock_captions=False)) is None


def test_caption_length_limit_is_inclusive():
    config = FilterConfig(max_caption_words=40)
    words = "the cells were stained and imaged " * 10
    assert first_rejection(_sample(" ".join(words.split()[:40])), CAPTION_RULES, config) is None
    too_long = _sample(" ".join(words.split()[:41]))
    assert first_rejection(too_long, CAPTION_RULES, config) == reasons.CAPTION_TOO_LONG


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1_000_000, reasons.CAPTION_TOO_MANY_CHARS), (10_001, reasons.CAPTION_TOO_MANY_CHARS), (10_000, None)],
)
def test_a_caption_of_few_but_huge_words_has_its_own_reason(length, expected):
    """Four words pass the word count; the character limit (inclusive) catches the rest."""
    frame = "Sequence of {} shown."
    caption = frame.format("ACGT" * length)[: length - 7] + " shown."
    assert len(caption) == length and len(caption.split()) == 4
    assert first_rejection(_sample(caption), CAPTION_RULES, FilterConfig()) == expected


def _real_captions() -> list[str]:
    paths = sorted(SHARED_JATS.rglob("*.xml")) + sorted(SHARED_JATS.rglob("*.nxml"))
    if not paths:
        pytest.skip(f"no real JATS beside the project ({SHARED_JATS})")
    return [f.caption for p in paths for f in parse_article(p.read_bytes(), ParseConfig()).figures]


def test_no_real_caption_that_passes_the_basic_rules_is_dropped_by_a_quality_rule():
    """The defaults were chosen on these captions (pmc15m.rules.filters): none may trip them."""
    config = FilterConfig()
    captions = _real_captions()
    basic = [c for c in captions if len(c.split()) >= config.min_caption_words]
    assert len(basic) > 200
    dropped = [(c[:60], first_rejection(_sample(c), CAPTION_RULES, config)) for c in basic]
    assert [d for d in dropped if d[1] is not None] == []
