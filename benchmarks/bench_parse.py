"""Parse + caption extraction throughput on the real articles of ../shared/jats.

The baseline is what common figure-caption pipelines do: parse with lxml, walk every
``<fig>``, and take ``" ".join(caption.itertext())`` as the caption (no formula rendering,
no block spacing, no mentions). It runs in the same process on the same bytes, so the
ratio is the price of doing captions right. Figures are counted as each method reports
them (ours: one per figure image). Rates are per core: work done by one process divided
by the CPU time that process used (``time.process_time``), so they hold on a shared,
busy machine where wall-clock time would also count other processes. Parsing is
per-article and shares nothing, so a pipeline's throughput is this rate times its cores.
The sub-caption split rate is measured on the same articles.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from benchmarks.table import format_table
from pmc15m.jats import ParseConfig, measure_subcaption_split, parse_article

JATS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "jats"
MIN_SECONDS = 2.5  # CPU seconds of work per measurement
_WS = re.compile(r"\s+")
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

Extractor = Callable[[bytes], int]  # parses one article, returns the figures it found


def naive_itertext(data: bytes) -> int:
    """The baseline: secure lxml parse, ``itertext()`` captions, first graphic's href."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    root = etree.fromstring(data, parser)
    pairs = []
    for fig in root.iter("{*}fig"):
        caption = fig.find("{*}caption")
        text = _WS.sub(" ", " ".join(caption.itertext())).strip() if caption is not None else ""
        graphic = fig.find(".//{*}graphic")
        href = graphic.get(_XLINK_HREF, "") if graphic is not None else ""
        pairs.append((fig.get("id"), fig.findtext("{*}label"), text, href))
    return len(pairs)


def _ours(config: ParseConfig) -> Extractor:
    def extract(data: bytes) -> int:
        return len(parse_article(data, config).figures)

    return extract


WITH_MENTIONS = ParseConfig(extract_mentions=True)
NO_MENTIONS = ParseConfig(extract_mentions=False)


def _paths() -> list[Path]:
    return sorted(p for p in JATS_DIR.glob("*/*") if p.suffix in (".xml", ".nxml"))


def _articles() -> list[bytes]:
    return [p.read_bytes() for p in _paths()]


def _measure(extract: Extractor, articles: list[bytes], min_seconds: float) -> tuple[int, int, float]:
    """Repeat the article set until ``min_seconds`` of CPU time: (articles, figures, CPU seconds)."""
    n_articles = n_figures = 0
    start = time.process_time()
    while True:
        for data in articles:
            n_figures += extract(data)
        n_articles += len(articles)
        elapsed = time.process_time() - start
        if elapsed >= min_seconds:
            return n_articles, n_figures, elapsed


def run(min_seconds: float = MIN_SECONDS) -> str:
    if not JATS_DIR.is_dir():  # the runner prints what run() returns
        return f"parse benchmark skipped: real articles not found at {JATS_DIR}\n"
    articles = _articles()
    size_mb = sum(map(len, articles)) / 1e6
    methods: list[tuple[str, Extractor]] = [
        ("naive lxml itertext() (baseline)", naive_itertext),
        ("parse_article, no mentions", _ours(NO_MENTIONS)),
        ("parse_article, with mentions", _ours(WITH_MENTIONS)),
    ]
    rows = []
    base_rate = 0.0
    for name, extract in methods:
        extract(articles[0])  # warm-up (imports, regex compilation)
        n_art, n_fig, seconds = _measure(extract, articles, min_seconds)
        base_rate = base_rate or n_art / seconds
        rows.append(
            [name, n_art, n_fig, seconds, n_art / seconds, n_fig / seconds, n_art / seconds / base_rate]
        )
    stats = measure_subcaption_split(_paths())
    table = format_table(
        f"JATS parse + captions over {len(articles)} real articles ({size_mb:.1f} MB), repeated",
        ["method", "articles", "figures", "CPU s", "articles/s/core", "figures/s/core", "vs baseline"],
        rows,
    )
    split = (
        f"sub-caption split: {stats.split} of {stats.with_panels} captions that describe panels "
        f"({stats.rate:.1%}); {stats.figures} figures in all, {stats.split_any} split\n"
    )
    return table + split
