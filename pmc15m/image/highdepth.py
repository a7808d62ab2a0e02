"""High-depth pixels (16-bit, 32-bit integer, float) mapped to 8 bits by the range they use.

Microscopes and scientific cameras write 10-, 12- or 14-bit data into 16-bit files, and
image processing writes 32-bit integer or float files whose scale means nothing to a
display. Scaling by the declared depth (65535 -> 255) turns 12-bit data near-black, and
the blank filter then drops it. Image viewers instead display such files by the values
they actually contain (ImageJ: min..max), and so do we:

1. The range is min..max of the finite samples, except that 1 in ``TRIM_ONE_IN``
   samples at each end cannot stretch it: a hot or dead pixel, or a saturated speck,
   would otherwise squeeze the whole image into a few grey levels. (Images of fewer
   than 10,000 samples use plain min..max.) The ranks are exact (a histogram for
   16-bit data, ``np.partition`` otherwise), so the output is deterministic.
2. The range spans at least ``MIN_LEVELS`` steps of the data's precision (integer levels;
   for float data, float32 steps at its magnitude): a narrower range is widened around
   its centre (within 0..65535 for 16-bit data), so no source step becomes more than
   one output level. Sensor noise on an empty 16-bit page, or rounding noise in a float
   one, then stays as faint as in an 8-bit file and the blank filter still recognises
   it, while 12-bit data (0..4095) and narrow bands (1000..1400) get the full 0..255.
   A constant image maps to one value and is later judged blank.
3. The range maps linearly to 0..255, rounded half up; values outside it clip, NaN
   becomes 0 (ImageJ shows "no data" as background), +inf 255 and -inf 0.

A 16-bit image that uses the full 0..65535 range maps exactly as the declared depth
would (v * 257 -> v). Colour images get one range for all colour channels, so colours
keep their balance; alpha keeps its declared meaning (65535 = opaque).

Pillow keeps only the high byte of 16-bit colour PNGs and TIFFs (it has no 16-bit
colour mode). ``WideColour`` recovers the low byte with a second decode of the same
file whose raw mode reads the other byte of each sample, so Pillow still does the
inflating, un-filtering, de-interlacing and libtiff work.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile

TRIM_ONE_IN = 10_000  # 1 in this many samples at each end may lie outside the range
MIN_LEVELS = 255  # the narrowest range of integer data that is stretched to 0..255
_LEVELS = 65536
_BLOCK = 1 << 20  # samples per block: bounds the temporaries of bincount and lookups
# Raw-mode suffix (the file's byte order) -> the suffix that reads the other byte.
_OTHER_BYTE = {";16B": ";16L", ";16L": ";16B", ";16N": ";16B" if sys.byteorder == "little" else ";16L"}
_WIDE_BASES = ("RGB", "RGBA", "RGBX")  # RGBa (premultiplied) is left to Pillow's 8 bits
_WIDE_FORMATS = ("PNG", "TIFF")


def grey_to_8bit(img: Image.Image) -> Image.Image:
    """An "L" image (or "LA", for a PNG transparency key) from I;16*, I or F pixels."""
    arr = np.asarray(img)
    if arr.dtype.kind == "f":
        grey = _float_to_8bit(arr)
    elif (arr.dtype.kind == "u" and arr.dtype.itemsize <= 2) or (arr.min() >= 0 and arr.max() < _LEVELS):
        wide = arr.astype(np.uint16, copy=False)  # also makes big-endian I;16B native
        grey = _map_blocks(wide, _lut(*uint16_window(wide)).__getitem__)
        key = img.info.get("transparency")
        if isinstance(key, int):
            return Image.fromarray(np.dstack((grey, _opaque_unless(wide == key))))
    else:
        grey = _int_to_8bit(arr)
    return Image.fromarray(grey)


def uint16_window(samples: np.ndarray) -> tuple[int, int]:
    """The (lo, hi) that map to 0 and 255, per the module's rule, from a histogram."""
    counts = np.zeros(_LEVELS, dtype=np.int64)
    for block in _blocks(samples):
        counts += np.bincount(block.ravel(), minlength=_LEVELS)
    cumulative = np.cumsum(counts)
    first, last = _ranks(int(cumulative[-1]))
    lo = int(np.searchsorted(cumulative, first, side="right"))
    hi = int(np.searchsorted(cumulative, last, side="right"))
    return _widen(lo, hi, ceiling=_LEVELS - 1)


def _ranks(n: int) -> tuple[int, int]:
    """The ranks (0-based, ascending) of the samples that bound the range."""
    trim = n // TRIM_ONE_IN
    return trim, n - 1 - trim


def _widen(lo: int, hi: int, ceiling: int | None = None) -> tuple[int, int]:
    """At least MIN_LEVELS wide, centred on the data, inside 0..ceiling when given."""
    missing = MIN_LEVELS - (hi - lo)
    if missing <= 0:
        return lo, hi
    lo -= missing // 2
    if ceiling is not None:
        lo = min(max(lo, 0), ceiling - MIN_LEVELS)
    return lo, lo + MIN_LEVELS


def _lut(lo: int, hi: int) -> np.ndarray:
    """The 8-bit value of every 16-bit level: (v - lo) * 255 / (hi - lo), rounded half up."""
    span = hi - lo
    levels = np.arange(_LEVELS, dtype=np.int64) - lo
    return np.clip((levels * 510 + span) // (2 * span), 0, 255).astype(np.uint8)


def _blocks(arr: np.ndarray) -> list[np.ndarray]:
    """Views of whole rows, about _BLOCK samples each."""
    rows = max(1, _BLOCK // max(1, arr[0].size))
    return [arr[start : start + rows] for start in range(0, len(arr), rows)]


def _map_blocks(arr: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``fn`` applied block by block into one uint8 array (no full-size temporaries)."""
    out = np.empty(arr.shape, dtype=np.uint8)
    start = 0
    for block in _blocks(arr):
        out[start : start + len(block)] = fn(block)
        start += len(block)
    return out


def _float_to_8bit(arr: np.ndarray) -> np.ndarray:
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:  # all NaN or infinite: nothing to show
        return np.zeros(arr.shape, dtype=np.uint8)
    first, last = _ranks(finite.size)
    finite.partition((first, last))
    lo, hi = float(finite[first]), float(finite[last])
    step = float(np.spacing(np.float32(max(abs(lo), abs(hi)))))
    missing = MIN_LEVELS * step - (hi - lo)
    if missing > 0:
        lo, hi = lo - missing / 2, hi + missing / 2
    return _map_blocks(arr, _linear(lo, hi))


def _int_to_8bit(arr: np.ndarray) -> np.ndarray:
    """32-bit integers (or negative 16-bit ones), which no 65536-entry table covers."""
    values = arr.ravel().copy()
    first, last = _ranks(values.size)
    values.partition((first, last))
    return _map_blocks(arr, _linear(*_widen(int(values[first]), int(values[last]))))


def _linear(lo: float, hi: float) -> Callable[[np.ndarray], np.ndarray]:
    """Map lo..hi to 0..255 (hi > lo)."""
    scale = 255.0 / (hi - lo)

    def mapped(block: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (block.astype(np.float64) - lo) * scale + 0.5
        return np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0).clip(0, 255).astype(np.uint8)

    return mapped


def _opaque_unless(keyed: np.ndarray) -> np.ndarray:
    """An alpha channel: transparent where a PNG's tRNS colour matched, opaque elsewhere."""
    return np.where(keyed, np.uint8(0), np.uint8(255))


@dataclass(slots=True)
class WideColour:
    """A 16-bit-per-channel colour PNG or TIFF that Pillow would narrow to 8 bits.

    ``prepare`` runs before the image is loaded; ``to_8bit`` after, with the caller's
    decoding function (its error handling) for the twin, which it decodes only once the
    high bytes are copied out (one copy fewer alive at the peak). Without a twin, ``img``
    itself decodes every byte (grey+alpha PNGs: four bytes per pixel, read as "RGBA").
    """

    twin: ImageFile.ImageFile | None  # the same file, set to decode the low bytes

    @classmethod
    def prepare(cls, img: ImageFile.ImageFile) -> WideColour | None:
        rawmodes = {_rawmode(tile) for tile in img.tile}
        if img.format not in _WIDE_FORMATS or len(rawmodes) != 1:
            return None
        rawmode = rawmodes.pop()
        if img.format == "PNG" and rawmode == "LA;16B":
            img.tile = [_with_rawmode(tile, "RGBA") for tile in img.tile]
            return cls(twin=None)
        base, suffix = rawmode[:-4], rawmode[-4:]
        if base not in _WIDE_BASES or suffix not in _OTHER_BYTE:
            return None
        twin = _reopen(img)
        if twin is None or {_rawmode(tile) for tile in twin.tile} != {rawmode}:
            return None
        twin.tile = [_with_rawmode(tile, base + _OTHER_BYTE[suffix]) for tile in twin.tile]
        return cls(twin=twin)

    def to_8bit(self, img: Image.Image, decode: Callable[[ImageFile.ImageFile], None]) -> Image.Image:
        """The 16-bit samples as 8-bit "LA", "RGB" or "RGBA", mapped by range."""
        if self.twin is None:  # bytes L-high, L-low, A-high, A-low
            wide = np.asarray(img).view(">u2").astype(np.uint16)
        else:
            wide = np.asarray(img).astype(np.uint16)
            wide <<= 8
            decode(self.twin)
            wide |= np.asarray(self.twin)
            self.twin.close()  # its pixels are in ``wide`` now
        n_colour = 1 if self.twin is None else 3
        colour = wide[..., :n_colour]
        out = _map_blocks(colour, _lut(*uint16_window(colour)).__getitem__)
        key = img.info.get("transparency")
        if wide.shape[-1] > n_colour:  # alpha keeps its declared depth
            alpha = _map_blocks(wide[..., n_colour:], _lut(0, _LEVELS - 1).__getitem__)
            out = np.concatenate((out, alpha), axis=-1)
        elif isinstance(key, tuple) and len(key) == 3:
            out = np.dstack((out, _opaque_unless((wide == np.array(key)).all(axis=-1))))
        del wide, colour
        return Image.fromarray(out)


def source_mode(img: ImageFile.ImageFile) -> str:
    """Pillow's mode, with ";16" where the file holds 16-bit colour that Pillow calls 8-bit.

    Call before ``load_pixels`` (it reads the decoder's raw mode): "RGB;16", "RGBA;16" or
    "LA;16" for 48- and 64-bit RGB(A) and 32-bit grey+alpha files, else ``img.mode``.
    """
    rawmodes = {_rawmode(tile) for tile in img.tile}
    if img.format not in _WIDE_FORMATS or len(rawmodes) != 1:
        return img.mode
    rawmode = rawmodes.pop()
    if img.format == "PNG" and rawmode == "LA;16B":
        return "LA;16"
    if rawmode[:-4] in _WIDE_BASES and rawmode[-4:] in _OTHER_BYTE:
        return f"{img.mode};16"
    return img.mode


def _rawmode(tile: ImageFile._Tile) -> str:
    """The raw mode a tile decodes with: PNG gives it alone, TIFF first in a tuple."""
    if isinstance(tile.args, str):
        return tile.args
    return str(tile.args[0]) if isinstance(tile.args, tuple) and tile.args else ""


def _with_rawmode(tile: ImageFile._Tile, rawmode: str) -> ImageFile._Tile:
    args = rawmode if isinstance(tile.args, str) else (rawmode, *tile.args[1:])
    return tile._replace(args=args)


def _file_bytes(img: ImageFile.ImageFile) -> bytes:
    fp = img.fp
    if hasattr(fp, "getvalue"):
        return fp.getvalue()
    where = fp.tell()
    fp.seek(0)
    data = fp.read()
    fp.seek(where)
    return data


def _reopen(img: ImageFile.ImageFile) -> ImageFile.ImageFile | None:
    """A second, unloaded reader of the same file (its first frame, as ``img`` is)."""
    try:
        return type(img)(io.BytesIO(_file_bytes(img)))
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError):
        return None
