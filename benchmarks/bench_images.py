"""Image normalisation: the fast path against the straightforward one, measured in one run.

A corpus of generated figure files (longest side 300-6000 px, log-uniform; PMC's format
mix: mostly JPEG, some PNG, GIF and TIFF; half the JPEGs carry photographic noise, as
micrographs do) is written to a temporary folder and read back. Every file goes through
``process_image`` (draft decoding, box reduction, Lanczos) and through
``process_image_straightforward`` (full decode, one Lanczos resize), in alternating order,
best of three rounds, in this one process. Times are CPU seconds of this process (the
work is single-threaded), so the figures are per core and hold on a busy machine. PSNR
compares the two paths' outputs with each other and with the ideal: a Lanczos resize of
the generated pixels before they were encoded.

Two more tables: the cost of the pixel facts (our ``phash64`` against ``imagehash.phash``,
with a check that every hash is identical) and the evidence behind
``FilterConfig.min_pixel_std``: the grayscale std of real-looking figures, of the sparsest
line plots and of blank pages, all through the real ``process_image``.
"""

from __future__ import annotations

import io
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from benchmarks.table import format_table
from pmc15m.core.config import FilterConfig, ImageConfig
from pmc15m.corpus.imagefiles import KINDS, encode_image
from pmc15m.corpus.render import render_figure, render_near_uniform, render_sparse_plot
from pmc15m.image.pixelfacts import phash64, pixel_facts
from pmc15m.image.process import ProcessedImage, output_size, process_image, process_image_straightforward

# Kinds drawn for the corpus and their weights: roughly the mix of PMC figure files.
FORMAT_MIX = (("jpeg", 62), ("jpeg_progressive", 8), ("png", 14), ("gif", 6), ("tiff_lzw", 10))
SIZE_CLASSES = ((0, 1000, "300-999"), (1000, 3000, "1000-2999"), (3000, 10**9, "3000-6000"))
CONFIG = ImageConfig()  # the build default: longest side 512, JPEG quality 90


@dataclass(slots=True)
class Item:
    kind: str
    width: int
    height: int
    path: Path
    ideal: Image.Image = field(repr=False)  # Lanczos resize of the pixels before encoding
    fast_s: float = math.inf
    slow_s: float = math.inf
    psnr: float = 0.0  # fast output against straightforward output
    psnr_fast: float = 0.0  # against the ideal
    psnr_slow: float = 0.0
    fast: ProcessedImage | None = field(default=None, repr=False)


def _textured(img: Image.Image, seed: int) -> Image.Image:
    """Add sensor-like noise, which makes JPEG decoding cost what it costs on micrographs."""
    noise = np.random.default_rng(seed).normal(0.0, 6.0, (img.height, img.width, 1))
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.float32) + noise, 0, 255).astype(np.uint8))


def make_corpus(folder: Path, n: int, seed: int = 7) -> list[Item]:
    """``n`` figure files in ``folder``: PMC format mix, sizes log-uniform in 300-6000 px."""
    rng = random.Random(seed)
    names, weights = zip(*FORMAT_MIX, strict=True)
    items = []
    for i in range(n):
        kind = rng.choices(names, weights)[0]
        long_side = round(math.exp(rng.uniform(math.log(300), math.log(6000))))
        short_side = max(200, round(long_side / rng.uniform(1.0, 1.8)))
        width, height = (long_side, short_side) if rng.random() < 0.7 else (short_side, long_side)
        img = render_figure(seed * 1000 + i, width, height)
        if kind.startswith("jpeg") and rng.random() < 0.5:
            img = _textured(img, i)
        path = folder / f"{i:03d}.{KINDS[kind].ext}"
        path.write_bytes(encode_image(img, kind))
        ideal = img.resize(output_size(width, height, CONFIG), Image.Resampling.LANCZOS)
        items.append(Item(kind, width, height, path, ideal))
    return items


def _timed(fn: Callable[[bytes, ImageConfig], ProcessedImage], data: bytes) -> tuple[float, ProcessedImage]:
    start = time.process_time()
    result = fn(data, CONFIG)
    return time.process_time() - start, result


def _pixels(result: ProcessedImage) -> np.ndarray:
    with Image.open(io.BytesIO(result.data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def measure(items: list[Item], rounds: int = 3) -> None:
    """Time both paths on every file, in alternating order, keeping each path's best time."""
    for round_ in range(rounds):
        for item in items:
            data = item.path.read_bytes()
            order = [("fast", process_image), ("slow", process_image_straightforward)]
            if round_ % 2:
                order.reverse()
            seconds = {name: _timed(fn, data)[0] for name, fn in order}
            item.fast_s = min(item.fast_s, seconds["fast"])
            item.slow_s = min(item.slow_s, seconds["slow"])
    for item in items:
        data = item.path.read_bytes()
        item.fast = process_image(data, CONFIG)
        fast, slow = _pixels(item.fast), _pixels(process_image_straightforward(data, CONFIG))
        ideal = np.asarray(item.ideal, dtype=np.float64)
        item.psnr, item.psnr_fast, item.psnr_slow = psnr(fast, slow), psnr(fast, ideal), psnr(slow, ideal)


def _row(label: str, size: str, group: list[Item]) -> list[object]:
    fast = statistics.fmean(i.fast_s for i in group) * 1000
    slow = statistics.fmean(i.slow_s for i in group) * 1000
    return [
        label,
        size,
        len(group),
        fast,
        slow,
        slow / fast,
        1000 / fast,
        1000 / slow,
        min(i.psnr for i in group),
        statistics.fmean(i.psnr_fast for i in group),
        statistics.fmean(i.psnr_slow for i in group),
    ]


def speed_table(items: list[Item]) -> str:
    rows = []
    families = {"JPEG": ("jpeg", "jpeg_progressive"), "PNG": ("png",), "GIF": ("gif",), "TIFF": ("tiff_lzw",)}
    for label, kinds in families.items():
        for low, high, size in SIZE_CLASSES:
            group = [i for i in items if i.kind in kinds and low <= max(i.width, i.height) < high]
            if group:
                rows.append(_row(label, size, group))
    rows.append(_row("all (PMC mix)", "300-6000", items))
    header = [
        "format",
        "longest side",
        "files",
        "fast ms",
        "plain ms",
        "speed-up",
        "fast fig/s",
        "plain fig/s",
        "dB fast~plain min",
        "dB fast~ideal",
        "dB plain~ideal",
    ]
    title = (
        "images: process_image (fast) vs full decode + one Lanczos resize (plain); 512 px JPEG q90;\n"
        "CPU ms per figure and figures/s per core; PSNR of fast vs plain (worst file), and of each\n"
        "vs the ideal (Lanczos resize of the pixels before encoding; mean)"
    )
    return format_table(title, header, rows)


def _per_call_us(fn: Callable[[], object], repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat * 1e6


def hash_table(outputs: list[Image.Image], repeat: int = 5) -> str:
    """phash64 against imagehash.phash on the corpus outputs, and the full pixel facts."""
    grays = [img.convert("L") for img in outputs]
    same = sum(phash64(g) == str(imagehash.phash(img)) for g, img in zip(grays, outputs, strict=True))

    def each(fn: Callable[[int], object]) -> float:
        return _per_call_us(lambda: [fn(k) for k in range(len(outputs))], repeat) / len(outputs)

    base = each(lambda k: str(imagehash.phash(outputs[k])))
    with_gray = each(lambda k: phash64(outputs[k].convert("L")))
    shared = each(lambda k: phash64(grays[k]))
    rows = [
        ["imagehash.phash(rgb) (baseline)", base, 1.0],
        ["phash64(rgb.convert('L'))", with_gray, base / with_gray],
        ["phash64(gray), gray shared with pixel_std", shared, base / shared],
        ["pixel_facts(rgb): phash + pixel_sha256 + pixel_std", each(lambda k: pixel_facts(outputs[k])), "-"],
    ]
    title = f"pixel facts on {len(outputs)} outputs; phash64 == imagehash.phash on {same}/{len(outputs)}"
    return format_table(title, ["step", "us/image", "speed-up vs imagehash"], rows)


def _std(img: Image.Image, fmt: str = "PNG") -> float:
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return process_image(buf.getvalue(), CONFIG).pixel_std


def _blank_row(label: str, values: list[float], threshold: float) -> list[object]:
    dropped = sum(v < threshold for v in values)
    return [label, len(values), min(values), statistics.median(values), max(values), dropped]


def blank_table(figure_stds: list[float]) -> str:
    """pixel_std of figures, sparse plots and blank pages, against the default threshold."""
    threshold = FilterConfig().min_pixel_std
    rows = [_blank_row("multi-panel figures (corpus above)", figure_stds, threshold)]
    for width in (1500, 3000, 6000):
        for line_width in (1, 2):
            plots = [
                render_sparse_plot(s, width, width * 2 // 3, line_width, n) for s, n in enumerate((0, 1, 3))
            ]
            rows.append(
                _blank_row(
                    f"line plot {width} px, {line_width}-px lines", [_std(p) for p in plots], threshold
                )
            )
    for noise in (0.0, 1.0, 2.0, 3.0, 5.0):
        pages = [
            render_near_uniform(s, 800, 600, level=level, noise=noise)
            for s, level in enumerate((250, 128, 20))
        ]
        stds = [_std(p, fmt) for p in pages for fmt in ("PNG", "JPEG")]
        rows.append(_blank_row(f"blank page 800 px, noise std {noise:g}", stds, threshold))
    big = [render_near_uniform(s, 4000, 3000, level=245, noise=n) for s, n in enumerate((2.0, 5.0))]
    rows.append(
        _blank_row("blank page 4000 px, noise std 2 and 5", [_std(p, "JPEG") for p in big], threshold)
    )
    gradient = [
        render_near_uniform(s, 800, 600, level=250, noise=1.0, gradient=g) for s, g in enumerate((8, 15))
    ]
    rows.append(_blank_row("blank page, illumination gradient 8/15", [_std(p) for p in gradient], threshold))
    header = ["images", "n", "min std", "median std", "max std", f"dropped at < {threshold:g}"]
    return format_table("blank filter: pixel_std (grayscale std of the 512 px output)", header, rows)


def run(n_files: int = 60) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        items = make_corpus(Path(tmp), n_files)
        measure(items)
    outputs = [Image.open(io.BytesIO(i.fast.data)).convert("RGB") for i in items if i.fast is not None]
    figure_stds = [i.fast.pixel_std for i in items if i.fast is not None]
    return "\n".join([speed_table(items), hash_table(outputs), blank_table(figure_stds)])
