"""The expected outcome of every planted article and figure under the default BuildConfig.

The rules mirror the pipeline's order of checks (article gate, then figure structure,
caption, graphic lookup, image decoding, then size and shape on the source image), so a
build over the corpus can be compared with ``ground-truth.json`` reason by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from pmc15m.core import reasons
from pmc15m.core.config import FilterConfig
from pmc15m.core.record import figure_key_part, make_key
from pmc15m.corpus.bucket_writer import ArticleResult
from pmc15m.corpus.duplicates import duplicate_groups
from pmc15m.corpus.imagefiles import KINDS
from pmc15m.corpus.model import KEPT, PROCESSED, ArticlePlan, FigurePlan, GraphicPlan, GroupPlan, Item

OK = "ok"


def figure_expected(
    article: ArticlePlan, fig: FigurePlan, graphic: GraphicPlan | None, dims: tuple[int, int] | None
) -> str:
    """``kept`` or the first reason the default configuration drops this sample for."""
    if article.expected != PROCESSED:
        return article.expected
    if graphic is None:
        return reasons.NO_GRAPHIC
    if fig.caption is None:
        return reasons.NO_CAPTION
    if fig.short_caption:
        return reasons.CAPTION_TOO_SHORT
    if graphic.filename is None or graphic.image is None:
        return reasons.GRAPHIC_NOT_FOUND
    kind_expected = KINDS[graphic.image.kind].expected
    if kind_expected != OK:
        return kind_expected
    limits = FilterConfig()
    assert dims is not None, graphic.filename
    short, long = min(dims), max(dims)
    if short < limits.min_image_side:
        return reasons.IMAGE_TOO_SMALL
    if long / short > limits.max_aspect_ratio:
        return reasons.ASPECT_RATIO
    return KEPT


def _located(article: ArticlePlan) -> Iterator[tuple[FigurePlan, str]]:
    """Figures in document order with where they sit (body, back, floats)."""
    places: list[tuple[list[Item], str]] = [(items, "body") for _, items in article.sections]
    places += [(article.appendix, "back"), (article.floats, "floats")]
    for items, location in places:
        for item in items:
            for fig in item.figures if isinstance(item, GroupPlan) else [item]:
                yield fig, location


def figure_entries(
    article: ArticlePlan, result: ArticleResult
) -> Iterator[tuple[FigurePlan, dict[str, Any]]]:
    """One ground-truth row per expected sample of the article."""
    for fig, location in _located(article):
        samples = fig.samples()
        for index, graphic in enumerate(samples, start=1):
            key = make_key(article.pmcid, article.version, figure_key_part(fig.key_id, index, len(samples)))
            present = graphic is not None and graphic.filename is not None
            dims = result.dims.get(graphic.filename) if present and graphic and graphic.filename else None
            yield (
                fig,
                {
                    "key": key,
                    "pmcid": article.pmcid,
                    "version": article.version,
                    "fig_id": fig.key_id,
                    "label": fig.label,
                    "location": location,
                    "graphic": graphic.href if graphic else "",
                    "media_key": f"{article.prefix}{graphic.filename}" if present and graphic else "",
                    "image_kind": graphic.image.kind if graphic and graphic.image else "",
                    "width": dims[0] if dims else None,
                    "height": dims[1] if dims else None,
                    "expected": figure_expected(article, fig, graphic, dims),
                    "caption_marker": fig.marker,
                    "tags": list(fig.tags),
                },
            )


def build_ground_truth(plans: list[ArticlePlan], results: list[ArticleResult]) -> dict[str, Any]:
    """The ``ground-truth.json`` document: articles, figures, duplicate groups, counts."""
    articles, figures, tagged = [], [], []
    for plan, result in zip(plans, results, strict=True):
        articles.append(
            {
                "pmcid": plan.pmcid,
                "version": plan.version,
                "expected": plan.expected,
                "role": plan.role,
                "license_code": plan.license_code,
                "metadata_key": result.metadata_key,
                "etag": result.etag,
            }
        )
        for fig, entry in figure_entries(plan, result):
            figures.append(entry)
            tagged.append((fig, entry["key"]))
    kept = {f["key"] for f in figures if f["expected"] == KEPT}
    return {
        "articles": articles,
        "figures": figures,
        "duplicates": duplicate_groups(tagged, kept),
        "counts": {
            "article_versions": len(articles),
            "articles_by_expected": dict(sorted(Counter(a["expected"] for a in articles).items())),
            "figures": len(figures),
            "figures_by_expected": dict(sorted(Counter(f["expected"] for f in figures).items())),
        },
    }
