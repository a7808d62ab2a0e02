"""Facts about a figure's normalised pixels: the keys deduplication and the blank filter use.

All three are computed from the output image (sRGB, upright, resized, before encoding),
so they describe what a model sees and do not depend on the source file's container,
compression or metadata:

- ``phash``: a 64-bit perceptual hash, bit for bit ``imagehash.phash`` (DCT of a 32x32
  Lanczos thumbnail, the 8x8 lowest frequencies compared with their median). Near
  duplicates (re-encoded, rescaled, lightly cropped or re-toned copies) land within a
  few bits of each other.
- ``pixel_sha256``: SHA-256 of the output's width and height (two big-endian uint32)
  followed by its raw RGB bytes, row by row: the exact-duplicate key. Two files with the
  same pixels (a PNG and a TIFF of one figure) share it; their ``src_sha256`` differ.
- ``pixel_std``: the standard deviation of the output's grayscale (Pillow's "L", ITU-R
  601 luma) values on the 0-255 scale. Blank or near-uniform images have values near 0;
  ``pmc15m.rules.filters`` drops them below ``FilterConfig.min_pixel_std``.

The grayscale image is computed once and shared by the hash and the deviation.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np
import scipy.fftpack
from PIL import Image

# imagehash.phash's parameters: an 8x8 hash from a 32x32 thumbnail.
HASH_SIDE = 8
_THUMB_SIDE = HASH_SIDE * 4
_LEVELS = np.arange(256, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PixelFacts:
    """The hash and statistics of one normalised image."""

    phash: str  # 16 hex characters
    pixel_sha256: str  # 64 hex characters
    pixel_std: float  # 0 (uniform) to 127.5 (half black, half white)


def pixel_facts(rgb: Image.Image) -> PixelFacts:
    """The facts of an RGB image (the normalised output of ``pmc15m.image.process``)."""
    if rgb.mode != "RGB":
        raise ValueError(f"pixel facts are defined on RGB images, not {rgb.mode}")
    gray = rgb.convert("L")
    return PixelFacts(phash=phash64(gray), pixel_sha256=pixel_digest(rgb), pixel_std=gray_std(gray))


def phash64(gray: Image.Image) -> str:
    """``str(imagehash.phash(img))`` for the image whose grayscale is ``gray``, bit for bit.

    The same steps as imagehash, in the same order and precision, so the bits agree
    exactly (tests compare them on hundreds of images); what is saved is imagehash's
    own grayscale conversion, its hash object and its bit-string formatting. The Lanczos
    thumbnail is most of the cost and cannot change without changing hashes.
    """
    thumb = np.asarray(gray.resize((_THUMB_SIDE, _THUMB_SIDE), Image.Resampling.LANCZOS))
    dct = scipy.fftpack.dct(scipy.fftpack.dct(thumb, axis=0), axis=1)
    low = dct[:HASH_SIDE, :HASH_SIDE]
    return np.packbits(low > np.median(low)).tobytes().hex()


def pixel_digest(rgb: Image.Image) -> str:
    """SHA-256 of the size (two big-endian uint32) followed by the raw RGB bytes."""
    digest = hashlib.sha256(struct.pack(">II", *rgb.size))
    digest.update(rgb.tobytes())
    return digest.hexdigest()


def gray_std(gray: Image.Image) -> float:
    """Population standard deviation of the 8-bit values, from the histogram (fast, exact).

    Rounded to 3 decimals: the value feeds a threshold and a Parquet column, and noise in
    the last float bits would only make shards harder to compare.
    """
    counts = np.asarray(gray.histogram(), dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return 0.0
    mean = counts @ _LEVELS / total
    variance = counts @ (_LEVELS - mean) ** 2 / total
    return round(float(np.sqrt(variance)), 3)


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes of equal length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
