"""JATS article -> metadata + one ``Figure`` per figure image: the parser's public API.

``parse_article``, ``ParseConfig``, ``JatsError`` and ``measure_subcaption_split`` are
imported from here by the stages and pipelines; the work is split by concern:
:mod:`pmc15m.jats.secure` (secure loading: no entities, no DTD, no network, size limits,
strict parsing with no recover mode, and why), :mod:`pmc15m.jats.front` (article fields),
:mod:`pmc15m.jats.captions` / :mod:`pmc15m.jats.mathml` (caption text and formulas),
:mod:`pmc15m.jats.panels` (panel sub-captions) and :mod:`pmc15m.jats.mentions` (body sentences).

Figures. Every ``<fig>`` counts wherever it stands (body, floats-group, appendices,
sub-articles, inside a ``<fig-group>``), except a fig inside supplementary material (a
file, not an image of the article); graphics of formulas, tables, inline images and
supplementary material inside a fig are not its image. A fig with several images yields
one ``Figure`` per image (key suffix ``_g<n>``) sharing the caption, an ``<alternatives>``
block being one image whose non-empty hrefs are its renditions (an empty href names
nothing; SciELO writes one first); a fig with none yields one ``Figure`` with an empty
``graphic`` so that it is rejected with a reason instead of disappearing; a fig without an
``id`` gets the synthetic id ``fig-auto-<n>`` (its position among the article's figs, so a
re-parse gives the same key). A fig's caption is only ever its own ``<caption>``: a fig
without one gets "" and is later rejected as ``no_caption``, never given a neighbour's text.

Shared group images. A ``<fig-group>`` may hold the image itself, outside its figs, which
then have none (SciELO: one ``<fig>`` per language around one graphic). Its image-less figs
make ONE figure per group image, counted once: never one image-less figure per fig. Its id
is the group's (what the text's xrefs cite), else the chosen fig's, else ``fig-auto-<n>``
of that fig. When those figs' languages (``xml:lang``, inherited from the group or the
article when a fig has none) differ, they are translations: the caption is the English
fig's (``en``, ``en-US``...), else the one in the article's language, else the first, and
the others go to ``caption_translations``. When they do not differ (one language, or none
declared) they are taken as parts of one composite image: the caption is the first fig's
followed by each further fig's label and caption. A fig of the group that has its own image
keeps it and is a figure of its own, as in every other fig-group.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from pmc15m.core.config import ParseConfig
from pmc15m.core.record import CaptionTranslation, Figure, ParsedArticle, figure_key_part, sanitize_key_part
from pmc15m.jats.captions import caption_parts, render_text
from pmc15m.jats.front import article_metadata
from pmc15m.jats.mentions import collect_mentions
from pmc15m.jats.panels import SplitStats, split_rate, split_subcaptions, strip_label_copy
from pmc15m.jats.secure import JatsError, href, load_article, load_article_root, unparseable
from pmc15m.sources.metadata import rendition_rank

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
    article, found = load_article(data, config.max_bytes, collect=("fig", "xref"))
    try:
        parsed = article_metadata(article)
        parsed.figures = _figures(article, config, found["fig"], found["xref"])
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
    return _figures(article, config, list(article.iter("fig")), None)


def _figures(
    article: etree._Element,
    config: ParseConfig,
    all_figs: list[etree._Element],
    xrefs: list[etree._Element] | None,
) -> list[Figure]:
    """``find_figures`` given the article's figs (and xrefs, when known) in document order:
    ``parse_article`` has them from the walk that loaded the tree."""
    figs = [fig for fig in all_figs if not _in_supplement(fig)]
    mentions = collect_mentions(article, figs, xrefs) if config.extract_mentions else {}
    position = {fig: n for n, fig in enumerate(figs, start=1)}
    shared = _shared_image_groups(figs)
    used: set[str] = set()
    out: list[Figure] = []
    for fig in figs:
        group = shared.get(fig)
        if group is None:
            fig_id = (fig.get("id") or "").strip() or f"fig-auto-{position[fig]}"
            base = _base_figure(fig, fig_id, config, mentions.get(fig, []))
            images = _images(fig) or [("", ())]
        elif fig is group.members[0]:
            base = _group_figure(group, _lang(article), position, config, mentions)
            images = group.images
        else:
            continue  # a member of a group already written: its caption is in the group's figure
        keys = _allocate_keys(sanitize_key_part(base.fig_id), len(images), used)
        for n, (key, (graphic, alternatives)) in enumerate(zip(keys, images, strict=True), start=1):
            out.append(_with_image(base, key, graphic, alternatives, last=n == len(images)))
    return out


def _in_supplement(fig: etree._Element) -> bool:
    return any(a.tag == "supplementary-material" for a in fig.iterancestors())


def _caption_pieces(fig: etree._Element) -> tuple[str, str, str]:
    """``(label, title, caption)`` of a fig's own label and caption, the label's copy removed."""
    label = render_text(fig.find("label"))
    title, own = caption_parts(fig.find("caption"))
    return label, strip_label_copy(title, label), strip_label_copy(own, label)


def _base_figure(
    fig: etree._Element, fig_id: str, config: ParseConfig, mentions: list[str], own: str | None = None
) -> Figure:
    """Everything but the image: text, location and mentions, shared by the fig's images.

    Sub-captions are split from the fig's own caption (``own`` when the caller joined
    several), whatever the config prepends to it.
    """
    label, title, fig_own = _caption_pieces(fig)
    own = fig_own if own is None else own
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


def _with_image(
    base: Figure, key: str, graphic: str, alternatives: tuple[str, ...], last: bool = False
) -> Figure:
    """A copy of ``base`` for one image; lists are copied so figures never share them.

    The fig's last image takes ``base`` itself (its lists are its own), sparing the copy
    for the common fig with a single image.
    """
    if last:
        base.fig_key, base.graphic, base.alternatives = key, graphic, alternatives
        return base
    return dataclasses.replace(
        base,
        fig_key=key,
        graphic=graphic,
        alternatives=alternatives,
        subcaptions=list(base.subcaptions),
        caption_translations=list(base.caption_translations),
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


def _images(el: etree._Element) -> list[Image]:
    """``(href, alternative hrefs)`` per image; an ``<alternatives>`` block is one image.

    An empty href names no file, so it is no rendition: a graphic without one is skipped, and
    an image's renditions are its non-empty hrefs, those the decoder can use first
    (``metadata.rendition_rank``: the JPEG before a PDF), in document order otherwise.
    """
    images: list[Image] = []
    for graphic, alternatives in _graphics(el):
        members = [graphic] if alternatives is None else [g for g, _ in _graphics(alternatives)]
        hrefs = sorted((h for h in dict.fromkeys(href(g) for g in members) if h), key=rendition_rank)
        if hrefs:
            images.append((hrefs[0], tuple(hrefs[1:])))
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


# --- fig-groups whose figs share the group's image ---------------------------------------

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(slots=True)
class _SharedGroup:
    """A ``<fig-group>`` whose own image belongs to its image-less figs (``members``)."""

    element: etree._Element
    members: list[etree._Element]
    images: list[Image]


def _shared_image_groups(figs: list[etree._Element]) -> dict[etree._Element, _SharedGroup]:
    """Each image-less fig whose parent ``<fig-group>`` holds a graphic outside its figs."""
    groups = dict.fromkeys(p for f in figs if (p := f.getparent()) is not None and p.tag == "fig-group")
    counted = set(figs)
    shared: dict[etree._Element, _SharedGroup] = {}
    for element in groups:
        images = _images(element)
        members = [f for f in element.iterchildren("fig") if f in counted and not _images(f)]
        if images and members:
            group = _SharedGroup(element, members, images)
            shared.update(dict.fromkeys(members, group))
    return shared


def _lang(el: etree._Element) -> str:
    """The element's language: its own ``xml:lang`` or the nearest ancestor's, lower case."""
    for node in (el, *el.iterancestors()):
        value = (node.get(_XML_LANG) or "").strip()
        if value:
            return value.lower().replace("_", "-")
    return ""


def _group_figure(
    group: _SharedGroup,
    article_lang: str,
    position: dict[etree._Element, int],
    config: ParseConfig,
    mentions: dict[etree._Element, list[str]],
) -> Figure:
    """The one figure of a group's shared image (module doc: translations, or parts joined)."""
    langs = [_lang(fig) for fig in group.members]
    translated = len(set(langs)) > 1
    primary = _primary(group.members, langs, article_lang) if translated else group.members[0]
    fig_id = (
        (group.element.get("id") or "").strip()
        or (primary.get("id") or "").strip()
        or f"fig-auto-{position[primary]}"
    )
    cited = list(dict.fromkeys(m for fig in group.members for m in mentions.get(fig, ())))
    if translated:
        base = _base_figure(primary, fig_id, config, cited)
        for fig, lang in zip(group.members, langs, strict=True):
            if fig is not primary:
                label, _, text = _caption_pieces(fig)
                base.caption_translations.append(CaptionTranslation(lang=lang, label=label, text=text))
        return base
    parts = [_caption_pieces(primary)[2]]
    for fig in group.members[1:]:  # "Figure 1B ..." after the first: the label tells the parts apart
        label, _, text = _caption_pieces(fig)
        parts.append(f"{label} {text}")
    return _base_figure(primary, fig_id, config, cited, own=" ".join(" ".join(parts).split()))


def _primary(members: list[etree._Element], langs: list[str], article_lang: str) -> etree._Element:
    """The caption that becomes the sample's: English, else the article's language, else the first."""
    for wanted in ("en", article_lang):
        for fig, lang in zip(members, langs, strict=True):
            if wanted and (lang == wanted or lang.startswith(f"{wanted}-")):
                return fig
    return members[0]
