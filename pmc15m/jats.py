"""JATS article -> metadata + one ``Figure`` per figure image: the parser's public API.

``parse_article``, ``ParseConfig``, ``JatsError`` and ``measure_subcaption_split`` are
imported from here by the stages and pipelines; the work is split by concern:
:mod:`pmc15m.jats_xml` (secure loading: no entities, no DTD, no network, size limits,
strict parsing with no recover mode, and why), :mod:`pmc15m.jats_meta` (article fields),
:mod:`pmc15m.captions` / :mod:`pmc15m.mathml` (caption text and formulas),
:mod:`pmc15m.panels` (panel sub-captions) and :mod:`pmc15m.mentions` (body sentences).

Figures. Every ``<fig>`` counts wherever it stands (body, floats-group, appendices,
sub-articles, inside a ``<fig-group>``), except a fig inside supplementary material (a
file, not an image of the article); graphics of formulas, tables, inline images and
supplementary material inside a fig are not its image. A fig with several images yields
one ``Figure`` per image (key suffix ``_g<n>``) sharing the caption, an ``<alternatives>``
block being one image; a fig with none yields one ``Figure`` with an empty ``graphic`` so
that it is rejected with a reason instead of disappearing; a fig without an ``id`` gets
the synthetic id ``fig-auto-<n>`` (its position among the article's figs, so a re-parse
gives the same key). A fig's caption is only ever its own ``<caption>``: a fig without
one gets "" and is later rejected as ``no_caption``, never given a neighbour's text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from pmc15m.captions import caption_parts, render_text, strip_label_copy
from pmc15m.config import ParseConfig
from pmc15m.jats_meta import article_metadata
from pmc15m.jats_xml import JatsError, href, load_article_root, unparseable
from pmc15m.mentions import collect_mentions
from pmc15m.panels import SplitStats, split_rate, split_subcaptions
from pmc15m.record import Figure, ParsedArticle, figure_key_part, sanitize_key_part

__all__ = [
    "JatsError",
    "ParseConfig",
    "find_figures",
    "load_article_root",
    "measure_subcaption_split",
    "parse_article",
]


DEFAULT_PARSE = ParseConfig()


def parse_article(data: bytes, config: ParseConfig = DEFAULT_PARSE) -> ParsedArticle:
    """Metadata and figures of one JATS article; ``JatsError`` when it cannot be read safely."""
    article = load_article_root(data, config.max_bytes)
    try:
        parsed = article_metadata(article)
        parsed.figures = find_figures(article, config)
    except RecursionError as exc:  # text rendering recurses; the parser caps depth at 256
        raise unparseable("markup nested too deeply to render") from exc
    return parsed


def measure_subcaption_split(paths: Iterable[str | Path]) -> SplitStats:
    """Sub-caption split rate over every ``<fig>`` of the JATS files at ``paths`` (benchmarks).

    Counts each fig once (not once per graphic), using its own caption text.
    """
    captions: list[str] = []
    config = ParseConfig(extract_mentions=False)
    for path in paths:
        seen: dict[str, str] = {}
        for figure in parse_article(Path(path).read_bytes(), config).figures:
            seen.setdefault(figure.fig_id, figure.caption)
        captions.extend(seen.values())
    return split_rate(captions)


# --- figures -------------------------------------------------------------------------------

# Subtrees of a <fig> whose graphics are not the figure's image.
_NOT_FIGURE_IMAGE = frozenset(
    {
        "caption", "label", "disp-formula", "inline-formula", "table-wrap", "supplementary-material",
        "fig", "fig-group", "chem-struct-wrap", "inline-graphic", "permissions", "attrib",
    }
)  # fmt: skip
# Checked in this order, so a sub-article's own back matter still counts as "sub-article".
_LOCATIONS = (
    ("sub-article", "sub-article"),
    ("response", "sub-article"),
    ("floats-group", "floats"),
    ("floats-wrap", "floats"),
    ("back", "back"),
)

Image = tuple[str, tuple[str, ...]]  # (href, alternative hrefs of the same image)


def find_figures(article: etree._Element, config: ParseConfig = DEFAULT_PARSE) -> list[Figure]:
    """One ``Figure`` per image of every ``<fig>``, in document order (see module doc)."""
    figs = [fig for fig in article.iter("fig") if not _in_supplement(fig)]
    mentions = collect_mentions(article, figs) if config.extract_mentions else {}
    used: set[str] = set()
    out: list[Figure] = []
    for n, fig in enumerate(figs, start=1):
        fig_id = (fig.get("id") or "").strip() or f"fig-auto-{n}"
        images = _images(fig) or [("", ())]
        keys = _allocate_keys(sanitize_key_part(fig_id), len(images), used)
        base = _base_figure(fig, fig_id, config, mentions.get(fig, []))
        for key, (graphic, alternatives) in zip(keys, images, strict=True):
            out.append(_with_image(base, key, graphic, alternatives))
    return out


def _in_supplement(fig: etree._Element) -> bool:
    return any(a.tag == "supplementary-material" for a in fig.iterancestors())


def _base_figure(fig: etree._Element, fig_id: str, config: ParseConfig, mentions: list[str]) -> Figure:
    """Everything but the image: text, location and mentions, shared by the fig's images.

    Sub-captions are split from the fig's own caption, whatever the config prepends to it.
    """
    label = render_text(fig.find("label"))
    title, own = caption_parts(fig.find("caption"))
    title, own = strip_label_copy(title, label), strip_label_copy(own, label)
    group = next(fig.iterancestors("fig-group"), None)
    group_caption = caption_parts(group.find("caption"))[1] if group is not None else ""
    text = own
    if config.prepend_group_caption and group_caption:
        text = f"{group_caption} {text}".strip()
    if config.include_label and label:
        text = f"{label} {text}".strip()
    return Figure(
        fig_id=fig_id,
        fig_key="",
        label=label,
        caption=text,
        caption_title=title,
        group_caption=group_caption,
        location=_location(fig),
        subcaptions=split_subcaptions(own),
        mentions=list(mentions),
    )


def _with_image(base: Figure, key: str, graphic: str, alternatives: tuple[str, ...]) -> Figure:
    """A copy of ``base`` for one image; lists are copied so figures never share them."""
    return dataclasses.replace(
        base,
        fig_key=key,
        graphic=graphic,
        alternatives=alternatives,
        subcaptions=list(base.subcaptions),
        mentions=list(base.mentions),
    )


def _allocate_keys(base: str, n: int, used: set[str]) -> list[str]:
    """Key parts for the fig's ``n`` images, unique in the article (``-2``, ``-3`` on collision)."""
    suffix = 1
    while True:
        stem = base if suffix == 1 else f"{base}-{suffix}"
        keys = [figure_key_part(stem, i, n) for i in range(1, n + 1)]
        if used.isdisjoint(keys):
            used.update(keys)
            return keys
        suffix += 1


def _location(fig: etree._Element) -> str:
    ancestors = {a.tag for a in fig.iterancestors()}
    for tag, location in _LOCATIONS:
        if tag in ancestors:
            return location
    return "body"


def _images(fig: etree._Element) -> list[Image]:
    """``(href, alternative hrefs)`` per image; an ``<alternatives>`` block is one image."""
    images: list[Image] = []
    for graphic, alternatives in _graphics(fig):
        if alternatives is None:
            images.append((href(graphic), ()))
            continue
        hrefs = list(dict.fromkeys(href(g) for g, _ in _graphics(alternatives)))
        if hrefs:
            images.append((hrefs[0], tuple(h for h in hrefs[1:] if h)))
    return images


def _graphics(el: etree._Element) -> list[tuple[etree._Element, etree._Element | None]]:
    """Graphics under ``el`` outside excluded subtrees; an ``<alternatives>`` stands for its own."""
    found: list[tuple[etree._Element, etree._Element | None]] = []
    for child in el.iterchildren(etree.Element):
        if child.tag in _NOT_FIGURE_IMAGE:
            continue
        if child.tag == "graphic":
            found.append((child, None))
        elif child.tag == "alternatives" and el.tag != "alternatives":
            found.append((child, child))
        else:
            found.extend(_graphics(child))
    return found
