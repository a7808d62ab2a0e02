"""Turning untrusted figure bytes into a decoded 8-bit image, or into a named reason.

Figure files come from thousands of journals and tools: every container, pixel mode and
kind of damage occurs, and a few files are hostile (decompression bombs). This module is
the only place that knows how Pillow reports each of those, so ``pmc15m.image.process`` can stay
a short, readable sequence of steps.

Pillow's ``Image.open`` applies its own, process-global pixel limit (``MAX_IMAGE_PIXELS``)
and would refuse or warn on images that the build configuration allows. We therefore
identify files with the plugins directly and enforce ``ImageConfig.max_pixels`` ourselves,
from the header, before any pixel is decoded.
"""

from __future__ import annotations

import functools
import io
import logging
import struct
import zlib

from PIL import Image, ImageChops, ImageCms, ImageFile

from pmc15m.core import reasons
from pmc15m.image.highdepth import WideColour, grey_to_8bit
from pmc15m.image.noise import quiet_decoders

log = logging.getLogger(__name__)

# Containers we decode. Figures arrive as these; the long tail of Pillow plugins (game
# textures, scientific rasters, formats without a magic number) would mostly misidentify
# junk and widen the attack surface on untrusted bytes, so a match there is "unsupported".
DECODED_FORMATS = frozenset(
    {"JPEG", "MPO", "PNG", "GIF", "TIFF", "BMP", "WEBP", "JPEG2000", "PPM", "PSD", "AVIF"}
)
# Exceptions with which a Pillow plugin says "this file is not in my format".
_NOT_MY_FORMAT = (SyntaxError, IndexError, TypeError, struct.error)
# Exceptions with which a decoder says "the data is damaged or ends early".
# (KeyError and ZeroDivisionError: what some plugins raise on nonsensical header fields.)
_DAMAGED = (
    OSError,
    SyntaxError,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    struct.error,
    zlib.error,
)
_UNSUPPORTED_HINTS = ("not available", "not supported", "unsupported", "unknown raw mode", "ghostscript")
# What Pillow's header parsers say about variants they do not implement.
_VARIANT_HINTS = (*_UNSUPPORTED_HINTS, "cannot handle", "unknown pixel mode", "unknown compression")

# Leading bytes of raster formats we decode: a file that starts like one but cannot be
# opened is damaged, not "some other file".
_RASTER_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")
# Image formats we cannot rasterise (vector, or codecs absent from Pillow).
_UNSUPPORTED_MAGIC = (b"%PDF", b"%!PS", b"\xc5\xd0\xd3\xc6", b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")
_UNSUPPORTED_BRANDS = (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"jxl ")

# EXIF orientation -> the transpose that shows the stored pixels upright (as exif_transpose).
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_WHITE = {"L": 255, "RGB": (255, 255, 255)}


class ImageRejected(Exception):
    """A figure file the pipeline drops, with a reason from ``pmc15m.core.reasons``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@functools.cache
def _plugins() -> tuple[str, ...]:
    """Register every Pillow plugin once; return the formats in Pillow's probing order."""
    Image.init()
    return tuple(Image.ID)


def open_image(data: bytes) -> ImageFile.ImageFile:
    """Identify ``data`` and read its header only, without Pillow's global pixel limit."""
    quiet_decoders()
    fp = io.BytesIO(data)
    prefix = data[:16]
    unsupported = ""  # why a plugin that recognised the bytes cannot decode them
    for fmt in _plugins():
        factory, accept = Image.OPEN[fmt]
        if accept is None:  # formats without a magic number would claim arbitrary bytes
            continue
        fp.seek(0)
        try:
            verdict = accept(prefix)
            if isinstance(verdict, str):  # Pillow knows the format but lacks its codec
                unsupported = unsupported or verdict
            if not verdict or isinstance(verdict, str):
                continue
            img = factory(fp, "")
        except _NOT_MY_FORMAT as exc:
            unsupported = unsupported or _unsupported_variant(fmt, exc)
            continue
        except Image.DecompressionBombError as exc:
            raise ImageRejected(reasons.IMAGE_TOO_LARGE, str(exc)) from None
        except _DAMAGED as exc:
            raise ImageRejected(reasons.IMAGE_TRUNCATED, f"{fmt} header: {exc}") from None
        if img.format not in DECODED_FORMATS:
            raise ImageRejected(reasons.IMAGE_UNSUPPORTED, f"format {img.format}")
        return img
    if unsupported:
        raise ImageRejected(reasons.IMAGE_UNSUPPORTED, unsupported)
    raise ImageRejected(sniff_unidentified(data), f"unidentified, starts {data[:12]!r}")


def _unsupported_variant(fmt: str, exc: Exception) -> str:
    """A description when a plugin's header error means "a variant I cannot decode", else "".

    Pillow raises SyntaxError both for damage and for variants it does not implement; the
    variants say so in words ("cannot handle 12-bit layers", "unknown pixel mode") or come
    from looking a header code up in Pillow's table of known ones (a KeyError: TIFF
    compression 34661, JBIG). 12-bit JPEGs from medical imaging and JBIG or old-style
    JPEG TIFFs from scanners are real figure files, and "truncated" would misreport them.
    """
    message = str(exc)
    if isinstance(exc.__cause__, KeyError) or any(hint in message.lower() for hint in _VARIANT_HINTS):
        what = f"unknown code {message}" if isinstance(exc.__cause__, KeyError) else message
        return f"{fmt} header: {what}"
    return ""


def sniff_unidentified(data: bytes) -> str:
    """The reason for bytes no plugin could open: damaged image, other image, or not one."""
    head = data[:1024].lstrip()
    if _declares_zero_size(data):
        return reasons.IMAGE_UNSUPPORTED
    if data.startswith(_RASTER_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return reasons.IMAGE_TRUNCATED
    if head.startswith(_UNSUPPORTED_MAGIC) or (data[4:8] == b"ftyp" and data[8:12] in _UNSUPPORTED_BRANDS):
        return reasons.IMAGE_UNSUPPORTED
    if b"<svg" in head[:1024].lower():
        return reasons.IMAGE_UNSUPPORTED
    return reasons.IMAGE_NOT_IMAGE


def _declares_zero_size(data: bytes) -> bool:
    """Whether a PNG or GIF header declares a zero side (Pillow refuses to open those)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
    elif data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
    else:
        return False
    return width == 0 or height == 0


def check_size(img: Image.Image, max_pixels: int) -> None:
    """Refuse bombs and degenerate images from the header, before decoding."""
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageRejected(reasons.IMAGE_UNSUPPORTED, f"degenerate size {width}x{height}")
    if width * height > max_pixels:
        raise ImageRejected(reasons.IMAGE_TOO_LARGE, f"{width}x{height} > {max_pixels} pixels")


def load_pixels(img: ImageFile.ImageFile) -> Image.Image:
    """Decode the (first frame's) pixels; truncated data raises instead of padding grey.

    A 16-bit colour PNG or TIFF comes back as 8-bit pixels already mapped by the range
    its samples use (``pmc15m.image.highdepth``): Pillow alone would keep their high bytes
    only, which leaves 12-bit data near-black.
    """
    wide = WideColour.prepare(img)
    _decode(img)
    return _cmyk_polarity(img) if wide is None else wide.to_8bit(img, _decode)


def _decode(img: ImageFile.ImageFile) -> None:
    """``img.load()``, with Pillow's exceptions turned into the reasons we report."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected(reasons.IMAGE_TOO_LARGE, str(exc)) from None
    except _DAMAGED as exc:
        message = str(exc)
        unsupported = any(hint in message.lower() for hint in _UNSUPPORTED_HINTS)
        reason = reasons.IMAGE_UNSUPPORTED if unsupported else reasons.IMAGE_TRUNCATED
        raise ImageRejected(reason, f"{img.format} {img.mode}: {type(exc).__name__}: {message}") from None


def _cmyk_polarity(img: ImageFile.ImageFile) -> Image.Image:
    """CMYK JPEG pixels with 0 meaning no ink, whichever convention the file follows.

    Adobe applications store CMYK (and YCCK) JPEGs inverted and say so with an APP14
    "Adobe" marker; files without that marker store plain values. libjpeg-based readers
    (libvips, Wine's WIC, LittleCMS's jpgicc) invert exactly when the marker is present,
    but Pillow always assumes the Adobe convention, which turns a marker-less CMYK figure
    into its negative. YCCK needs the marker's transform flag, so it always has one.
    """
    if img.mode == "CMYK" and img.format in ("JPEG", "MPO") and "adobe" not in img.info:
        return ImageChops.invert(img)
    return img


def orientation(img: Image.Image) -> int:
    """The EXIF orientation (1 = as stored); a damaged EXIF block counts as 1."""
    try:
        value = img.getexif().get(0x0112, 1)
    except (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, struct.error):
        return 1
    return value if isinstance(value, int) and value in _ORIENTATIONS else 1


def apply_orientation(img: Image.Image, value: int) -> Image.Image:
    """The stored pixels turned to display orientation (EXIF values 2-8; others: as is)."""
    method = _ORIENTATIONS.get(value)
    return img if method is None else img.transpose(method)


def to_working_mode(img: Image.Image) -> Image.Image:
    """8-bit L, LA, RGB, RGBA or CMYK: the modes that resize well and convert losslessly.

    Alpha stays until after the resize (Pillow resizes premultiplied, so compositing on
    white afterwards is equivalent and touches fewer pixels); CMYK likewise stays for the
    colour-managed conversion. Pillow's own conversion of 16-bit, 32-bit and float grey
    clips at 255 (a 16-bit figure turns white), so those map by their range instead.
    """
    mode = img.mode
    has_key = "transparency" in img.info
    if (mode in ("L", "RGB", "P") and has_key) or mode == "PA":
        return img.convert("RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I;16") or mode in ("I", "F"):  # by the range used: pmc15m.image.highdepth
        return grey_to_8bit(img)
    if mode in ("La", "RGBa"):
        return img.convert(mode.upper())
    try:
        return img.convert("RGB")
    except ValueError as exc:
        raise ImageRejected(reasons.IMAGE_UNSUPPORTED, f"mode {mode}: {exc}") from None


def to_rgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """The final RGB pixels: colour-managed, alpha composited on white."""
    if img.mode in ("LA", "RGBA"):
        base = img.mode[:-1]
        flat = Image.new(base, img.size, _WHITE[base])
        flat.paste(img.convert(base), (0, 0), img.getchannel("A"))
        img = flat
    if img.mode in ("CMYK", "RGB") and icc:
        transform = _to_srgb_transform(icc, img.mode)
        if transform is not None:
            try:
                return transform.apply(img)
            except (ImageCms.PyCMSError, ValueError, OSError) as exc:
                log.debug("ICC transform failed (%s); converting without it", exc)
    return img if img.mode == "RGB" else img.convert("RGB")


@functools.lru_cache(maxsize=32)
def _to_srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached transform from an embedded profile to sRGB, or None when not needed/usable.

    Building a transform costs milliseconds, and a corpus reuses a handful of profiles.
    RGB images already tagged sRGB are left alone: converting them would cost time for
    no visible change.
    """
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode == "RGB" and "srgb" in ImageCms.getProfileDescription(source).lower():
            return None
        return ImageCms.buildTransform(source, _srgb_profile(), mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.debug("unusable embedded ICC profile for %s: %s", mode, exc)
        return None


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
