"""The report's plots as PNG bytes: static, small, and byte-identical for the same data.

matplotlib is used through ``Figure`` and the Agg canvas directly, never ``pyplot``, so
rendering a report changes no global backend of the process that asks for it. PNGs are
saved without the ``Software`` text chunk and with a fixed DPI: with the same matplotlib and
fonts, the same statistics give the same bytes, which the byte-identical rebuild needs.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pmc15m.publish.report_stats import Collected, IntHistogram

DPI = 96
ARTICLE_COLOUR = "#4c72b0"
FIGURE_COLOUR = "#dd8452"
NEUTRAL_COLOUR = "#55a868"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(width: float, height: float, panels: int = 1) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    return fig, list(axes)


def _barh(ax: Any, labels: list[str], values: list[int], colours: Any, title: str) -> None:
    """Horizontal bars, first label on top, each bar annotated with its value."""
    if not values:
        _empty(ax, title, "nothing to show")
        return
    positions = np.arange(len(values))[::-1]
    ax.barh(positions, values, color=colours)
    ax.set_yticks(positions, labels)
    ax.set_title(title, loc="left", fontsize=11)
    for y, v in zip(positions, values, strict=True):
        ax.annotate(f"{v:,}", (v, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(values) * 1.15 or 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)


def _empty(ax: Any, title: str, message: str) -> None:
    ax.set_title(title, loc="left", fontsize=11)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_axis_off()


def funnel(stats: dict[str, Any]) -> bytes:
    """Articles listed down to articles parsed; figures found, rejected and kept."""
    f = stats["funnel"]
    articles = [
        ("listed", f.get("articles_listed", 0)),
        ("newest version", f.get("articles_newest_version", 0)),
        ("passed metadata gate", f.get("articles_passing_gate", 0)),
        ("JATS parsed", f.get("articles_parsed", 0)),
    ]
    figures = [
        ("found", f.get("figures_found", 0)),
        ("rejected", f.get("figures_rejected", 0)),
        ("kept (in shards)", stats["samples"]),
    ]
    fig, (left, right) = _figure(10, 2.6, panels=2)
    _barh(left, [a[0] for a in articles], [a[1] for a in articles], ARTICLE_COLOUR, "Articles")
    colours = [FIGURE_COLOUR, "#c44e52", NEUTRAL_COLOUR]
    _barh(right, [x[0] for x in figures], [x[1] for x in figures], colours, "Figures")
    return _png(fig)


def drops(stats: dict[str, Any]) -> bytes:
    """Every rejection reason, article level then figure level, from ``rejects/``."""
    rows = [(f"{reason} (article)", n, ARTICLE_COLOUR) for reason, n in stats["rejects"]["article"].items()]
    rows += [(f"{reason} (figure)", n, FIGURE_COLOUR) for reason, n in stats["rejects"]["figure"].items()]
    fig, (ax,) = _figure(7.5, 0.8 + 0.28 * max(len(rows), 2))
    _barh(ax, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], "Drops by reason")
    return _png(fig)


def _stairs(ax: Any, hist: IntHistogram, edges: np.ndarray, title: str, xlabel: str) -> None:
    if not hist.n:
        _empty(ax, title, "no samples")
        return
    edges = np.unique(np.clip(edges.astype(np.int64), 0, hist.cap + 1))
    counts = np.add.reduceat(hist.counts, edges[:-1]) if len(edges) > 1 else hist.counts
    counts = counts[: len(edges) - 1]
    ax.stairs(counts, edges, fill=True, color=NEUTRAL_COLOUR, alpha=0.85)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("samples")
    ax.spines[["top", "right"]].set_visible(False)


def _linear_edges(hist: IntHistogram, bins: int = 40) -> np.ndarray:
    top = max(hist.percentile(99) + 1, 2)
    step = max(1, int(np.ceil(top / bins)))
    return np.arange(0, top + step, step)


def caption_lengths(acc: Collected) -> bytes:
    """Caption length in words and in pre-tokens (up to the 99th percentile)."""
    fig, (left, right) = _figure(9, 3.2, panels=2)
    _stairs(left, acc.words, _linear_edges(acc.words), "Caption length (words)", "words")
    _stairs(right, acc.tokens, _linear_edges(acc.tokens), "Caption length (tokens)", "pre-tokens")
    if acc.tokens.n:
        right.axvline(256, color="#c44e52", linestyle="--", linewidth=1)
        right.annotate("256", (256, 0.95), xycoords=("data", "axes fraction"), color="#c44e52", fontsize=8)
    return _png(fig)


def image_sizes(acc: Collected) -> bytes:
    """Source longest side (log bins) and source aspect ratio (log bins around 1)."""
    fig, (left, right) = _figure(9, 3.2, panels=2)
    side_edges = np.unique(np.rint(np.geomspace(16, acc.src_side.cap + 1, 48)))
    _stairs(left, acc.src_side, side_edges, "Source image size", "longest side (px)")
    if acc.src_side.n:
        left.set_xscale("log")
    aspect_edges = np.unique(np.rint(100 * np.geomspace(1 / 12, 12, 49)))
    _stairs(right, acc.aspect_x100, aspect_edges, "Aspect ratio", "width / height (x100)")
    if acc.aspect_x100.n:
        right.set_xscale("log")
        ticks = [25, 50, 100, 200, 400]
        right.set_xticks(ticks, [f"{t / 100:g}" for t in ticks])
        right.set_xlabel("width / height")
    return _png(fig)


def licenses(stats: dict[str, Any]) -> bytes:
    items = list(stats["licenses"].items())
    fig, (ax,) = _figure(7.5, 0.8 + 0.3 * max(len(items), 2))
    _barh(ax, [k for k, _ in items], [v for _, v in items], NEUTRAL_COLOUR, "License mix (samples)")
    return _png(fig)


def years_and_journals(stats: dict[str, Any]) -> bytes:
    """Samples per publication year, and the 15 journals with most samples."""
    fig, (left, right) = _figure(10, 4.2, panels=2)
    years = stats["years"]
    if years:
        left.bar(list(years), list(years.values()), color=ARTICLE_COLOUR)
        left.set_title("Samples per year", loc="left", fontsize=11)
        left.tick_params(axis="x", labelrotation=90, labelsize=7)
        left.spines[["top", "right"]].set_visible(False)
    else:
        _empty(left, "Samples per year", "no samples")
    top = list(stats["journals"]["top"].items())[:15]
    labels = [name if len(name) <= 32 else name[:31] + "…" for name, _ in top]
    title = f"Top journals ({stats['journals']['distinct']:,} in all)"
    _barh(right, labels, [v for _, v in top], FIGURE_COLOUR, title)
    right.tick_params(axis="y", labelsize=8)
    return _png(fig)


def duplicates(stats: dict[str, Any]) -> bytes:
    """Cluster sizes of kept samples and duplicates dropped, when deduplication ran."""
    d = stats["duplicates"]
    sizes = {int(k): v for k, v in d["cluster_sizes"].items()}
    if not sizes and not d["rejected_as_duplicate"]:
        fig, (ax,) = _figure(7.5, 0.9)
        _empty(ax, "Duplicates", "no duplicate information in this build (deduplication did not run)")
        return _png(fig)
    # Singletons dwarf everything else; they go in the title, the bars show actual duplication.
    groups = sorted(k for k in sizes if k > 1)
    dropped = d.get("rejected_by_reason") or {"dropped": d["rejected_as_duplicate"]}
    labels = [f"kept, stands for {k}" for k in groups] + [f"dropped: {r}" for r in dropped]
    values = [sizes[k] for k in groups] + list(dropped.values())
    colours = [NEUTRAL_COLOUR] * len(groups) + [FIGURE_COLOUR] * len(dropped)
    fig, (ax,) = _figure(7.5, 0.9 + 0.3 * max(len(values), 2))
    title = f"Duplicates ({sizes.get(1, 0):,} kept samples have none)"
    _barh(ax, labels, values, colours, title)
    return _png(fig)


def all_plots(stats: dict[str, Any], acc: Collected) -> list[tuple[str, str, bytes]]:
    """``(anchor, title, png)`` of every plot, in the order the page shows them."""
    return [
        ("funnel", "Funnel: articles listed to samples kept", funnel(stats)),
        ("drops", "Drops by reason", drops(stats)),
        ("captions", "Caption length", caption_lengths(acc)),
        ("images", "Image size and aspect ratio", image_sizes(acc)),
        ("licenses", "License mix", licenses(stats)),
        ("years-journals", "Years and journals", years_and_journals(stats)),
        ("duplicates", "Duplicates", duplicates(stats)),
    ]
