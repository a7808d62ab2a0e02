"""The plan of a synthetic corpus: plain picklable records, decided before any byte is written.

Planning everything up front (ids, captions, image seeds and kinds) in one process with
one ``random.Random`` makes the corpus a pure function of the seed, and lets worker
processes render and write articles in any order without changing a single byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

PROCESSED = "processed"
KEPT = "kept"


@dataclass(slots=True, frozen=True)
class ImageSpec:
    """How to make one image file: render, optionally alter, then encode as ``kind``.

    ``near_seed`` applies ``near_duplicate``; ``reencode_from`` first encodes and decodes
    the picture in that kind, so two files can hold the same pixels in different formats.
    """

    kind: str
    width: int
    height: int
    seed: int
    near_seed: int | None = None
    reencode_from: str | None = None


@dataclass(slots=True)
class GraphicPlan:
    """One ``<graphic>``: its image, and (once named) its href and media file name.

    ``present`` False plants a graphic whose file exists nowhere (graphic_not_found);
    ``show_ext`` writes the extension into the href, as a minority of publishers do;
    ``url`` writes the href as an absolute URL ending in the file name, as SciELO does.
    """

    image: ImageSpec | None
    present: bool = True
    show_ext: bool = False
    url: bool = False
    href: str = ""
    filename: str | None = None


@dataclass(slots=True)
class FigurePlan:
    """One ``<fig>``. ``caption`` is the inner XML of ``<caption>``, None for no caption."""

    fig_id: str | None
    label: str
    caption: str | None
    marker: str
    graphics: list[GraphicPlan] = field(default_factory=list)
    alternatives: bool = False  # graphics are <alternatives> of one image: one sample
    blank_first: bool = False  # an <alternatives> that opens with an empty href (SciELO)
    short_caption: bool = False
    auto_index: int = 0  # 1-based position among all <fig> of the article (document order)
    tags: tuple[str, ...] = ()  # the special cases this figure stands for

    @property
    def key_id(self) -> str:
        """The id a parser reports: the @id, or ``fig-auto-<n>`` when the fig has none."""
        return self.fig_id if self.fig_id is not None else f"fig-auto-{self.auto_index}"

    def samples(self) -> list[GraphicPlan | None]:
        """One entry per expected sample: alternatives are one, separate graphics each one."""
        if not self.graphics:
            return [None]
        return [self.graphics[0]] if self.alternatives else list(self.graphics)


@dataclass(slots=True)
class Translation:
    """A ``<fig xml:lang=...>`` that only translates its group's figure: it is no sample."""

    lang: str
    caption: str  # inner XML of its <caption>
    marker: str  # unique like a figure's, so a build can show where this text went
    label: str = ""


@dataclass(slots=True)
class GroupPlan:
    """A ``<fig-group>`` with its own label and caption around child figures.

    With ``translations`` it is a bilingual group as SciELO writes one: the translations'
    figs, then its one figure (English, no id: the group's id is the sample's), then that
    figure's graphics at group level, outside every fig; no group label or caption.
    """

    group_id: str
    label: str
    caption: str
    figures: list[FigurePlan]
    translations: list[Translation] = field(default_factory=list)


Item = FigurePlan | GroupPlan


@dataclass(slots=True)
class Extra:
    """A file that is not a figure: table, formula and inline graphics, supplements."""

    role: str  # table | formula | inline | supplement
    filename: str
    href: str
    image: ImageSpec | None  # None for supplementary (non-image) files


@dataclass(slots=True)
class ArticlePlan:
    """One article version: its metadata, its JATS structure and its files."""

    pmcid: str
    version: int
    expected: str  # "processed" or an article-level reason
    role: str
    pmid: int
    doi: str
    title: str
    journal: str
    style: str  # publisher naming style, see pmc15m.corpus.naming
    year: int
    license_code: str
    is_oa: bool = True
    is_manuscript: bool = False
    is_retracted: bool = False
    has_pdf: bool = True
    bad_xml: str = ""  # "" | "mismatched" | "truncated" | "xxe"
    last_modified: str = ""
    n_refs: int = 8
    text_seed: int = 0
    sections: list[tuple[str, list[Item]]] = field(default_factory=list)
    appendix: list[Item] = field(default_factory=list)
    floats: list[Item] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{self.pmcid}.{self.version}/"

    def items(self) -> Iterator[Item]:
        """Every figure item in document order: body sections, back matter, floats-group."""
        for _, items in self.sections:
            yield from items
        yield from self.appendix
        yield from self.floats

    def figures(self) -> Iterator[FigurePlan]:
        """Every ``<fig>`` in document order, fig-group children included."""
        for item in self.items():
            if isinstance(item, GroupPlan):
                yield from item.figures
            else:
                yield item

    def translations(self) -> Iterator[Translation]:
        """Every translation fig of a bilingual group, in document order."""
        for item in self.items():
            if isinstance(item, GroupPlan):
                yield from item.translations

    def number_figures(self) -> None:
        """Set each figure's ``auto_index`` (the parser's ``fig-auto-<n>`` numbering).

        A translation is a ``<fig>`` too, written before its group's figure: it takes a number.
        """
        n = 0
        for item in self.items():
            n += len(item.translations) if isinstance(item, GroupPlan) else 0
            for fig in item.figures if isinstance(item, GroupPlan) else [item]:
                n += 1
                fig.auto_index = n
