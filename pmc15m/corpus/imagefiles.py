"""Synthetic figure images and the file formats PMC figures arrive in, with ground truth.

A figure corpus for tests and benchmarks needs images that look like figures (so resize
and JPEG costs are realistic and perceptual hashes behave as on real data), that differ
from seed to seed (so near-duplicate detection has true negatives), and that come in every
container and pixel mode the pipeline must cope with, including the broken ones. Each
``KINDS`` entry says what the pipeline is expected to do with such a file, so a generated
corpus carries its own expected funnel.

Everything here is deterministic: the same seed and kind give the same bytes.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from pmc15m import reasons

OK = "ok"


@dataclass(frozen=True, slots=True)
class FileKind:
    """One way a figure file can look on disk, and what the pipeline must make of it."""

    ext: str  # file extension without dot: "jpg", "png", "gif", "tif", "bmp", "webp", ...
    expected: str  # "ok" when the pipeline should decode it, else the pmc15m.reasons constant


# Fraction of the image (left, top, right, bottom) that the alpha-carrying kinds make
# fully transparent over black pixels: a decoder that forgets to composite on white shows
# black there, which tests can see.
TRANSPARENT_BOX = (0.0, 0.0, 0.25, 0.25)

# The orientation tag value that means "rotate 90 degrees clockwise to display".
EXIF_ORIENTATION_TAG = 0x0112
EXIF_ROTATE_CW = 6

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


# --------------------------------------------------------------------------- rendering


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


# --------------------------------------------------------------------------- encoding


def _save(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def transparent_box(width: int, height: int) -> Box:
    """The pixel box (left, top, right, bottom; exclusive) the alpha kinds make transparent."""
    left, top, right, bottom = TRANSPARENT_BOX
    x0, y0 = int(left * width), int(top * height)
    return x0, y0, max(x0 + 1, int(right * width)), max(y0 + 1, int(bottom * height))


def _palette_with_hole(img: Image.Image) -> Image.Image:
    """A 255-colour palette image whose index 255 (black) covers TRANSPARENT_BOX."""
    pal = img.convert("RGB").quantize(255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = (pal.getpalette() or [])[: 255 * 3]
    pal.putpalette(palette + [0] * (768 - len(palette)))
    x0, y0, x1, y1 = transparent_box(*pal.size)
    ImageDraw.Draw(pal).rectangle([x0, y0, x1 - 1, y1 - 1], fill=255)
    return pal


def _gray16(img: Image.Image) -> Image.Image:
    """16-bit grayscale with the full 0..65535 range, as scanners and microscopes write it."""
    arr = np.asarray(img.convert("L"), dtype=np.uint16) * 257
    return Image.fromarray(arr)


def _with_alpha(img: Image.Image, mode: str) -> Image.Image:
    base = img.convert(mode[:-1])
    alpha = Image.new("L", img.size, 255)
    x0, y0, x1, y1 = transparent_box(*img.size)
    ImageDraw.Draw(alpha).rectangle([x0, y0, x1 - 1, y1 - 1], fill=0)
    ImageDraw.Draw(base).rectangle([x0, y0, x1 - 1, y1 - 1], fill=0)
    base.putalpha(alpha)
    return base


def _exif_rotated(img: Image.Image) -> bytes:
    """Pixels stored rotated a quarter turn counter-clockwise, with orientation 6 to undo it."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = EXIF_ROTATE_CW
    stored = img.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    return _save(stored, "JPEG", quality=90, exif=exif.tobytes())


def _animated_gif(img: Image.Image) -> bytes:
    frames = [img.convert("RGB").rotate(angle, fillcolor=(255, 255, 255)) for angle in (0, 3, 6, 9)]
    frames = [f.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for f in frames]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)


def _multipage_tiff(img: Image.Image) -> bytes:
    rgb = img.convert("RGB")
    pages = [rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT), rgb.convert("L")]
    return _save(rgb, "TIFF", compression="tiff_lzw", save_all=True, append_images=pages)


def _truncated(data: bytes, fraction: float = 0.6) -> bytes:
    return data[: int(len(data) * fraction)]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _bomb_png(img: Image.Image) -> bytes:
    """A PNG header claiming 30000x30000 RGB pixels, followed by a few rows of data only.

    Decoding it would allocate 2.7 GB; the pipeline must refuse it from the header.
    """
    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (30_000 * 3 + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows)


_HTML_ERROR = (
    b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p>"
    b"</body></html>\n"
)


def _xlsx(img: Image.Image) -> bytes:
    """A minimal spreadsheet (a zip), as supplementary files mislabelled as figures are."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("[Content_Types].xml", '<?xml version="1.0"?><Types/>'),
            ("xl/workbook.xml", '<?xml version="1.0"?><workbook/>'),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def _svg(img: Image.Image) -> bytes:
    w, h = img.size
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{w}" height="{h}"><rect x="10" y="10" width="{w // 2}" height="{h // 2}" '
        f'fill="steelblue"/></svg>\n'
    ).encode()


def _jpeg(img: Image.Image, **params: object) -> bytes:
    return _save(img.convert("RGB"), "JPEG", quality=90, **params)


_ENCODERS: dict[str, tuple[FileKind, Callable[[Image.Image], bytes]]] = {
    "jpeg": (FileKind("jpg", OK), _jpeg),
    "jpeg_progressive": (FileKind("jpg", OK), lambda im: _jpeg(im, progressive=True)),
    "jpeg_gray": (FileKind("jpg", OK), lambda im: _save(im.convert("L"), "JPEG", quality=90)),
    "jpeg_cmyk": (FileKind("jpg", OK), lambda im: _save(im.convert("CMYK"), "JPEG", quality=90)),
    "jpeg_cmyk_bad_icc": (
        FileKind("jpg", OK),
        lambda im: _save(im.convert("CMYK"), "JPEG", quality=90, icc_profile=b"not a real ICC profile" * 8),
    ),
    "jpeg_exif_rotated": (FileKind("jpg", OK), _exif_rotated),
    "png": (FileKind("png", OK), lambda im: _save(im.convert("RGB"), "PNG")),
    "png_palette_alpha": (
        FileKind("png", OK),
        lambda im: _save(_palette_with_hole(im), "PNG", transparency=255),
    ),
    "png_rgba": (FileKind("png", OK), lambda im: _save(_with_alpha(im, "RGBA"), "PNG")),
    "png_la": (FileKind("png", OK), lambda im: _save(_with_alpha(im, "LA"), "PNG")),
    "png_16bit": (FileKind("png", OK), lambda im: _save(_gray16(im), "PNG")),
    "gif": (
        FileKind("gif", OK),
        lambda im: _save(im.convert("RGB").quantize(256, dither=Image.Dither.NONE), "GIF"),
    ),
    "gif_transparent": (
        FileKind("gif", OK),
        lambda im: _save(_palette_with_hole(im), "GIF", transparency=255),
    ),
    "gif_animated": (FileKind("gif", OK), _animated_gif),
    "tiff_lzw": (FileKind("tif", OK), lambda im: _save(im.convert("RGB"), "TIFF", compression="tiff_lzw")),
    "tiff_deflate": (
        FileKind("tif", OK),
        lambda im: _save(im.convert("RGB"), "TIFF", compression="tiff_adobe_deflate"),
    ),
    "tiff_jpeg": (
        FileKind("tif", OK),
        lambda im: _save(im.convert("RGB"), "TIFF", compression="jpeg", quality=90),
    ),
    "tiff_multipage": (FileKind("tif", OK), _multipage_tiff),
    "tiff_16bit": (FileKind("tif", OK), lambda im: _save(_gray16(im), "TIFF", compression="tiff_lzw")),
    "tiff_1bit": (
        FileKind("tif", OK),
        lambda im: _save(im.convert("L").convert("1"), "TIFF", compression="group4"),
    ),
    "tiff_cmyk": (FileKind("tif", OK), lambda im: _save(im.convert("CMYK"), "TIFF", compression="tiff_lzw")),
    "bmp": (FileKind("bmp", OK), lambda im: _save(im.convert("RGB"), "BMP")),
    "webp": (FileKind("webp", OK), lambda im: _save(im.convert("RGB"), "WEBP", quality=90, method=4)),
    "truncated_jpeg": (FileKind("jpg", reasons.IMAGE_TRUNCATED), lambda im: _truncated(_jpeg(im))),
    "truncated_png": (
        FileKind("png", reasons.IMAGE_TRUNCATED),
        lambda im: _truncated(_save(im.convert("RGB"), "PNG")),
    ),
    "not_image": (FileKind("jpg", reasons.IMAGE_NOT_IMAGE), lambda im: _HTML_ERROR),
    "not_image_xlsx": (FileKind("xlsx", reasons.IMAGE_NOT_IMAGE), _xlsx),
    "svg": (FileKind("svg", reasons.IMAGE_UNSUPPORTED), _svg),
    "bomb_png": (FileKind("png", reasons.IMAGE_TOO_LARGE), _bomb_png),
}

KINDS: dict[str, FileKind] = {name: kind for name, (kind, _) in _ENCODERS.items()}


def encode_image(img: Image.Image, kind: str) -> bytes:
    """The bytes of a figure file of ``kind`` (a ``KINDS`` key) showing ``img``.

    Broken kinds derive from ``img`` where that makes sense (a truncated JPEG is a real
    JPEG of ``img`` cut short) so their sizes resemble the valid files next to them.
    """
    try:
        _, encoder = _ENCODERS[kind]
    except KeyError:
        raise ValueError(f"unknown image file kind {kind!r}; known: {sorted(KINDS)}") from None
    return encoder(img)
