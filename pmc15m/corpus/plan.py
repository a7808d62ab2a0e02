"""Plan a whole corpus from a seed: article ids, roles, planted features, figures and files.

Article-level special cases (retracted, not open access, bad XML, two versions...) get
articles of their own; figure-level ones are spread over ordinary articles, which stay
"processed" so that the figure's own reason is the one a build reports. The whole set is
planted once per 400 articles, so large benchmark corpora keep realistic proportions.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from datetime import datetime, timedelta

from pmc15m.core import reasons
from pmc15m.corpus import prose
from pmc15m.corpus.duplicates import Injection, plan_duplicates
from pmc15m.corpus.features import ARTICLE_FEATURES, FEATURES, Chunk, Counters, FigureFactory
from pmc15m.corpus.imagefiles import KINDS
from pmc15m.corpus.model import PROCESSED, ArticlePlan, Extra, FigurePlan, GraphicPlan, GroupPlan
from pmc15m.corpus.naming import Naming, make_naming

ROLE_EXPECTED: dict[str, str] = {
    "versioned": PROCESSED,  # version 2; version 1 is superseded_version
    "not_oa": reasons.NOT_OPEN_ACCESS,
    "tdm": reasons.LICENSE_EXCLUDED,
    "retracted_flag": reasons.RETRACTED,
    "retracted_title": reasons.RETRACTED,
    "malformed": reasons.XML_UNPARSEABLE,
    "xxe": reasons.XML_UNPARSEABLE,
}
ARTICLES_PER_ROUND = 400
_LICENSES = (
    ("CC BY", 70),
    ("CC BY-NC", 9),
    ("CC BY-NC-ND", 7),
    ("CC BY-SA", 3),
    ("CC BY-NC-SA", 2),
    ("CC BY-ND", 1),
    ("CC0", 8),
)
_SECTIONS = ("Introduction", "Materials and Methods", "Results", "Discussion")
_SUPPLEMENT_EXTS = ("xlsx", "docx", "pdf", "zip")


def plan_corpus(
    seed: int,
    n_articles: int,
    figures_per_article: tuple[int, int],
    inventory_date: datetime,
    figure_scale: float = 1.0,
) -> list[ArticlePlan]:
    """Every article version of the corpus, in PMCID order, fully decided.

    ``figure_scale`` multiplies the typical figure's size and nothing else: the random
    stream, and so every other decision, is the same at any scale.
    """
    rng = random.Random(seed)
    counters = Counters(seed_base=seed * 1_000_000_000)
    roles, features, normal = _assign(rng, n_articles)
    injections = plan_duplicates(rng, counters, normal, rounds=max(1, n_articles // ARTICLES_PER_ROUND))
    number = 10_000_000 + rng.randrange(0, 80_000_000 - 8 * n_articles)
    plans: list[ArticlePlan] = []
    for index in range(n_articles):
        number += rng.randint(1, 7)
        role = roles.get(index, "normal")
        article = _plan_article(
            rng,
            counters,
            f"PMC{number}",
            role,
            features.get(index, []),
            injections.get(index, []),
            figures_per_article,
            figure_scale,
        )
        article.pmid = 30_000_000 + index * 13 + rng.randint(0, 12)
        _set_dates(rng, article, inventory_date)
        if role == "versioned":
            plans.append(_older_version(article, counters))
        plans.append(article)
    return plans


def _assign(rng: random.Random, n: int) -> tuple[dict[int, str], dict[int, list[str]], list[int]]:
    """Which article plays which role, and which ordinary articles carry which features."""
    roles: dict[int, str] = {}
    features: dict[int, list[str]] = {}
    # A corpus too small for every role gets none: its articles all carry features.
    role_rounds = 0 if n < len(ROLE_EXPECTED) + 3 else max(1, n // ARTICLES_PER_ROUND)
    for _ in range(role_rounds):
        free = [i for i in range(n) if i not in roles]
        for role, index in zip(ROLE_EXPECTED, rng.sample(free, len(ROLE_EXPECTED)), strict=True):
            roles[index] = role
    normal = [i for i in range(n) if i not in roles]
    for _ in range(max(1, n // ARTICLES_PER_ROUND)):
        for name in (*FEATURES, *ARTICLE_FEATURES):
            features.setdefault(rng.choice(normal), []).append(name)
        # Every license code at least once, each on its own article so none overrides another.
        rare = [f"license:{code}" for code, _ in _LICENSES[1:]]
        for index, name in zip(rng.sample(normal, min(len(rare), len(normal))), rare, strict=False):
            features.setdefault(index, []).append(name)
    return roles, features, normal


def _plan_article(
    rng: random.Random,
    counters: Counters,
    pmcid: str,
    role: str,
    features: list[str],
    injections: list[Injection],
    figures_per_article: tuple[int, int],
    figure_scale: float = 1.0,
) -> ArticlePlan:
    """One article: metadata, figures (plain, featured, duplicates) placed and named."""
    article = _new_article(rng, pmcid, role)
    for name in features:
        if name.startswith("license:"):
            article.license_code = name.removeprefix("license:")
    naming = make_naming(rng, article.year)
    article.doi, article.journal, article.style = naming.doi, naming.journal, naming.style
    factory = FigureFactory(rng, counters, article.n_refs, figure_scale)
    chunks: list[Chunk] = [[factory.figure()] for _ in range(rng.randint(*figures_per_article))]
    for name in features:
        if name in FEATURES:
            chunk, where = FEATURES[name](factory)
            if where == "appendix":
                article.appendix.extend(chunk)
            else:
                chunks.append(chunk)
    chunks.extend(factory.single(spec, tag) for tag, spec in injections)
    rng.shuffle(chunks)
    _place(rng, article, chunks, floats="floats" in features)
    _name_figures(article, naming)
    article.extras = _extras(rng, factory, naming, features)
    article.number_figures()
    return article


def _new_article(rng: random.Random, pmcid: str, role: str) -> ArticlePlan:
    """The article's metadata facts; a role decides the flags that make it excluded."""
    names, weights = zip(*_LICENSES, strict=True)
    title = prose.title(rng)
    if role == "retracted_title":
        title = f"RETRACTED ARTICLE: {title}"
    return ArticlePlan(
        pmcid=pmcid,
        version=2 if role == "versioned" else 1,
        expected=ROLE_EXPECTED.get(role, PROCESSED),
        role=role,
        pmid=0,
        doi="",
        title=title,
        journal="",
        style="",
        year=rng.randint(2012, 2025),
        license_code="TDM" if role == "tdm" else rng.choices(names, weights)[0],
        is_oa=role != "not_oa",
        is_manuscript=role == "tdm",
        is_retracted=role == "retracted_flag",
        has_pdf=role != "tdm" and rng.random() < 0.8,
        bad_xml={"malformed": rng.choice(("mismatched", "truncated")), "xxe": "xxe"}.get(role, ""),
        n_refs=rng.randint(5, 30),
        text_seed=rng.getrandbits(32),
    )


def _place(rng: random.Random, article: ArticlePlan, chunks: list[Chunk], *, floats: bool) -> None:
    """Put chunks into sections in order (or all into the floats-group)."""
    if floats:
        article.floats = [item for chunk in chunks for item in chunk]
        article.sections = [(title, []) for title in _SECTIONS]
        return
    slots = sorted(rng.choice((0, 2, 2, 2, 2, 3)) for _ in chunks)
    sections: list[list] = [[] for _ in _SECTIONS]
    for slot, chunk in zip(slots, chunks, strict=True):
        sections[slot].extend(chunk)
    article.sections = list(zip(_SECTIONS, sections, strict=True))


def _name_figures(article: ArticlePlan, naming: Naming) -> None:
    """Ids, labels, hrefs and file names, numbered in document order as publishers do."""
    graphic_no = 0
    for fig_no, item in enumerate(article.items(), start=1):
        label = naming.label(fig_no)
        if isinstance(item, GroupPlan) and item.translations:  # the one figure takes the group's id
            item.group_id = naming.fig_id(fig_no)
            for translation in item.translations:
                translation.label = f"Figura {fig_no}"
            for child in item.figures:
                _set_id(child, item.group_id, label)
                graphic_no = _name_graphics(child, naming, graphic_no)
        elif isinstance(item, GroupPlan):
            item.group_id, item.label = naming.fig_id(fig_no), label
            for letter, child in zip("ABCDEFGH", item.figures, strict=False):
                _set_id(child, f"{item.group_id}{letter}", f"{label}{letter}")
                graphic_no = _name_graphics(child, naming, graphic_no)
        else:
            _set_id(item, naming.fig_id(fig_no), label)
            graphic_no = _name_graphics(item, naming, graphic_no)


def _set_id(fig: FigurePlan, fig_id: str, label: str) -> None:
    if fig.fig_id is not None:  # None marks the planted id-less figure
        fig.fig_id = fig_id
    fig.label = label


def _name_graphics(fig: FigurePlan, naming: Naming, graphic_no: int) -> int:
    for i, graphic in enumerate(fig.graphics):
        if i == 0 or not fig.alternatives:  # alternatives share one stem, told apart by extension
            graphic_no += 1
        stem = naming.stem("g", graphic_no)
        assert graphic.image is not None
        filename = f"{stem}.{KINDS[graphic.image.kind].ext}"
        show_ext = graphic.show_ext or fig.alternatives
        graphic.filename = filename if graphic.present else None
        graphic.href = filename if show_ext else stem
        if graphic.url:  # the file's name is the URL's last path segment
            graphic.href = f"https://minio.scielo.br/documentstore/{naming.base}/{filename}?download=1"
    return graphic_no


def _extras(rng: random.Random, factory: FigureFactory, naming: Naming, features: list[str]) -> list[Extra]:
    """Graphics that are not figures (tables, formulas, inline) and supplementary files."""
    extras: list[Extra] = []
    sizes = {"table": (700, 300), "formula": (400, 60), "inline": (40, 20)}
    letters = {"table": "t", "formula": "e", "inline": "i"}
    for role, kind, chance in (("table", "jpeg", 0.4), ("formula", "gif", 0.25), ("inline", "gif", 0.25)):
        count = rng.randint(1, 2) if f"extra:{role}" in features or rng.random() < chance else 0
        for n in range(1, count + 1):
            stem = naming.stem(letters[role], n)
            spec = factory.spec(kind, sizes[role])
            extras.append(Extra(role, f"{stem}.{'jpg' if kind == 'jpeg' else kind}", stem, spec))
    count = rng.randint(1, 2) if "extra:supplement" in features or rng.random() < 0.5 else 0
    for n in range(1, count + 1):
        name = f"{naming.stem('s', n)}.{rng.choice(_SUPPLEMENT_EXTS)}"
        extras.append(Extra("supplement", name, name, None))
    return extras


def _set_dates(rng: random.Random, article: ArticlePlan, inventory_date: datetime) -> None:
    start = inventory_date - timedelta(days=500)
    moment = start + timedelta(seconds=rng.randrange(0, 496 * 86_400))
    article.last_modified = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _older_version(article: ArticlePlan, counters: Counters) -> ArticlePlan:
    """Version 1 of a two-version PMCID: the same article, one figure's image different."""
    old = copy.deepcopy(article)
    old.version, old.expected = 1, reasons.SUPERSEDED_VERSION
    newer = datetime.strptime(article.last_modified, "%Y-%m-%dT%H:%M:%S.000Z")
    old.last_modified = (newer - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for fig in [*old.figures(), *old.translations()]:  # markers stay unique corpus-wide, across versions too
        if fig.marker and fig.caption is not None:
            fresh = counters.marker()
            fig.caption, fig.marker = fig.caption.replace(fig.marker, fresh), fresh
    changed: GraphicPlan = next(g for f in old.figures() for g in f.graphics if g.image is not None)
    assert changed.image is not None
    changed.image = dataclasses.replace(changed.image, seed=counters.image_seed())
    return old
