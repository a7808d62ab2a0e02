"""The synthetic figure files: each kind really is what KINDS says it is.

The corpus generator's ground truth is only as good as these files, so every claim is
checked with Pillow directly, independently of pmc15m.image.process.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import struct
import subprocess
import sys

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin, UnidentifiedImageError

from pmc15m.core import reasons
from pmc15m.corpus.iccprofiles import rgb_matrix_profile
from pmc15m.corpus.imagefiles import (
    EXIF_ORIENTATION_TAG,
    EXIF_ROTATE_CW,
    KINDS,
    OK,
    encode_image,
    near_duplicate,
    render_figure,
    transparent_box,
)
from pmc15m.corpus.render import render_near_uniform, render_sparse_plot
from pmc15m.image.highdepth import TRIM_ONE_IN

REQUIRED_KINDS = {
    "jpeg": OK,
    "jpeg_progressive": OK,
    "jpeg_cmyk": OK,
    "png": OK,
    "png_palette_alpha": OK,
    "png_16bit": OK,
    "png_la": OK,
    "gif": OK,
    "gif_animated": OK,
    "tiff_lzw": OK,
    "tiff_deflate": OK,
    "tiff_jpeg": OK,
    "tiff_multipage": OK,
    "tiff_16bit": OK,
    "tiff_1bit": OK,
    "tiff_cmyk": OK,
    "bmp": OK,
    "webp": OK,
    "jpeg_exif_rotated": OK,
    "jpeg_ycck": OK,
    "jpeg_cmyk_no_adobe": OK,
    "jpeg_adobe_rgb": OK,
    "png_palette": OK,
    "png_rgb16": OK,
    "png_rgba": OK,
    "gif_transparent": OK,
    "jpeg_12bit": reasons.IMAGE_UNSUPPORTED,
    "blank": reasons.IMAGE_BLANK,
    "truncated_jpeg": reasons.IMAGE_TRUNCATED,
    "truncated_png": reasons.IMAGE_TRUNCATED,
    "not_image": reasons.IMAGE_NOT_IMAGE,
    "bomb_png": reasons.IMAGE_TOO_LARGE,
}
WIDTH, HEIGHT = 320, 240


@pytest.fixture(scope="module")
def figure() -> Image.Image:
    return render_figure(11, WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def files(figure: Image.Image) -> dict[str, bytes]:
    return {kind: encode_image(figure, kind) for kind in KINDS}


def test_required_kinds_present_with_expected_outcome() -> None:
    for kind, expected in REQUIRED_KINDS.items():
        assert KINDS[kind].expected == expected, kind
    allowed = {OK} | reasons.FIGURE_REASONS
    assert all(k.expected in allowed for k in KINDS.values())
    assert all(k.ext and "." not in k.ext for k in KINDS.values())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_encoding_is_deterministic(kind: str, figure: Image.Image, files: dict[str, bytes]) -> None:
    assert encode_image(figure, kind) == files[kind]


DECODABLE = {OK, reasons.IMAGE_BLANK}  # the blank kind is a valid image the filters drop


@pytest.mark.parametrize("kind", sorted(k for k, v in KINDS.items() if v.expected in DECODABLE))
def test_ok_kinds_decode_with_pillow(kind: str, files: dict[str, bytes]) -> None:
    with Image.open(io.BytesIO(files[kind])) as img:
        img.load()
        assert sorted(img.size) == sorted((WIDTH, HEIGHT))


@pytest.mark.parametrize("kind", ["truncated_jpeg", "truncated_png"])
def test_truncated_kinds_fail_to_load(kind: str, files: dict[str, bytes]) -> None:
    whole = encode_image(render_figure(11, WIDTH, HEIGHT), kind.removeprefix("truncated_"))
    assert whole.startswith(files[kind])
    assert 0.55 < len(files[kind]) / len(whole) < 0.65
    with Image.open(io.BytesIO(files[kind])) as img, pytest.raises(OSError, match="truncated"):
        img.load()


@pytest.mark.parametrize("kind", ["not_image", "not_image_xlsx", "svg"])
def test_non_raster_kinds_are_not_identified(kind: str, files: dict[str, bytes]) -> None:
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(files[kind]))


def test_bomb_declares_huge_size_in_a_tiny_file(files: dict[str, bytes]) -> None:
    data = files["bomb_png"]
    assert len(data) < 2048
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (30_000, 30_000)
    with pytest.raises(Image.DecompressionBombError):  # Pillow's own guard agrees
        Image.open(io.BytesIO(data))


def _opened(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_modes_and_containers_are_the_advertised_ones(files: dict[str, bytes]) -> None:
    expect = {
        "jpeg_cmyk": ("JPEG", "CMYK"),
        "png_palette_alpha": ("PNG", "P"),
        "png_16bit": ("PNG", "I;16"),
        "png_la": ("PNG", "LA"),
        "tiff_16bit": ("TIFF", "I;16"),
        "tiff_1bit": ("TIFF", "1"),
        "tiff_cmyk": ("TIFF", "CMYK"),
        "webp": ("WEBP", "RGB"),
        "bmp": ("BMP", "RGB"),
        "jpeg_ycck": ("JPEG", "CMYK"),
        "jpeg_cmyk_no_adobe": ("JPEG", "CMYK"),
        "jpeg_adobe_rgb": ("JPEG", "RGB"),
        "png_palette": ("PNG", "P"),
        "png_rgb16": ("PNG", "RGB"),
        "blank": ("JPEG", "RGB"),
    }
    for kind, (fmt, mode) in expect.items():
        img = _opened(files[kind])
        assert (img.format, img.mode) == (fmt, mode), kind
    assert "adobe" in _opened(files["jpeg_cmyk"]).info
    assert _opened(files["jpeg_progressive"]).info.get("progressive")
    assert _opened(files["gif_animated"]).n_frames > 1
    assert _opened(files["tiff_multipage"]).n_frames > 1
    compression = {
        k: _opened(files[k]).info["compression"] for k in ("tiff_lzw", "tiff_deflate", "tiff_jpeg")
    }
    assert compression == {"tiff_lzw": "tiff_lzw", "tiff_deflate": "tiff_adobe_deflate", "tiff_jpeg": "jpeg"}


def test_16bit_kinds_use_the_full_range(files: dict[str, bytes]) -> None:
    # Really full: more than the tails that pmc15m.image.highdepth trims sit at 0 and at 65535,
    # so mapping them by the range they use gives exactly the 8-bit figure back.
    for kind in ("png_16bit", "tiff_16bit"):
        arr = np.asarray(_opened(files[kind]))
        assert arr.min() == 0 and arr.max() == 65535, kind
        assert min((arr == 0).mean(), (arr == 65535).mean()) > 1 / TRIM_ONE_IN, kind


def test_exif_rotated_stores_a_quarter_turn(files: dict[str, bytes]) -> None:
    img = _opened(files["jpeg_exif_rotated"])
    assert img.size == (HEIGHT, WIDTH)
    assert img.getexif()[EXIF_ORIENTATION_TAG] == EXIF_ROTATE_CW


@pytest.mark.parametrize("kind", ["png_palette_alpha", "png_la", "png_rgba", "gif_transparent"])
def test_alpha_kinds_are_transparent_over_black_in_the_box(kind: str, files: dict[str, bytes]) -> None:
    rgba = np.asarray(_opened(files[kind]).convert("RGBA"))
    x0, y0, x1, y1 = transparent_box(WIDTH, HEIGHT)
    assert (rgba[y0:y1, x0:x1, 3] == 0).all()
    assert (rgba[y0:y1, x0:x1, :3] == 0).all()
    assert rgba[y1:, x1:, 3].min() == 255


def test_unknown_kind_is_an_error(figure: Image.Image) -> None:
    with pytest.raises(ValueError, match="unknown image file kind"):
        encode_image(figure, "jpeg_xl")


def test_render_is_deterministic_and_sized() -> None:
    a, b = render_figure(5, 333, 222), render_figure(5, 333, 222)
    assert a.mode == "RGB" and a.size == (333, 222)
    assert a.tobytes() == b.tobytes()
    assert render_figure(6, 333, 222).tobytes() != a.tobytes()
    assert render_figure(7, 3, 2).size == (3, 2)
    with pytest.raises(ValueError):
        render_figure(1, 0, 10)


def test_different_seeds_hash_far_apart() -> None:
    hashes = [imagehash.phash(render_figure(seed, 400, 300)) for seed in range(20)]
    closest = min(a - b for a, b in itertools.combinations(hashes, 2))
    assert closest > 16


def test_near_duplicates_hash_close() -> None:
    for seed in range(20):
        img = render_figure(seed, 500, 400)
        copy = near_duplicate(img, seed + 1000)
        assert copy.mode == "RGB"
        assert abs(copy.width / img.width - 1) < 0.2
        assert copy.tobytes() == near_duplicate(img, seed + 1000).tobytes()
        assert imagehash.phash(img) - imagehash.phash(copy) <= 8, seed


# ------------------------------------------------------------------ the awkward variants


def test_jpeg_variants_carry_the_markers_that_make_them_awkward(files: dict[str, bytes]) -> None:
    assert "adobe" in _opened(files["jpeg_cmyk"]).info
    ycck = _opened(files["jpeg_ycck"])
    assert ycck.info["adobe_transform"] == 2  # YCCK: only this flag tells a decoder
    assert "adobe" not in _opened(files["jpeg_cmyk_no_adobe"]).info
    with pytest.raises(SyntaxError, match="12-bit"):
        JpegImagePlugin.JpegImageFile(io.BytesIO(files["jpeg_12bit"]))


@pytest.mark.parametrize("kind", ["jpeg_ycck", "jpeg_cmyk_no_adobe"])
def test_cmyk_variants_hold_the_figure(kind: str, files: dict[str, bytes], figure: Image.Image) -> None:
    cmyk = np.asarray(figure.convert("CMYK"), dtype=np.float64)
    decoded = np.asarray(_opened(files[kind]), dtype=np.float64)
    if kind == "jpeg_cmyk_no_adobe":  # Pillow reads every CMYK JPEG as Adobe-inverted
        decoded = 255 - decoded
    assert np.abs(decoded - cmyk).mean() < 3


def test_png_rgb16_is_a_real_16_bit_file(files: dict[str, bytes], figure: Image.Image) -> None:
    data = files["png_rgb16"]
    assert data[24:26] == bytes([16, 2])  # IHDR bit depth and colour type (RGB)
    assert np.array_equal(np.asarray(_opened(data)), np.asarray(figure))


def test_adobe_rgb_kind_embeds_its_profile(files: dict[str, bytes], figure: Image.Image) -> None:
    img = _opened(files["jpeg_adobe_rgb"])
    profile = ImageCms.ImageCmsProfile(io.BytesIO(img.info["icc_profile"]))
    assert "Adobe RGB" in ImageCms.getProfileDescription(profile)
    back = ImageCms.profileToProfile(img, profile, ImageCms.createProfile("sRGB"))
    assert np.abs(np.asarray(back, dtype=np.float64) - np.asarray(figure, dtype=np.float64)).mean() < 4


def test_rgb_matrix_profile_is_a_working_colour_space() -> None:
    data = rgb_matrix_profile("test space")
    assert struct.unpack(">I", data[:4])[0] == len(data) and data[36:40] == b"acsp"
    wide = ImageCms.ImageCmsProfile(io.BytesIO(data))
    srgb = ImageCms.createProfile("sRGB")
    green = Image.new("RGB", (1, 1), (0, 255, 0))
    in_wide = ImageCms.profileToProfile(green, srgb, wide).getpixel((0, 0))
    # The published Adobe RGB (1998) coordinates of sRGB's pure green and red.
    assert in_wide == pytest.approx((144, 255, 60), abs=3)
    red = ImageCms.profileToProfile(Image.new("RGB", (1, 1), (255, 0, 0)), srgb, wide).getpixel((0, 0))
    assert red == pytest.approx((219, 0, 0), abs=3)
    assert ImageCms.profileToProfile(ImageCms.profileToProfile(green, srgb, wide), wide, srgb).getpixel(
        (0, 0)
    ) == pytest.approx((0, 255, 0), abs=3)
    assert rgb_matrix_profile("test space") == data


def test_blank_kind_is_near_uniform(files: dict[str, bytes]) -> None:
    gray = np.asarray(_opened(files["blank"]).convert("L"), dtype=np.float64)
    assert 240 < gray.mean() < 255 and 0.3 < gray.std() < 2


_ALL_KINDS_DIGEST = """
import hashlib, json
from pmc15m.corpus.imagefiles import KINDS, encode_image, render_figure
figures = [render_figure(seed, 301 + seed * 7, 203 + seed * 5) for seed in range(4)]
print(json.dumps({k: [hashlib.sha256(encode_image(f, k)).hexdigest() for f in figures] for k in KINDS}))
"""


def test_every_kind_encodes_identically_in_other_processes() -> None:
    # TIFFs through libtiff once kept a stray heap byte where libtiff skips to a word
    # boundary (odd-length strips: these sizes make some), so bytes differed per process.
    runs = [
        subprocess.Popen([sys.executable, "-c", _ALL_KINDS_DIGEST], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    first, second = (json.loads(run.communicate(timeout=120)[0]) for run in runs)
    _ = [bytearray(b"\xab" * 65536) for _ in range(64)]  # leave dirty memory behind here
    figure = render_figure(1, 308, 208)
    here = {kind: hashlib.sha256(encode_image(figure, kind)).hexdigest() for kind in KINDS}
    assert first == second
    assert {kind: digests[1] for kind, digests in first.items()} == here


def _tag_values(data: bytes, ifd: int, tag: int) -> list[int]:
    """The SHORT or LONG values of ``tag`` in a little-endian TIFF directory."""
    (count,) = struct.unpack_from("<H", data, ifd)
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        found, kind, n = struct.unpack_from("<HHI", data, entry)
        if found == tag:
            code = {3: "H", 4: "I"}[kind]
            where = (
                entry + 8 if struct.calcsize(code) * n <= 4 else struct.unpack_from("<I", data, entry + 8)[0]
            )
            return list(struct.unpack_from(f"<{n}{code}", data, where))
    raise KeyError(tag)


def test_tiff_padding_is_zero_even_with_dirty_memory() -> None:
    # libtiff writes the strips, skips to a word boundary, then writes the directory.
    _ = [bytearray(b"\xab" * 65536) for _ in range(256)]
    del _
    gaps = []
    for seed in range(12):
        figure = render_figure(seed, 101 + seed * 13, 77 + seed * 7)
        for kind in ("tiff_lzw", "tiff_deflate"):
            data = encode_image(figure, kind)
            (ifd,) = struct.unpack_from("<I", data, 4)
            offsets, counts = _tag_values(data, ifd, 273), _tag_values(data, ifd, 279)
            gaps.append(data[max(o + c for o, c in zip(offsets, counts, strict=True)) : ifd])
    assert sum(len(gap) == 1 for gap in gaps) >= 3  # odd-length strips did occur
    assert all(gap == b"\0" * len(gap) for gap in gaps)


def test_sparse_plots_and_blank_pages_render_deterministically() -> None:
    plot = render_sparse_plot(1, 600, 400, line_width=2, n_lines=2)
    assert plot.mode == "RGB" and plot.size == (600, 400)
    assert plot.tobytes() == render_sparse_plot(1, 600, 400, line_width=2, n_lines=2).tobytes()
    gray = np.asarray(plot.convert("L"))
    assert 0.9 < (gray == 255).mean() < 0.999  # mostly white, with lines
    page = np.asarray(render_near_uniform(2, 200, 100, level=240, noise=2.0, gradient=10).convert("L"))
    assert abs(page[:, :20].mean() - 239.5) < 1.5 and abs(page[:, -20:].mean() - 230.5) < 1.5
    assert 1.5 < (page - page.mean(axis=0)).std() < 2.5
    with pytest.raises(ValueError):
        render_sparse_plot(0, 4, 4)
