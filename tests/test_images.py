"""pmc15m.images: every figure file kind ends decoded as expected or rejected with its reason."""

from __future__ import annotations

import dataclasses
import io
import itertools
import struct
import time
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from pmc15m import reasons
from pmc15m.config import ImageConfig
from pmc15m.corpus.imagefiles import KINDS, OK, encode_image, near_duplicate, render_figure, transparent_box
from pmc15m.images import (
    ImageRejected,
    ProcessedImage,
    output_size,
    process_image,
    process_image_straightforward,
)

WIDTH, HEIGHT = 640, 480
CONFIG = ImageConfig(max_side=256)


@pytest.fixture(scope="module")
def figure() -> Image.Image:
    return render_figure(3, WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def files(figure: Image.Image) -> dict[str, bytes]:
    return {kind: encode_image(figure, kind) for kind in KINDS}


def decode(result: ProcessedImage) -> np.ndarray:
    with Image.open(io.BytesIO(result.data)) as img:
        assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (result.width, result.height))
        return np.asarray(img, dtype=np.float64)


def reference(figure: Image.Image, size: tuple[int, int], gray: bool = False) -> np.ndarray:
    img = figure.convert("L").convert("RGB") if gray else figure.convert("RGB")
    return np.asarray(img.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)


GRAY_KINDS = {"jpeg_gray", "png_la", "png_16bit", "tiff_16bit", "tiff_1bit"}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def rejection(data: bytes, config: ImageConfig = CONFIG) -> str:
    with pytest.raises(ImageRejected) as info:
        process_image(data, config)
    return info.value.reason


# ------------------------------------------------------------------ every kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_decoded_or_rejected_as_expected(kind: str, files: dict[str, bytes], figure) -> None:
    data = files[kind]
    if KINDS[kind].expected != OK:
        assert rejection(data) == KINDS[kind].expected
        return
    result = process_image(data, CONFIG)
    pixels = decode(result)
    assert (result.width, result.height) == (256, 192)
    assert (result.src_width, result.src_height) == (WIDTH, HEIGHT)
    assert result.src_bytes == len(data)
    assert len(result.src_sha256) == 64 and len(result.phash) == 16
    int(result.phash, 16)
    # Content survives: close to a plain resize of the figure (alpha kinds differ in one box).
    _, _, x1, y1 = transparent_box(256, 192)
    mask = np.ones(pixels.shape[:2], dtype=bool)
    mask[: y1 + 2, : x1 + 2] = False
    error = np.abs(pixels - reference(figure, (256, 192), kind in GRAY_KINDS))[mask].mean(axis=-1)
    assert error.mean() < 12, f"{kind}: mean abs error {error.mean():.1f}"


@pytest.mark.parametrize("kind", ["jpeg", "png_palette_alpha", "tiff_cmyk", "webp"])
def test_output_is_deterministic(kind: str, files: dict[str, bytes]) -> None:
    assert process_image(files[kind], CONFIG) == process_image(files[kind], CONFIG)


def test_source_facts(files: dict[str, bytes]) -> None:
    import hashlib

    result = process_image(files["tiff_cmyk"], CONFIG)
    assert (result.src_format, result.src_mode) == ("TIFF", "CMYK")
    assert result.src_sha256 == hashlib.sha256(files["tiff_cmyk"]).hexdigest()
    assert process_image(files["png_16bit"], CONFIG).src_mode == "I;16"


def test_output_carries_no_metadata(files: dict[str, bytes]) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    Image.open(io.BytesIO(files["jpeg_exif_rotated"])).save(
        buf, "JPEG", exif=Image.open(io.BytesIO(files["jpeg_exif_rotated"])).info["exif"], icc_profile=srgb
    )
    out = Image.open(io.BytesIO(process_image(buf.getvalue(), CONFIG).data))
    assert "exif" not in out.info and "icc_profile" not in out.info


# ------------------------------------------------------------------ conversions


def test_exif_rotation_is_applied(files: dict[str, bytes], figure: Image.Image) -> None:
    data = files["jpeg_exif_rotated"]
    assert Image.open(io.BytesIO(data)).size == (HEIGHT, WIDTH)  # as stored
    result = process_image(data, CONFIG)
    assert (result.width, result.height) == (256, 192)  # as displayed
    assert (result.src_width, result.src_height) == (WIDTH, HEIGHT)
    assert psnr(decode(result), reference(figure, (256, 192))) > 25


@pytest.mark.parametrize("kind", ["png_palette_alpha", "png_la", "png_rgba", "gif_transparent"])
def test_transparency_is_composited_on_white(kind: str, files: dict[str, bytes]) -> None:
    pixels = decode(process_image(files[kind], ImageConfig(resize_mode="none")))
    x0, y0, x1, y1 = transparent_box(WIDTH, HEIGHT)
    inside = pixels[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
    assert inside.min() > 240, f"{kind}: transparent area not white"


@pytest.mark.parametrize("kind", ["png_16bit", "tiff_16bit"])
def test_16bit_is_scaled_not_clipped(kind: str, files: dict[str, bytes], figure: Image.Image) -> None:
    pixels = decode(process_image(files[kind], ImageConfig(resize_mode="none")))
    original = np.asarray(figure.convert("L"), dtype=np.float64)
    assert abs(pixels.mean() - original.mean()) < 2
    assert pixels.max(axis=-1).mean() < 250  # not blown out to white


def test_cmyk_colours_survive(files: dict[str, bytes], figure: Image.Image) -> None:
    expected = reference(figure, (256, 192))
    for kind in ("jpeg_cmyk", "jpeg_cmyk_bad_icc", "tiff_cmyk"):
        assert psnr(decode(process_image(files[kind], CONFIG)), expected) > 25, kind


def test_broken_icc_profile_falls_back_to_plain_conversion(files: dict[str, bytes]) -> None:
    plain = process_image(files["jpeg_cmyk"], CONFIG)
    assert "icc_profile" in Image.open(io.BytesIO(files["jpeg_cmyk_bad_icc"])).info
    assert process_image(files["jpeg_cmyk_bad_icc"], CONFIG).data == plain.data


def test_non_srgb_rgb_profile_is_converted(files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    from pmc15m import imagedecode

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf, untagged = io.BytesIO(), io.BytesIO()
    Image.open(io.BytesIO(files["jpeg"])).save(buf, "JPEG", quality=90, icc_profile=srgb)
    Image.open(io.BytesIO(files["jpeg"])).save(untagged, "JPEG", quality=90)
    plain = process_image(buf.getvalue(), CONFIG)  # tagged sRGB: left alone
    assert plain.data == process_image(untagged.getvalue(), CONFIG).data
    # Pretend the profile is another RGB space: the transform path runs (sRGB to sRGB here).
    monkeypatch.setattr(ImageCms, "getProfileDescription", lambda profile: "Display P3")
    imagedecode._to_srgb_transform.cache_clear()
    try:
        managed = process_image(buf.getvalue(), CONFIG)
    finally:
        imagedecode._to_srgb_transform.cache_clear()
    assert imagedecode._to_srgb_transform(srgb, "RGB") is not None
    assert psnr(decode(managed), decode(plain)) > 35
    imagedecode._to_srgb_transform.cache_clear()


def test_one_bit_becomes_smooth_grey(files: dict[str, bytes]) -> None:
    # Converted to grey before resizing, so the dither averages out instead of aliasing.
    pixels = decode(process_image(files["tiff_1bit"], CONFIG))
    assert len(np.unique(pixels)) > 32


def test_multi_frame_files_give_the_first_frame(files: dict[str, bytes]) -> None:
    first = process_image(files["png"], CONFIG).phash
    for kind in ("gif_animated", "tiff_multipage"):
        assert _hamming(process_image(files[kind], CONFIG).phash, first) <= 4, kind


# ------------------------------------------------------------------ resizing


def test_output_size_modes() -> None:
    assert output_size(1200, 900, ImageConfig(max_side=512)) == (512, 384)
    assert output_size(900, 1200, ImageConfig(max_side=512, resize_mode="shortest")) == (512, 683)
    assert output_size(1200, 900, ImageConfig(max_side=512, resize_mode="none")) == (1200, 900)
    assert output_size(200, 150, ImageConfig(max_side=512)) == (200, 150)
    assert output_size(200, 150, ImageConfig(max_side=512, upscale=True)) == (512, 384)
    assert output_size(10_000, 5, ImageConfig(max_side=512)) == (512, 1)


@pytest.mark.parametrize(
    ("config", "size"),
    [
        (ImageConfig(max_side=320), (320, 240)),
        (ImageConfig(max_side=320, resize_mode="shortest"), (427, 320)),
        (ImageConfig(max_side=320, resize_mode="none"), (WIDTH, HEIGHT)),
        (ImageConfig(max_side=1024), (WIDTH, HEIGHT)),  # never upscales by default
        (ImageConfig(max_side=1024, upscale=True), (1024, 768)),
    ],
)
def test_resize_modes(config: ImageConfig, size: tuple[int, int], files: dict[str, bytes]) -> None:
    for kind in ("jpeg", "png"):
        result = process_image(files[kind], config)
        assert (result.width, result.height) == size


def test_webp_output(files: dict[str, bytes]) -> None:
    config = ImageConfig(max_side=256, output_format="webp")
    result = process_image(files["jpeg"], config)
    assert Image.open(io.BytesIO(result.data)).format == "WEBP"
    assert process_image(files["jpeg"], config).data == result.data


def test_bad_config_is_an_error_not_a_rejection(files: dict[str, bytes]) -> None:
    for bad in (ImageConfig(resize_mode="widest"), ImageConfig(output_format="png"), ImageConfig(max_side=0)):
        with pytest.raises(ValueError):
            process_image(files["jpeg"], bad)


@pytest.fixture(scope="module")
def large_jpeg() -> bytes:
    img = render_figure(21, 3200, 2400)
    noise = np.random.default_rng(0).normal(0, 12, (2400, 3200, 1))
    detailed = np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return encode_image(Image.fromarray(detailed), "jpeg")


def test_draft_path_matches_full_decode(large_jpeg: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ImageConfig(max_side=384)
    requested: list[tuple[int, int] | None] = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        requested.append(size)
        return original_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    fast = process_image(large_jpeg, config)
    assert requested == [(768, 576)]  # decoded at 1/4 scale: 800x600, still >= 2x target
    slow = process_image_straightforward(large_jpeg, config)
    assert (fast.width, fast.height) == (slow.width, slow.height) == (384, 288)
    assert psnr(decode(fast), decode(slow)) > 30
    assert _hamming(fast.phash, slow.phash) <= 4


def test_reduce_path_matches_full_resize() -> None:
    img = render_figure(22, 2400, 1800)
    data = encode_image(img, "png")  # no draft for PNG: Image.reduce does the big factor
    config = ImageConfig(max_side=300)
    fast, slow = process_image(data, config), process_image_straightforward(data, config)
    assert psnr(decode(fast), decode(slow)) > 30


# ------------------------------------------------------------------ hashing


def _hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def test_phash_matches_near_duplicates_and_separates_others() -> None:
    hashes = []
    for seed in range(20):
        img = render_figure(seed, 500, 400)
        own = process_image(encode_image(img, "jpeg"), CONFIG).phash
        copy = process_image(encode_image(near_duplicate(img, seed), "png"), CONFIG).phash
        assert _hamming(own, copy) <= 8, seed
        hashes.append(own)
    assert min(_hamming(a, b) for a, b in itertools.combinations(hashes, 2)) > 16


def test_phash_is_imagehash_compatible(files: dict[str, bytes]) -> None:
    import imagehash

    result = process_image(files["jpeg"], CONFIG)
    again = imagehash.phash(Image.open(io.BytesIO(result.data)))
    assert imagehash.hex_to_hash(result.phash) - again <= 2


# ------------------------------------------------------------------ hostile and broken input


def test_bomb_is_rejected_from_the_header(files: dict[str, bytes]) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ImageRejected) as info:
        process_image(files["bomb_png"], ImageConfig())
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.reason == reasons.IMAGE_TOO_LARGE
    assert "30000x30000" in info.value.detail
    assert elapsed < 0.1 and peak < 5_000_000


def test_pixel_limit_is_the_configured_one(files: dict[str, bytes]) -> None:
    assert rejection(files["jpeg"], ImageConfig(max_pixels=WIDTH * HEIGHT - 1)) == reasons.IMAGE_TOO_LARGE
    process_image(files["jpeg"], ImageConfig(max_pixels=WIDTH * HEIGHT))


def test_pillow_global_limit_neither_rejects_nor_warns(files, monkeypatch: pytest.MonkeyPatch) -> None:
    # Images above Pillow's (lowered) global warning limit but within ours decode quietly.
    # (Pillow's TIFF and GIF plugins still raise beyond twice that limit: see imagedecode.)
    limit = WIDTH * HEIGHT * 2 // 3
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with warnings.catch_warnings(record=True) as caught:
        for kind in ("jpeg", "png", "tiff_lzw", "gif"):
            process_image(files[kind], CONFIG)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert limit == Image.MAX_IMAGE_PIXELS  # and it was not touched


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", reasons.IMAGE_NOT_IMAGE),
        (b"plain text, not a figure", reasons.IMAGE_NOT_IMAGE),
        (b"%PDF-1.4\n1 0 obj\n", reasons.IMAGE_UNSUPPORTED),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", reasons.IMAGE_UNSUPPORTED),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 5, reasons.IMAGE_TRUNCATED),
        (_png(0, 10), reasons.IMAGE_UNSUPPORTED),
        (_png(10, 0), reasons.IMAGE_UNSUPPORTED),
    ],
)
def test_odd_bytes(data: bytes, reason: str) -> None:
    assert rejection(data) == reason


@pytest.mark.parametrize("kind", ["jpeg", "jpeg_progressive", "png", "gif", "tiff_lzw", "bmp", "webp"])
@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.9])
def test_truncation_anywhere_is_detected(kind: str, fraction: float, files: dict[str, bytes]) -> None:
    data = files[kind]
    assert rejection(data[: int(len(data) * fraction)]) == reasons.IMAGE_TRUNCATED


def test_formats_outside_the_allowlist_are_unsupported(figure: Image.Image) -> None:
    buf = io.BytesIO()
    figure.save(buf, "PCX")
    assert rejection(buf.getvalue()) == reasons.IMAGE_UNSUPPORTED


def test_rejection_carries_reason_and_detail() -> None:
    err = ImageRejected(reasons.IMAGE_TRUNCATED, "cut")
    assert (err.reason, err.detail) == (reasons.IMAGE_TRUNCATED, "cut")
    assert dataclasses.is_dataclass(ProcessedImage)
