"""The synthetic figure files: each kind really is what KINDS says it is.

The corpus generator's ground truth is only as good as these files, so every claim is
checked with Pillow directly, independently of pmc15m.images.
"""

from __future__ import annotations

import io
import itertools
import struct
import time

import imagehash
import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

from pmc15m import reasons
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


@pytest.mark.parametrize("kind", sorted(k for k, v in KINDS.items() if v.expected == OK))
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
    for kind in ("png_16bit", "tiff_16bit"):
        assert np.asarray(_opened(files[kind])).max() > 255 * 64, kind


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


def test_render_is_fast() -> None:
    render_figure(0, 1000, 800)
    start = time.perf_counter()
    for seed in range(20):
        render_figure(seed, 1000, 800)
    per_image = (time.perf_counter() - start) / 20
    assert per_image < 0.02, f"{per_image * 1000:.1f} ms per 1000x800 figure"


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
