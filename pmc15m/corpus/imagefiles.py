"""The file formats PMC figures arrive in, each with the outcome the pipeline owes it.

A corpus for tests and benchmarks must hold every container and pixel mode the pipeline
must cope with, including the broken and hostile ones. Each ``KINDS`` entry says what the
pipeline is expected to do with such a file (decode it, or reject it with which reason),
so a generated corpus carries its own expected funnel. ``pmc15m.corpus.features`` plants
one file of every kind in every corpus.

Everything here is deterministic, across processes too: the same image and kind give the
same bytes (see ``_save_tiff`` for the one encoder that needed help).
"""

from __future__ import annotations

import functools
import io
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageDraw

from pmc15m.core import reasons
from pmc15m.corpus.iccprofiles import rgb_matrix_profile
from pmc15m.corpus.jpegvariants import declared_12bit_jpeg, plain_cmyk_jpeg, ycck_jpeg
from pmc15m.corpus.render import near_duplicate, render_figure, render_near_uniform

__all__ = [
    "EXIF_ORIENTATION_TAG",
    "EXIF_ROTATE_CW",
    "KINDS",
    "OK",
    "TRANSPARENT_BOX",
    "FileKind",
    "encode_image",
    "near_duplicate",  # re-exported: rendering lives in pmc15m.corpus.render
    "render_figure",
    "transparent_box",
]

OK = "ok"
Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class FileKind:
    """One way a figure file can look on disk, and what the pipeline must make of it."""

    ext: str  # file extension without dot: "jpg", "png", "gif", "tif", "bmp", "webp", ...
    expected: str  # "ok" when the pipeline should keep it, else the pmc15m.core.reasons constant


# Fraction of the image (left, top, right, bottom) that the alpha-carrying kinds make
# fully transparent over black pixels: a decoder that forgets to composite on white shows
# black there, which tests can see.
TRANSPARENT_BOX = (0.0, 0.0, 0.25, 0.25)

# The orientation tag value that means "rotate 90 degrees clockwise to display".
EXIF_ORIENTATION_TAG = 0x0112
EXIF_ROTATE_CW = 6


def _save(img: Image.Image, fmt: str, **params: object) -> bytes:
    if fmt == "TIFF":
        return _save_tiff(img, **params)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _save_tiff(img: Image.Image, **params: object) -> bytes:
    """TIFF bytes written through a real file: the only way libtiff's output is reproducible.

    libtiff starts each directory on a word boundary, seeking one byte past the end of an
    odd-length strip. Given a file without a descriptor (BytesIO), Pillow lets libtiff
    write into a memory buffer whose seek procedure allows that and whose write procedure
    grows the buffer with realloc() without clearing it (src/libImaging/TiffDecode.c), so
    the skipped byte keeps whatever the heap held, which differs between processes. Given
    a descriptor, libtiff writes the file itself and the skipped byte is a hole: zero.
    (Multi-page files go through Pillow's AppendingTiffWriter, which has no descriptor;
    ``_multipage_tiff`` therefore stores its pages uncompressed, written by Pillow.)
    """
    with tempfile.TemporaryFile() as file:
        img.save(file, format="TIFF", **params)
        file.seek(0)
        return file.read()


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
    """Three pages: the figure, then a flipped half-size and a grey quarter-size page.

    Uncompressed, so Pillow writes every byte itself (see ``_save_tiff``); the smaller
    later pages, as in files that carry a preview, keep the file small.
    """
    rgb = img.convert("RGB")
    half = rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT).reduce(2)
    pages = [half, rgb.convert("L").reduce(4)]
    buf = io.BytesIO()
    rgb.save(buf, "TIFF", compression="raw", save_all=True, append_images=pages)
    return buf.getvalue()


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


def _png_rgb16(img: Image.Image) -> bytes:
    """16 bits per channel RGB (Pillow cannot write it): each 8-bit value v becomes v * 257."""
    arr = np.asarray(img.convert("RGB"), dtype=">u2") * 257
    rows = b"".join(b"\x00" + row.tobytes() for row in arr)
    header = struct.pack(">IIBBBBB", img.width, img.height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 6))
        + _png_chunk(b"IEND", b"")
    )


@functools.cache
def _adobe_rgb() -> tuple[bytes, ImageCms.ImageCmsTransform]:
    profile = rgb_matrix_profile("Adobe RGB (1998) compatible (pmc15m test profile)")
    target = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return profile, ImageCms.buildTransform(ImageCms.createProfile("sRGB"), target, "RGB", "RGB")


def _adobe_rgb_jpeg(img: Image.Image) -> bytes:
    """The figure's colours expressed in Adobe RGB, with that profile embedded.

    Read without colour management it looks visibly washed out (greens most), which is
    how tests tell that the profile was applied.
    """
    profile, transform = _adobe_rgb()
    wide = transform.apply(img.convert("RGB"))
    return _save(wide, "JPEG", quality=95, icc_profile=profile)


def _blank(img: Image.Image) -> bytes:
    """An empty scanned page the size of ``img``: near-white with faint sensor noise."""
    page = render_near_uniform(img.width * 7919 + img.height, img.width, img.height, level=250, noise=1.0)
    return _jpeg(page)


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
    "jpeg_ycck": (FileKind("jpg", OK), ycck_jpeg),
    "jpeg_cmyk_no_adobe": (FileKind("jpg", OK), plain_cmyk_jpeg),
    "jpeg_adobe_rgb": (FileKind("jpg", OK), _adobe_rgb_jpeg),
    "png_palette": (
        FileKind("png", OK),
        lambda im: _save(im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT), "PNG"),
    ),
    "png_rgb16": (FileKind("png", OK), _png_rgb16),
    "jpeg_12bit": (FileKind("jpg", reasons.IMAGE_UNSUPPORTED), declared_12bit_jpeg),
    "blank": (FileKind("jpg", reasons.IMAGE_BLANK), _blank),
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
