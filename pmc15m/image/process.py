"""Decode, validate, normalise, resize, encode and hash one figure image.

This is the per-element hot path of a build: every figure of PMC passes through
``process_image``, so it avoids decoding pixels it will throw away. A large JPEG is
decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself (``draft``), and big integer factors
are removed with ``Image.reduce`` (a box filter) before the final Lanczos resample. Both
keep a margin over the target resolution (see ``_DRAFT_MARGINS``), so the result is
visually the same as a full decode followed by one Lanczos resize, which
``process_image_straightforward`` keeps as the reference and benchmark baseline.
Orientation, alpha compositing, colour management and the conversion to RGB run after
the resize, on output-sized pixels.

A worker decodes on many threads at once, so the steps that hold decoded pixels run inside
a share of the process's decode-memory budget (``pmc15m.image.budget``): a share sized from
the header, taken once the decode size is known and given back once those pixels are freed.

Filtering on size, aspect ratio and blankness is ``pmc15m.rules.filters``' job; here an image
is refused only when it cannot, or must not, be decoded (see ``pmc15m.image.decode``).
The hashes and statistics of the output pixels come from ``pmc15m.image.pixelfacts``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageFile

from pmc15m.core.config import ImageConfig
from pmc15m.image import budget as pixelbudget
from pmc15m.image.decode import (
    ImageRejected,
    apply_orientation,
    check_size,
    load_pixels,
    open_image,
    orientation,
    to_rgb,
    to_working_mode,
)
from pmc15m.image.highdepth import source_mode
from pmc15m.image.pixelfacts import pixel_facts

__all__ = [
    "ImageRejected",
    "ProcessedImage",
    "encode",
    "output_size",
    "process_image",
    "process_image_straightforward",
]

RESIZE_MODES = ("longest", "shortest", "none")
OUTPUT_FORMATS = {"jpeg": "JPEG", "webp": "WEBP"}
# Formats whose decoder can scale by 1/2, 1/4, 1/8 while decoding.
_DRAFT_FORMATS = frozenset({"JPEG", "MPO"})
# EXIF orientations that turn the image a quarter (width and height swap).
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


@dataclass(slots=True)
class ProcessedImage:
    """The stored image of a figure and the facts about its source file and its pixels."""

    data: bytes  # the encoded output image
    width: int
    height: int
    src_format: str  # Pillow's format name: "JPEG", "PNG", "TIFF", ...
    src_mode: str  # the file's pixel mode as decoded: "RGB", "P", "CMYK", "I;16", ...
    src_width: int  # source size in display orientation (EXIF rotation applied)
    src_height: int
    src_bytes: int
    src_sha256: str  # of the input bytes
    phash: str  # 16 hex chars, imagehash.phash of the output pixels (pmc15m.image.pixelfacts)
    pixel_sha256: str  # of the output pixels and their size: the exact-duplicate key
    pixel_std: float  # std of the output's grayscale values (0-255): near 0 means blank


@dataclass(slots=True)
class _Source:
    format: str
    mode: str
    size: tuple[int, int]  # as stored, before any EXIF rotation


def output_size(width: int, height: int, config: ImageConfig) -> tuple[int, int]:
    """The size ``config`` asks for, never larger than the source unless ``upscale``."""
    if config.resize_mode == "none":
        return width, height
    side = max(width, height) if config.resize_mode == "longest" else min(width, height)
    if side == config.max_side or (side < config.max_side and not config.upscale):
        return width, height
    scale = config.max_side / side
    return max(1, round(width * scale)), max(1, round(height * scale))


def process_image(data: bytes, config: ImageConfig) -> ProcessedImage:
    """Turn figure file bytes into the stored image, or raise ``ImageRejected``.

    Works in stored orientation and turns the image upright only once it has its output
    size; converts to RGB (and composites alpha, and applies the ICC profile) after the
    resize too, so those steps touch output pixels only.
    """
    _check_config(config)
    img = open_image(data)
    check_size(img, config.max_pixels)
    source = _Source(img.format or "", source_mode(img), img.size)  # "RGB;16" for 48-bit files
    target = output_size(*source.size, config)  # symmetric in width/height: fine before turning
    box = _draft(img, target) if source.format in _DRAFT_FORMATS else None
    # Only now is the decode size known (the draft shrinks JPEGs), and nothing is decoded yet.
    wide = source.mode != img.mode  # 16-bit colour that Pillow's mode calls 8-bit
    cost = pixelbudget.decode_bytes(img.mode, img.size, target, "transparency" in img.info, wide)
    with pixelbudget.shared(config.decode_memory_mb * pixelbudget.MIB).hold(cost):
        try:
            return _decode(data, img, source, target, box, config)
        finally:
            # The working copies died with _decode's frame; closing frees the decoded
            # buffer too, before the budget counts it as free.
            img.close()


def _decode(
    data: bytes,
    img: ImageFile.ImageFile,
    source: _Source,
    target: tuple[int, int],
    box: tuple[float, float, float, float] | None,
    config: ImageConfig,
) -> ProcessedImage:
    """Decode, resize, convert, encode: the steps that hold the decoded pixels."""
    pixels = load_pixels(img)
    turn = orientation(img)  # after loading: a PNG's eXIf chunk may follow its pixel data
    icc = img.info.get("icc_profile")
    pixels = to_working_mode(pixels)
    if pixels.size != target:
        pixels = pixels.resize(target, Image.Resampling.LANCZOS, box=box, reducing_gap=_REDUCING_GAP)
    return _finish(data, source, turn, to_rgb(apply_orientation(pixels, turn), icc), config)


def process_image_straightforward(data: bytes, config: ImageConfig) -> ProcessedImage:
    """The reference path: full decode, convert, one Lanczos resize, encode.

    Kept for benchmarks and for tests that check the fast path is visually equivalent;
    the build never runs it, so it takes no share of the pixel budget.
    """
    _check_config(config)
    img = open_image(data)
    check_size(img, config.max_pixels)
    source = _Source(img.format or "", img.mode, img.size)
    pixels = load_pixels(img)
    turn = orientation(img)  # after loading: a PNG's eXIf chunk may follow its pixel data
    icc = img.info.get("icc_profile")
    rgb = to_rgb(to_working_mode(apply_orientation(pixels, turn)), icc)
    target = output_size(*rgb.size, config)
    if rgb.size != target:
        rgb = rgb.resize(target, Image.Resampling.LANCZOS)
    return _finish(data, source, turn, rgb, config)


# Pillow's resize first averages blocks (Image.reduce, an order of magnitude cheaper than
# Lanczos) down to no less than this many times the target, then resamples with Lanczos,
# which at two or more input pixels per output pixel removes the box filter's aliasing.
# Pillow keeps the geometry exact when the size is not a multiple of the block.
_REDUCING_GAP = 2.0

# How much larger than the target a JPEG must stay when libjpeg scales it by 1/2, 1/4 or
# 1/8 while decoding. The 4x4 and 2x2 scaled IDCTs filter well enough that 1.5x leaves
# the final Lanczos little to fix; 1/8 keeps block means only, a box filter, which needs
# the same 2x as Image.reduce. On generated figures of 1100-6000 px (benchmarks/
# bench_images.py) the result is as close to an ideal Lanczos resize of the original
# pixels as the full decode's (mean PSNR 35.7 vs 35.8 dB) at 30% of its CPU time.
_DRAFT_MARGINS = ((8, 2.0), (4, 1.5), (2, 1.5))


def _draft(img: Image.Image, target: tuple[int, int]) -> tuple[float, float, float, float] | None:
    """Let libjpeg decode at the smallest scale that keeps its margin over ``target``.

    Returns the source area in the scaled image's coordinates (a scaled side is rounded
    up, so its last pixel covers less than ``scale`` source pixels), or None.
    """
    width, height = img.size
    for scale, margin in _DRAFT_MARGINS:
        if width / scale >= margin * target[0] and height / scale >= margin * target[1]:
            # Pillow picks the largest scale whose result is at least the size asked for.
            drafted = img.draft(img.mode, (width // scale, height // scale))
            return drafted[1] if drafted else None
    return None


def _finish(data: bytes, source: _Source, turn: int, rgb: Image.Image, config: ImageConfig) -> ProcessedImage:
    width, height = source.size
    if turn in _QUARTER_TURNS:
        width, height = height, width
    facts = pixel_facts(rgb)
    return ProcessedImage(
        data=encode(rgb, config),
        width=rgb.width,
        height=rgb.height,
        src_format=source.format,
        src_mode=source.mode,
        src_width=width,
        src_height=height,
        src_bytes=len(data),
        src_sha256=hashlib.sha256(data).hexdigest(),
        phash=facts.phash,
        pixel_sha256=facts.pixel_sha256,
        pixel_std=facts.pixel_std,
    )


def encode(rgb: Image.Image, config: ImageConfig) -> bytes:
    """Encode the output image with settings fixed by ``config`` alone.

    No EXIF, ICC profile or comment is carried over: the pixels are already sRGB and
    upright, and metadata would make identical pixels produce different bytes.
    """
    rgb.info = {}
    buf = io.BytesIO()
    if config.output_format == "jpeg":
        rgb.save(buf, "JPEG", quality=config.quality, optimize=False, progressive=False)
    else:
        rgb.save(buf, "WEBP", quality=config.quality, method=4)
    return buf.getvalue()


def _check_config(config: ImageConfig) -> None:
    """A bad configuration is a programming error, not a reason to drop every image."""
    if config.resize_mode not in RESIZE_MODES:
        raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, not {config.resize_mode!r}")
    if config.output_format not in OUTPUT_FORMATS:
        known = sorted(OUTPUT_FORMATS)
        raise ValueError(f"output_format must be one of {known}, not {config.output_format!r}")
    if config.max_side < 1 and config.resize_mode != "none":
        raise ValueError(f"max_side must be positive, not {config.max_side}")
    if config.decode_memory_mb < 1:
        raise ValueError(f"decode_memory_mb must be positive, not {config.decode_memory_mb}")
