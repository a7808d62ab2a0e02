"""Synthetic images that look like scientific figures, for corpora, tests and benchmarks.

A figure corpus needs images that look like figures (so resize and JPEG costs are
realistic and perceptual hashes behave as on real data) and that differ from seed to seed
(so near-duplicate detection has true negatives). Besides the multi-panel figures, two
families probe the blank-image filter from both sides: sparse line plots (thin lines on
white, the real figures with the least pixel variation) and near-uniform images (blank
pages, placeholders, scanner noise).

Everything here is deterministic: the same arguments give the same pixels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

_PLOT_COLORS = np.array(
    [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ],
    dtype=np.uint8,
)
_VIRIDIS = np.array(
    [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], dtype=np.float32
)
_COLORMAPS = (
    _VIRIDIS,
    _VIRIDIS[::-1],
    np.array([(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)], np.float32),
    np.array([(255, 255, 255), (252, 187, 161), (251, 106, 74), (203, 24, 29), (103, 0, 13)], np.float32),
)
Box = tuple[int, int, int, int]


def render_figure(seed: int, width: int, height: int) -> Image.Image:
    """A deterministic RGB image that looks like a (multi-panel) scientific figure.

    Panels mix plots with filled areas and rasters (micrographs, heatmaps) so that the
    low spatial frequencies a perceptual hash looks at differ strongly between seeds.
    Rasters are computed on a coarse grid and upsampled by Pillow, which keeps a
    1000x800 figure in the low milliseconds.

    Distinct seeds are not *guaranteed* to hash apart: phash sees little more than the
    panel layout of sparse plots. Measured over 2000 seeds, 7 of the 2 million pairs came
    within Hamming distance 8 (1 within 6), while ``near_duplicate`` copies stayed within 8
    in 400 of 400 tries. A corpus with near-duplicate ground truth should check its
    unrelated figures against its threshold rather than assume.
    """
    if width < 1 or height < 1:
        raise ValueError(f"bad figure size {width}x{height}")
    rng = np.random.default_rng(seed)
    tint = tuple(int(v) for v in 255 - rng.integers(0, 12, 3))
    canvas = Image.new("RGB", (width, height), tint)
    draw = ImageDraw.Draw(canvas)
    painters = (_paint_micrograph, _paint_heatmap, _paint_bars, _paint_lines, _paint_scatter)
    gap = max(1, min(width, height) // 40)
    for box in _mosaic(rng, width, height, gap):
        if box[2] - box[0] >= 8 and box[3] - box[1] >= 8:
            painters[int(rng.integers(len(painters)))](canvas, draw, box, rng)
    return canvas


def _splits(rng: np.random.Generator, n: int, total: int) -> list[int]:
    """``n + 1`` cut points over ``total`` with uneven, but not tiny, parts."""
    parts = rng.uniform(0.6, 1.4, n)
    edges = np.concatenate([[0.0], np.cumsum(parts) / parts.sum()])
    return [round(float(e) * total) for e in edges]


def _mosaic(rng: np.random.Generator, width: int, height: int, gap: int) -> list[Box]:
    """Panel boxes: 1-3 rows of uneven height, each split into its own 1-3 columns.

    Uneven, per-figure layouts matter for hashing: equal grids give many seeds the same
    white-gutter pattern, which dominates the low frequencies a perceptual hash keeps.
    """
    n_rows = int(rng.choice([1, 1, 2, 2, 3]))
    ys = _splits(rng, n_rows, height)
    boxes = []
    for r in range(n_rows):
        xs = _splits(rng, int(rng.choice([1, 2, 2, 3])), width)
        boxes += [(xs[c] + gap, ys[r] + gap, xs[c + 1] - gap, ys[r + 1] - gap) for c in range(len(xs) - 1)]
    return boxes


def _paint_micrograph(canvas: Image.Image, draw: ImageDraw.ImageDraw, box: Box, rng: np.random.Generator):
    """Gaussian blobs like cells or nuclei, as fluorescence (dark) or brightfield (light)."""
    pw, ph = box[2] - box[0], box[3] - box[1]
    gw, gh = max(4, pw // 8), max(4, ph // 8)
    n = int(rng.integers(6, 40))
    cx, cy = rng.uniform(0, gw, n), rng.uniform(0, gh, n)
    sigma = rng.uniform(0.6, max(1.0, min(gw, gh) / 6), n)
    amp = rng.uniform(0.3, 1.0, n)
    gx = np.exp(-(((np.arange(gw)[None, :] - cx[:, None]) / sigma[:, None]) ** 2) / 2)
    gy = np.exp(-(((np.arange(gh)[None, :] - cy[:, None]) / sigma[:, None]) ** 2) / 2)
    field = (amp[:, None] * gy).T @ gx + rng.uniform(0, 0.12, (gh, gw))
    field = np.clip(field / max(float(field.max()), 1e-6), 0.0, 1.0)[..., None]
    if rng.random() < 0.5:  # fluorescence: coloured signal on black
        colour = np.array([(0, 255, 60), (255, 40, 40), (60, 120, 255), (255, 0, 255)][rng.integers(4)])
        rgb = field * colour
    else:  # brightfield stain: purple on pale pink
        rgb = (1 - field) * np.array([245, 225, 235]) + field * np.array([90, 40, 130])
    small = Image.fromarray(rgb.astype(np.uint8))
    canvas.paste(small.resize((pw, ph), Image.Resampling.BICUBIC), box[:2])


def _paint_heatmap(canvas: Image.Image, draw: ImageDraw.ImageDraw, box: Box, rng: np.random.Generator):
    """A clustered-looking heatmap: smooth row/column trends plus cell noise."""
    pw, ph = box[2] - box[0], box[3] - box[1]
    nx, ny = int(rng.integers(4, 24)), int(rng.integers(4, 24))
    # Random-walk row and column effects give the smooth blocks of a clustered heatmap
    # (and panel-scale structure that differs from seed to seed).
    rows, cols = np.cumsum(rng.normal(size=ny)), np.cumsum(rng.normal(size=nx))
    values = np.add.outer(rows, cols) + rng.normal(0, 0.7, (ny, nx))
    cmap = _COLORMAPS[int(rng.integers(len(_COLORMAPS)))]
    values = (values - values.min()) / max(float(np.ptp(values)), 1e-6) * (len(cmap) - 1)
    lo = np.floor(values).astype(int).clip(0, len(cmap) - 2)
    frac = (values - lo)[..., None]
    rgb = cmap[lo] * (1 - frac) + cmap[lo + 1] * frac
    small = Image.fromarray(rgb.astype(np.uint8))
    canvas.paste(small.resize((pw, ph), Image.Resampling.NEAREST), box[:2])


def _plot_area(draw: ImageDraw.ImageDraw, box: Box, rng: np.random.Generator) -> Box:
    """Draw axes in ``box`` and return the inner plotting rectangle."""
    x0, y0, x1, y1 = box
    fx, fy = rng.uniform(0.06, 0.2, 2)
    mx, my = max(2, int((x1 - x0) * fx)), max(2, int((y1 - y0) * fy))
    inner = (x0 + mx, y0 + my // 2, x1 - mx // 3, y1 - my)
    width = max(1, (x1 - x0) // 250)
    if rng.random() < 0.4:  # ggplot2-style grey panel with white grid lines
        draw.rectangle(inner, fill=tuple(int(v) for v in rng.integers(225, 242, 3)))
        for t in np.linspace(inner[1], inner[3], int(rng.integers(3, 7)))[1:-1]:
            draw.line([(inner[0], int(t)), (inner[2], int(t))], fill=(255, 255, 255), width=width + 1)
    draw.line([(inner[0], inner[1]), (inner[0], inner[3]), (inner[2], inner[3])], fill=(0, 0, 0), width=width)
    for t in np.linspace(inner[0], inner[2], int(rng.integers(3, 8))):
        draw.line([(int(t), inner[3]), (int(t), inner[3] + my // 5)], fill=(0, 0, 0), width=width)
    return inner


def _paint_bars(canvas: Image.Image, draw: ImageDraw.ImageDraw, box: Box, rng: np.random.Generator):
    """A bar chart with error bars."""
    x0, y0, x1, y1 = _plot_area(draw, box, rng)
    n = int(rng.integers(2, 12))
    heights = rng.uniform(0.1, 1.0, n)
    slot = (x1 - x0) / n
    offset = int(rng.integers(len(_PLOT_COLORS)))
    for i, h in enumerate(heights):
        left, right = int(x0 + (i + 0.15) * slot), int(x0 + (i + 0.85) * slot)
        top = int(y1 - h * (y1 - y0) * 0.9)
        colour = tuple(int(v) for v in _PLOT_COLORS[(offset + i) % len(_PLOT_COLORS)])
        draw.rectangle([left, top, max(left, right), y1], fill=colour)
        err = int(rng.uniform(0.02, 0.1) * (y1 - y0))
        mid = (left + right) // 2
        draw.line([(mid, max(y0, top - err)), (mid, top + err)], fill=(0, 0, 0), width=1)


def _paint_lines(canvas: Image.Image, draw: ImageDraw.ImageDraw, box: Box, rng: np.random.Generator):
    """Random-walk series with shaded confidence bands."""
    x0, y0, x1, y1 = _plot_area(draw, box, rng)
    npts = int(rng.integers(10, 50))
    xs = np.linspace(x0, x1, npts)
    for k in range(int(rng.integers(1, 4))):
        walk = np.cumsum(rng.normal(0, 1, npts))
        ys = y1 - (walk - walk.min()) / max(float(np.ptp(walk)), 1e-6) * (y1 - y0) * 0.8 - (y1 - y0) * 0.1
        band = (y1 - y0) * rng.uniform(0.03, 0.12)
        colour = tuple(int(v) for v in _PLOT_COLORS[(k + int(rng.integers(10))) % len(_PLOT_COLORS)])
        shade = tuple(int(255 - (255 - v) * 0.35) for v in colour)
        upper = list(zip(xs.tolist(), (ys - band).tolist(), strict=True))
        lower = list(zip(xs.tolist()[::-1], (ys + band).tolist()[::-1], strict=True))
        draw.polygon(upper + lower, fill=shade)
        draw.line(
            list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=colour, width=max(1, (x1 - x0) // 150)
        )


def _paint_scatter(canvas: Image.Image, draw: ImageDraw.ImageDraw, box: Box, rng: np.random.Generator):
    """Clustered scatter points."""
    x0, y0, x1, y1 = _plot_area(draw, box, rng)
    radius = max(1, (x1 - x0) // 60)
    for k in range(int(rng.integers(1, 5))):
        n = int(rng.integers(20, 120))
        centre = rng.uniform(0.2, 0.8, 2)
        pts = np.clip(rng.normal(centre, rng.uniform(0.03, 0.15), (n, 2)), 0, 1)
        px = (x0 + pts[:, 0] * (x1 - x0)).astype(int)
        py = (y1 - pts[:, 1] * (y1 - y0)).astype(int)
        colour = tuple(int(v) for v in _PLOT_COLORS[(k * 3 + int(rng.integers(10))) % len(_PLOT_COLORS)])
        for x, y in zip(px.tolist(), py.tolist(), strict=True):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)


def near_duplicate(img: Image.Image, seed: int) -> Image.Image:
    """A re-published copy of ``img``: lightly cropped, rescaled and re-toned.

    Mimics the same figure appearing in two articles (or two versions) after a journal's
    own processing, which a perceptual hash should still match.
    """
    rng = np.random.default_rng(seed)
    w, h = img.size
    # Crop up to 1.5% per axis, split nearly evenly between the two sides: a lopsided crop
    # shifts the content, which moves a perceptual hash far more than the crop itself.
    crop, share = rng.uniform(0, 0.015, 2), rng.uniform(0.35, 0.65, 2)
    left, top = crop * share
    right, bottom = crop * (1 - share)
    box = (int(w * left), int(h * top), w - int(w * right), h - int(h * bottom))
    scale = rng.uniform(0.85, 1.1)
    out = img.convert("RGB").crop(box)
    out = out.resize(
        (max(1, round(out.width * scale)), max(1, round(out.height * scale))), Image.Resampling.BICUBIC
    )
    gain, shift = rng.uniform(0.93, 1.07), rng.uniform(-8, 8)
    arr = np.asarray(out, dtype=np.float32)
    arr = (arr - 128.0) * gain + 128.0 + shift
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))


def render_sparse_plot(
    seed: int, width: int, height: int, line_width: int = 1, n_lines: int = 1
) -> Image.Image:
    """A line chart with nothing else: axes, ticks and ``n_lines`` thin series on white.

    The real figures with the least pixel variation: at a large source size and a thin
    line width, most of the downscaled image is white. The blank-image threshold must
    keep these (``benchmarks.bench_images`` measures them).
    """
    if width < 8 or height < 8:
        raise ValueError(f"bad plot size {width}x{height}")
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = int(width * 0.1), int(height * 0.05), int(width * 0.97), int(height * 0.9)
    draw.line([(x0, y0), (x0, y1), (x1, y1)], fill=(0, 0, 0), width=line_width)
    for t in np.linspace(x0, x1, 6).tolist():
        draw.line([(t, y1), (t, y1 + height * 0.015)], fill=(0, 0, 0), width=line_width)
    xs = np.linspace(x0, x1, 40)
    for k in range(n_lines):
        walk = np.cumsum(rng.normal(size=xs.size))
        ys = y1 - (walk - walk.min()) / max(float(np.ptp(walk)), 1e-6) * (y1 - y0) * 0.8 - (y1 - y0) * 0.1
        colour = tuple(int(v) for v in _PLOT_COLORS[(k + int(rng.integers(10))) % len(_PLOT_COLORS)])
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=colour, width=line_width)
    return img


def render_near_uniform(
    seed: int, width: int, height: int, level: int = 255, noise: float = 0.0, gradient: float = 0.0
) -> Image.Image:
    """A blank page: one grey ``level``, plus Gaussian ``noise`` (std) and a left-to-right
    illumination ``gradient`` (grey levels lost across the width), as scans of empty pages
    and placeholder images look."""
    if width < 1 or height < 1:
        raise ValueError(f"bad size {width}x{height}")
    rng = np.random.default_rng(seed)
    values = np.full((height, width), float(level)) - np.linspace(0.0, gradient, width)[None, :]
    if noise > 0:
        values += rng.normal(0.0, noise, (height, width))
    gray = Image.fromarray(np.clip(values + 0.5, 0, 255).astype(np.uint8))
    return gray.convert("RGB")
