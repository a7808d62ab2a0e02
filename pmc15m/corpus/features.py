"""The special cases a corpus plants: each feature builds the figure items that exercise one.

A feature is a name mapped to a builder returning a *chunk* (figures that must stay
adjacent, e.g. a caption-less figure right after a captioned one) and where it goes
(``body`` or ``appendix``). Every image kind in ``imagefiles.KINDS`` gets a feature, so
a new kind added there is planted in every corpus without touching this module.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from pmc15m.corpus import prose
from pmc15m.corpus.imagefiles import KINDS
from pmc15m.corpus.model import FigurePlan, GraphicPlan, GroupPlan, ImageSpec, Item, Translation

# Extensions the pipeline's href resolver tries for extension-less hrefs; other kinds must
# carry their extension in the href to be found at all.
RESOLVABLE_EXTS = frozenset({"jpg", "jpeg", "png", "gif", "tif", "tiff", "webp", "bmp"})
# Kinds drawn for ordinary figures (weights), most files in PMC are JPEG.
COMMON_KINDS = (("jpeg", 86), ("png", 6), ("gif", 4), ("tiff_lzw", 1), ("jpeg_progressive", 3))
# Special sizes: (kind, width, height); the expected outcome follows from FilterConfig defaults.
SIZE_CASES: dict[str, tuple[str, int, int]] = {
    "tiny": ("jpeg", 24, 24),  # image_too_small
    "huge": ("jpeg", 6000, 4500),  # kept: large but far below the pixel limit
    "wide": ("jpeg", 3000, 150),  # aspect_ratio 20
    "thin": ("png", 50, 800),  # both small and elongated: image_too_small wins (checked first)
    "edge_small": ("jpeg", 64, 96),  # exactly the minimum side: kept
    "edge_aspect": ("jpeg", 1000, 100),  # exactly the maximum ratio: kept
}
# Portuguese caption titles of the bilingual groups: enough function words that the
# English-only filter would drop the sample if a parser chose this caption over the English one.
_PORTUGUESE = (
    "Distribuição dos casos por região e por ano, com os valores médios de cada grupo.",
    "Comparação entre os grupos tratados e não tratados ao longo das doze semanas do estudo.",
    "Imagens representativas das lesões observadas na análise histológica dos tecidos.",
)
Chunk = list[Item]
Builder = Callable[["FigureFactory"], tuple[Chunk, str]]


@dataclass(slots=True)
class Counters:
    """Corpus-wide counters: unique image seeds and unique caption markers."""

    seed_base: int
    images: int = 0
    markers: int = 0

    def image_seed(self) -> int:
        self.images += 1
        return self.seed_base + self.images

    def marker(self) -> str:
        self.markers += 1
        return f"zqx{self.markers:07d}"


@dataclass(slots=True)
class FigureFactory:
    """Builds figures for one article from the shared random stream and counters."""

    rng: random.Random
    counters: Counters
    n_refs: int
    scale: float = 1.0  # multiplies the typical figure size (generate_corpus's figure_scale)

    def spec(self, kind: str | None = None, size: tuple[int, int] | None = None) -> ImageSpec:
        """An image of ``kind`` (else a common kind) at ``size`` (else a typical figure size)."""
        if kind is None:
            names, weights = zip(*COMMON_KINDS, strict=True)
            kind = self.rng.choices(names, weights)[0]
        if size is None:
            long_side = int(self.rng.triangular(300, 1600, 420) * self.scale)
            short_side = max(int(300 * self.scale), int(long_side / self.rng.uniform(1.0, 1.8)))
            size = (long_side, short_side) if self.rng.random() < 0.7 else (short_side, long_side)
        return ImageSpec(kind=kind, width=size[0], height=size[1], seed=self.counters.image_seed())

    def figure(
        self,
        graphics: list[GraphicPlan] | None = None,
        *,
        caption: str = "full",
        tags: tuple[str, ...] = (),
        math: bool = False,
        listing: bool = False,
    ) -> FigurePlan:
        """A figure; ``caption`` is full | short | none; one common-kind graphic by default."""
        if graphics is None:
            graphics = [GraphicPlan(self.spec(), show_ext=self.rng.random() < 0.05)]
        marker = "" if caption == "none" else self.counters.marker()
        if caption == "full":
            xml = prose.caption_xml(self.rng, marker, refs=self.n_refs, math=math, listing=listing)
        else:
            xml = prose.short_caption_xml(marker) if caption == "short" else None
        fig_id = None if "no_id" in tags else ""
        return FigurePlan(
            fig_id=fig_id,
            label="",
            caption=xml,
            marker=marker,
            graphics=graphics,
            short_caption=caption == "short",
            tags=tags,
        )

    def single(self, spec: ImageSpec, tag: str) -> Chunk:
        ext = KINDS[spec.kind].ext
        return [self.figure([GraphicPlan(spec, show_ext=ext not in RESOLVABLE_EXTS)], tags=(tag,))]


def _group(f: FigureFactory) -> tuple[Chunk, str]:
    children = [f.figure(tags=("fig_group",)) for _ in range(f.rng.randint(2, 3))]
    return [
        GroupPlan(group_id="", label="", caption=prose.group_caption_xml(f.rng), figures=children)
    ], "body"


def _alternatives(f: FigureFactory) -> tuple[Chunk, str]:
    spec = f.spec("tiff_lzw")
    jpeg = ImageSpec("jpeg", spec.width, spec.height, spec.seed)
    fig = f.figure([GraphicPlan(spec), GraphicPlan(jpeg)], tags=("alternatives",))
    fig.alternatives = True
    return [fig], "body"


def _blank_alternative(f: FigureFactory) -> tuple[Chunk, str]:
    """SciELO's ``<alternatives>``: an empty href first, then the image as an absolute URL."""
    fig = f.figure([GraphicPlan(f.spec(), url=True)], tags=("alternatives_blank_url",))
    fig.alternatives = fig.blank_first = True
    return [fig], "body"


def _bilingual_group(f: FigureFactory) -> tuple[Chunk, str]:
    """SciELO's bilingual figure: a Portuguese and an English ``<fig>`` around one group image."""
    scielo = f.rng.random() < 0.7  # else a bare graphic with a relative href
    english = f.figure([GraphicPlan(f.spec(), url=scielo)], tags=("bilingual_group",))
    english.alternatives = english.blank_first = scielo
    marker = f.counters.marker()
    portuguese = Translation(
        lang="pt",
        caption=f"<title>{f.rng.choice(_PORTUGUESE)}</title><p>Amostra {marker} da série.</p>",
        marker=marker,
    )
    return [GroupPlan("", "", "", figures=[english], translations=[portuguese])], "body"


def _no_caption(f: FigureFactory) -> tuple[Chunk, str]:
    # Right after a captioned figure: a parser must not hand it its neighbour's caption.
    return [f.figure(tags=("before_no_caption",)), f.figure(caption="none", tags=("no_caption",))], "body"


FEATURES: dict[str, Builder] = {
    "fig_group": _group,
    "alternatives": _alternatives,
    "alternatives_blank_url": _blank_alternative,
    "bilingual_group": _bilingual_group,
    "no_caption": _no_caption,
    "two_graphics": lambda f: (
        [f.figure([GraphicPlan(f.spec()), GraphicPlan(f.spec())], tags=("two_graphics",))],
        "body",
    ),
    "no_id": lambda f: ([f.figure(tags=("no_id",))], "body"),
    "no_graphic": lambda f: ([f.figure([], tags=("no_graphic",))], "body"),
    "short_caption": lambda f: ([f.figure(caption="short", tags=("short_caption",))], "body"),
    "graphic_missing": lambda f: (
        [f.figure([GraphicPlan(f.spec("jpeg"), present=False)], tags=("graphic_missing",))],
        "body",
    ),
    "math_caption": lambda f: ([f.figure(math=True, tags=("math_caption",))], "body"),
    "list_caption": lambda f: ([f.figure(listing=True, tags=("list_caption",))], "body"),
    "appendix": lambda f: ([f.figure(tags=("appendix",))], "appendix"),
}
for _name, (_kind, _w, _h) in SIZE_CASES.items():
    FEATURES[f"size:{_name}"] = lambda f, k=_kind, w=_w, h=_h, n=_name: (
        f.single(f.spec(k, (w, h)), f"size:{n}"),
        "body",
    )
for _kind in KINDS:
    if _kind != "jpeg":
        # Modest sizes keep the uncompressed kinds (BMP, TIFF) small on disk.
        FEATURES[f"kind:{_kind}"] = lambda f, k=_kind: (
            f.single(f.spec(k, (f.rng.randint(320, 640), f.rng.randint(240, 480))), f"kind:{k}"),
            "body",
        )
# Features built but kept out of the default corpora (a new feature redraws every corpus:
# each takes draws from the one random stream). Empty since the card declares its features
# (pmc15m.publish.card_features), which let SciELO's shapes in; tests/pipelines/test_jats_scielo_build.py
# still plants whatever is held back here.
HELD_BACK: dict[str, Builder] = {}
# Article-level features, handled by the planner rather than by a builder.
ARTICLE_FEATURES = ("floats", "extra:table", "extra:formula", "extra:inline", "extra:supplement")
