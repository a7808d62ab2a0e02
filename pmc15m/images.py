"""Decode, validate, normalise, resize, encode and hash one figure image.

This is the per-element hot path of a build: every figure of PMC passes through
``process_image``, so it avoids decoding pixels it will throw away. A large JPEG is
decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself (``draft``), and big integer factors
are removed with ``Image.reduce`` (a box filter) before the final Lanczos resample. Both
steps keep at least twice the target resolution, so the result is visually the same as a
full decode followed by one Lanczos resize, which ``process_image_straightforward`` keeps
as the reference and benchmark baseline.

Filtering on size and aspect ratio is ``pmc15m.filters``' job; here an image is refused
only when it cannot, or must not, be decoded (see ``pmc15m.imagedecode``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import imagehash
from PIL import Image

from pmc15m.config import ImageConfig
from pmc15m.imagedecode import (
    ImageRejected,
    apply_orientation,
    check_size,
    load_pixels,
    open_image,
    orientation,
    to_rgb,
    to_working_mode,
)

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
    """The stored image of a figure and the facts about its source file."""

    data: bytes  # the encoded output image
    width: int
    height: int
    src_format: str  # Pillow's format name: "JPEG", "PNG", "TIFF", ...
    src_mode: str  # the file's pixel mode as decoded: "RGB", "P", "CMYK", "I;16", ...
    src_width: int  # source size in display orientation (EXIF rotation applied)
    src_height: int
    src_bytes: int
    src_sha256: str  # of the input bytes: the exact-duplicate key
    phash: str  # 16 hex chars, imagehash.phash of the output pixels


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
    """Turn figure file bytes into the stored image, or raise ``ImageRejected``."""
    _check_config(config)
    img = open_image(data)
    check_size(img, config.max_pixels)
    source = _Source(img.format or "", img.mode, img.size)
    target = output_size(*source.size, config)
    if source.format in _DRAFT_FORMATS and _shrink_factor(source.size, target) >= 2:
        # Ask for twice the target so the final Lanczos still has real detail to filter.
        img.draft(img.mode, (2 * target[0], 2 * target[1]))
    load_pixels(img)
    icc = img.info.get("icc_profile")
    turn = orientation(img)
    img = to_working_mode(apply_orientation(img, turn))
    if turn in _QUARTER_TURNS:
        target = (target[1], target[0])
    if img.size != target:
        img = _reduce_then_resize(img, target)
    return _finish(data, source, turn, to_rgb(img, icc), config)


def process_image_straightforward(data: bytes, config: ImageConfig) -> ProcessedImage:
    """The reference path: full decode, convert, one Lanczos resize, encode.

    Kept for benchmarks and for tests that check the fast path is visually equivalent.
    """
    _check_config(config)
    img = open_image(data)
    check_size(img, config.max_pixels)
    source = _Source(img.format or "", img.mode, img.size)
    load_pixels(img)
    icc = img.info.get("icc_profile")
    turn = orientation(img)
    img = to_rgb(to_working_mode(apply_orientation(img, turn)), icc)
    target = output_size(*img.size, config)
    if img.size != target:
        img = img.resize(target, Image.Resampling.LANCZOS)
    return _finish(data, source, turn, img, config)


def _reduce_then_resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Lanczos to ``size``, after a cheap integer box reduction that keeps >= 2x ``size``.

    Lanczos cost grows with the source size; averaging blocks first is an order of
    magnitude cheaper and, at two or more output pixels per reduced pixel, the final
    Lanczos removes the box filter's aliasing.
    """
    factor = _shrink_factor(img.size, size)
    if factor >= 2:
        img = img.reduce(factor)
    return img.resize(size, Image.Resampling.LANCZOS)


def _shrink_factor(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest integer reduction of ``size`` that still leaves twice ``target``."""
    return min(size[0] // (2 * target[0]), size[1] // (2 * target[1]))


def _finish(data: bytes, source: _Source, turn: int, rgb: Image.Image, config: ImageConfig) -> ProcessedImage:
    width, height = source.size
    if turn in _QUARTER_TURNS:
        width, height = height, width
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
        phash=str(imagehash.phash(rgb)),
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
