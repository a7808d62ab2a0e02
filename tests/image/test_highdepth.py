"""pmc15m.image.highdepth: 12-bit-in-16, 32-bit and float figures map to 8 bits by their range.

Every file is written here by code: 16-bit colour PNGs and TIFFs by hand (Pillow cannot
write them), the rest with Pillow.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from pmc15m.core import reasons
from pmc15m.core.config import FilterConfig, ImageConfig
from pmc15m.core.record import Sample
from pmc15m.corpus.imagefiles import OK
from pmc15m.image.decode import load_pixels, open_image, to_working_mode
from pmc15m.image.highdepth import grey_to_8bit, source_mode
from pmc15m.image.process import ImageRejected, ProcessedImage, process_image
from pmc15m.rules.filters import IMAGE_RULES, first_rejection

FULL = ImageConfig(resize_mode="none")
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
PNG_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type: grey, LA, RGB, RGBA


def micrograph(seed: int, shape: tuple[int, ...], lo: int = 0, hi: int = 4095) -> np.ndarray:
    """Smooth blobs on a dim background plus noise, spanning exactly lo..hi (uint16)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    stack = rng.normal(0, 0.03, (*shape[:2], shape[2] if len(shape) > 2 else 1))
    for plane in np.moveaxis(stack, -1, 0):  # views: each channel gets its own blobs
        for cy, cx, radius, gain in rng.uniform((0, 0, 3, 0.2), (*shape[:2], shape[1] / 5, 1), (10, 4)):
            plane += gain * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius**2))
    stack = (stack - stack.min()) / (stack.max() - stack.min())
    return np.round(lo + stack.reshape(shape) * (hi - lo)).astype(np.uint16)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png16(arr: np.ndarray, interlace: bool = False, trns: bytes = b"") -> bytes:
    """A 16-bit PNG of ``arr`` (H x W x 1..4 channels), Adam7-interlaced if asked (5 x 5 up)."""
    height, width = arr.shape[:2]
    rows = b""
    for x0, y0, dx, dy in ADAM7 if interlace else ((0, 0, 1, 1),):
        sub = arr[y0::dy, x0::dx].astype(">u2")
        rows += b"".join(b"\x00" + row.tobytes() for row in sub.reshape(len(sub), -1))
    colour = PNG_TYPES[1 if arr.ndim == 2 else arr.shape[2]]
    header = struct.pack(">IIBBBBB", width, height, 16, colour, 0, 0, int(interlace))
    extra = _chunk(b"tRNS", trns) if trns else b""
    body = _chunk(b"IHDR", header) + extra + _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def tiff16(arr: np.ndarray, order: str = "<", deflate: bool = False, extra: int | None = None) -> bytes:
    """A one-strip TIFF of 16-bit samples (deflate: decoded by libtiff, else by Pillow).

    The directory comes first, so cutting the file short cuts the pixel data.
    """
    height, width, channels = arr.shape
    data = arr.astype(order + "u2").tobytes()
    data = zlib.compress(data) if deflate else data
    short = {256: width, 257: height, 259: 8 if deflate else 1, 262: 2 if channels >= 3 else 1}
    short |= {277: channels, 278: height, 284: 1} | ({338: extra} if extra is not None else {})
    n_entries = len(short) + 3
    bps_at = 8 + 2 + 12 * n_entries + 4
    strip_at = bps_at + 2 * channels
    entries = [(tag, 3, 1, struct.pack(order + "HH", value, 0)) for tag, value in short.items()]
    for tag, count, value in ((258, channels, bps_at), (273, 1, strip_at), (279, 1, len(data))):
        entries.append((tag, 3 if tag == 258 else 4, count, struct.pack(order + "I", value)))
    ifd = struct.pack(order + "H", n_entries)
    for tag, kind, count, value in sorted(entries):
        ifd += struct.pack(order + "HHI", tag, kind, count) + value
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", 8)
    return head + ifd + b"\0\0\0\0" + struct.pack(order + f"{channels}H", *[16] * channels) + data


def pillow_tiff(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "TIFF")
    return buf.getvalue()


def outcome(result: ProcessedImage) -> str:
    """What the build's image rules make of a decoded figure."""
    size = {"src_width": result.src_width, "src_height": result.src_height}
    sample = Sample(key="PMC1_1_F1", pmcid="PMC1", version=1, pixel_std=result.pixel_std, **size)
    return first_rejection(sample, IMAGE_RULES, FilterConfig()) or OK


def working(data: bytes) -> np.ndarray:
    """The 8-bit pixels before resizing and encoding (exact, unlike the stored JPEG)."""
    return np.asarray(to_working_mode(load_pixels(open_image(data))))


def assert_monotone(source: np.ndarray, mapped: np.ndarray) -> None:
    order = np.argsort(source.ravel(), kind="stable")
    assert (np.diff(mapped.ravel()[order].astype(int)) >= 0).all()


def decoded(result: ProcessedImage) -> np.ndarray:
    with Image.open(io.BytesIO(result.data)) as img:
        return np.asarray(img.convert("L"), dtype=np.float64)


# ------------------------------------------------------------------ what Pillow does


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        (png16(micrograph(1, (40, 50, 3))), "RGB"),
        (png16(micrograph(1, (40, 50, 4))), "RGBA"),
        (png16(micrograph(1, (40, 50, 2))), "RGBA"),  # grey+alpha read as RGBA
        (tiff16(micrograph(1, (40, 50, 3))), "RGB"),
        (tiff16(micrograph(1, (40, 50, 3)), ">", deflate=True), "RGB"),
    ],
)
def test_pillow_keeps_only_the_high_byte_of_16_bit_colour(data: bytes, mode: str) -> None:
    # Why WideColour exists: if Pillow ever keeps all 16 bits, this fails; revisit then.
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.mode == mode and np.asarray(img)[..., :-1].max() <= 4095 >> 8


def test_pillow_keeps_16_bit_grey_whole() -> None:
    arr = micrograph(2, (30, 40))
    for data in (png16(arr), pillow_tiff(arr)):
        assert (img := Image.open(io.BytesIO(data))).mode == "I;16" and np.array_equal(np.asarray(img), arr)


# ------------------------------------------------------------------ the mapping rule


def grey(arr: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings either
        return np.asarray(grey_to_8bit(Image.fromarray(arr)))


def test_full_range_maps_as_the_declared_depth() -> None:
    levels = np.arange(256, dtype=np.uint16).reshape(16, 16)
    assert np.array_equal(grey(levels * 257), levels)
    arr = np.random.default_rng(3).integers(0, 65536, (200, 200)).astype(np.uint16)
    arr[:2], arr[-2:] = 0, 65535  # really reaches both ends, beyond the trimmed 0.01%
    assert np.array_equal(grey(arr), (arr.astype(np.uint32) * 255 + 32767) // 65535)


@pytest.mark.parametrize(("lo", "hi"), [(0, 4095), (1000, 1400), (300, 1023)])
def test_narrow_integer_ranges_stretch_to_0_255(lo: int, hi: int) -> None:
    arr = micrograph(4, (120, 160), lo, hi)
    arr[:2, :5], arr[-2:, -5:] = lo, hi  # more than the trimmed 0.01% at each end
    out = grey(arr)
    assert out.min() == 0 and out.max() == 255
    assert_monotone(arr, out)
    ideal = (arr - lo) * 255.0 / (hi - lo)
    assert np.abs(out - ideal).max() <= 0.5 + 1e-9


def test_a_hot_pixel_does_not_squeeze_the_image() -> None:
    arr = micrograph(5, (200, 200), 1000, 1400)
    clean = grey(arr).astype(int)
    arr[17, 31] = 65535
    out = grey(arr).astype(int)
    assert out[17, 31] == 255
    out[17, 31] = clean[17, 31]
    assert np.abs(out - clean).max() <= 1 and out.std() > 30


def test_noise_is_not_magnified_into_a_texture() -> None:
    # An empty page at 16 bits: a few levels of noise stay a few levels, so it stays blank.
    arr = (20_000 + np.random.default_rng(6).integers(-1, 2, (100, 100))).astype(np.uint16)
    out = grey(arr).astype(int)
    assert np.array_equal(out - out.min(), arr - arr.min())
    assert out.std() < FilterConfig().min_pixel_std
    floats = np.full((100, 100), 0.7, np.float32)
    floats[::2] = np.nextafter(np.float32(0.7), np.float32(1))  # one float32 step apart
    assert np.ptp(grey(floats)) == 1


def test_constant_images_stay_constant() -> None:
    for value, dtype in ((4000, np.uint16), (-7, np.int32), (2.5, np.float32), (0, np.float32)):
        assert grey(np.full((50, 60), value, dtype)).std() == 0


def test_float_with_nan_and_inf() -> None:
    arr = micrograph(7, (100, 100)).astype(np.float32) / 4095 - 0.25
    arr[0, :5] = np.nan
    arr[1, 0], arr[1, 1] = np.inf, -np.inf
    out = grey(arr)
    assert (out[0, :5] == 0).all() and out[1, 0] == 255 and out[1, 1] == 0
    assert out.min() == 0 and out.max() == 255
    finite = np.isfinite(arr)
    assert_monotone(arr[finite], out[finite])
    assert grey(np.full((4, 4), np.nan, np.float32)).max() == 0


def test_wide_and_negative_integers() -> None:
    arr = micrograph(8, (80, 90)).astype(np.int32) * 100_000 - 200_000_000
    out = grey(arr)
    assert out.min() == 0 and out.max() == 255
    assert_monotone(arr, out)


# ------------------------------------------------------------------ whole files


def _grey_files(arr: np.ndarray) -> dict[str, bytes]:
    return {
        "png": png16(arr),
        "png_interlaced": png16(arr, interlace=True),
        "tiff": pillow_tiff(arr),
        "tiff_int32": pillow_tiff(arr.astype(np.int32) * 1000 - 5000),
        "tiff_float": pillow_tiff(arr.astype(np.float32) / 4095),
    }


def _colour_files(arr: np.ndarray) -> dict[str, bytes]:
    alpha = np.full((*arr.shape[:2], 1), 65535, np.uint16)
    return {
        "png_rgb": png16(arr),
        "png_rgb_interlaced": png16(arr, interlace=True),
        "png_rgba": png16(np.dstack((arr, alpha))),
        "tiff_rgb": tiff16(arr),
        "tiff_rgb_be_deflate": tiff16(arr, ">", deflate=True),
        "tiff_rgba": tiff16(np.dstack((arr, alpha)), extra=2),
        "tiff_rgbx_deflate": tiff16(np.dstack((arr, alpha)), deflate=True, extra=0),
    }


GREY_KINDS = ("png", "png_interlaced", "tiff", "tiff_int32", "tiff_float")
COLOUR_KINDS = ("png_rgb", "png_rgb_interlaced", "png_rgba", "tiff_rgb", "tiff_rgb_be_deflate", "tiff_rgba")


@pytest.mark.parametrize(("lo", "hi"), [(0, 4095), (1000, 1400)])
@pytest.mark.parametrize("kind", [*GREY_KINDS, *COLOUR_KINDS, "tiff_rgbx_deflate"])
def test_12_bit_figures_are_kept_with_full_contrast(kind: str, lo: int, hi: int) -> None:
    colour = kind not in GREY_KINDS
    arr = micrograph(9, (180, 240, 3) if colour else (180, 240), lo, hi)
    data = (_colour_files if colour else _grey_files)(arr)[kind]
    result = process_image(data, FULL)
    assert outcome(result) == OK and result.pixel_std > 25
    pixels = working(data)[..., :3] if colour else working(data)
    assert pixels.min() == 0 and pixels.max() == 255  # the range used, not 0..65535
    assert_monotone(arr, pixels)
    stored = decoded(result)
    assert np.percentile(stored, 99) - np.percentile(stored, 1) > 100  # 16-bit: 16 at most before


def test_colour_channels_share_one_range() -> None:
    arr = micrograph(10, (60, 80, 3), 1000, 1400)
    arr[..., 2] = arr[..., 2] // 2 + 500  # blue dimmer than the rest: it must stay dimmer
    pixels = working(png16(arr))
    assert pixels[..., 2].max() < 180 < pixels[..., 0].max()


def test_16_bit_grey_alpha_png_keeps_grey_and_alpha() -> None:
    arr = micrograph(11, (60, 80))
    alpha = np.full_like(arr, 65535)
    alpha[:20] = 0
    pixels = working(png16(np.dstack((arr, alpha))))
    assert pixels.shape == (60, 80, 2) and (pixels[:20, :, 1] == 0).all() and (pixels[20:, :, 1] == 255).all()
    assert_monotone(arr, pixels[..., 0])
    stored = decoded(process_image(png16(np.dstack((arr, alpha))), FULL))
    assert stored[2:18].min() > 245  # transparent rows composited on white


def test_transparency_key_of_16_bit_pngs() -> None:
    arr = micrograph(12, (40, 50, 3))
    arr[:10] = (1, 2, 3)
    rgb = decoded(process_image(png16(arr, trns=struct.pack(">3H", 1, 2, 3)), FULL))
    grey_arr = arr[..., 0]
    l_img = decoded(process_image(png16(grey_arr, trns=struct.pack(">H", 1)), FULL))
    for pixels in (rgb, l_img):
        assert pixels[:8].min() > 245 and pixels[12:].min() < 60


def test_full_range_16_bit_colour_matches_its_8_bit_original() -> None:
    arr = np.random.default_rng(13).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    arr[:2], arr[-2:] = 0, 255
    eight = io.BytesIO()
    Image.fromarray(arr).save(eight, "PNG")
    wide = arr.astype(np.uint16) * 257
    for data in (png16(wide), tiff16(wide), tiff16(wide, ">", deflate=True)):
        assert process_image(data, FULL).pixel_sha256 == process_image(eight.getvalue(), FULL).pixel_sha256


@pytest.mark.parametrize("shape", [(100, 100), (100, 100, 3)])
def test_constant_16_bit_image_is_blank_not_an_error(shape: tuple[int, ...]) -> None:
    result = process_image(png16(np.full(shape, 3000, np.uint16)), FULL)
    assert result.pixel_std == 0 and outcome(result) == reasons.IMAGE_BLANK


def test_source_mode_names_the_depth() -> None:
    expect = {(40, 50, 3): "RGB;16", (40, 50, 4): "RGBA;16", (40, 50, 2): "LA;16", (40, 50): "I;16"}
    for shape, mode in expect.items():
        assert source_mode(open_image(png16(micrograph(14, shape)))) == mode
    assert source_mode(open_image(tiff16(micrograph(14, (40, 50, 3)), ">", deflate=True))) == "RGB;16"
    assert process_image(png16(micrograph(14, (40, 50, 3))), FULL).src_mode == "RGB;16"  # the depth, honestly


def test_16_bit_colour_keeps_the_pixel_limit_and_damage_checks() -> None:
    arr = micrograph(16, (120, 160, 3))
    for data in (png16(arr), tiff16(arr), tiff16(arr, ">", deflate=True)):
        with pytest.raises(ImageRejected) as info:
            process_image(data, ImageConfig(max_pixels=120 * 159))  # refused before decoding
        assert info.value.reason == reasons.IMAGE_TOO_LARGE
        with pytest.raises(ImageRejected) as info:
            process_image(data[: len(data) * 6 // 10], FULL)
        assert info.value.reason == reasons.IMAGE_TRUNCATED


def test_premultiplied_16_bit_tiff_is_left_to_pillow() -> None:
    # Pillow un-premultiplies from the high bytes; no second decode could undo that.
    data = tiff16(micrograph(17, (64, 64, 4), 0, 65535), extra=1)
    assert source_mode(open_image(data)) == "RGBA"
    assert outcome(process_image(data, FULL)) == OK
