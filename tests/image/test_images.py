"""pmc15m.image.process: every figure file kind ends decoded as expected or rejected with its reason."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import random
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, JpegImagePlugin

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig, FilterConfig, ImageConfig
from pmc15m.core.record import Sample
from pmc15m.corpus.iccprofiles import cmyk_lut_profile
from pmc15m.corpus.imagefiles import KINDS, OK, encode_image, near_duplicate, render_figure, transparent_box
from pmc15m.corpus.jpegvariants import segment
from pmc15m.image.pixelfacts import hamming
from pmc15m.image.process import (
    ImageRejected,
    ProcessedImage,
    output_size,
    process_image,
    process_image_straightforward,
)
from pmc15m.rules.filters import IMAGE_RULES, first_rejection
from pmc15m.sources.local import LocalSource
from pmc15m.stages import attach_image

WIDTH, HEIGHT = 640, 480
CONFIG = ImageConfig(max_side=256)
GRAY_KINDS = {"jpeg_gray", "png_la", "png_16bit", "tiff_16bit", "tiff_1bit"}


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


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def rejection(data: bytes, config: ImageConfig = CONFIG) -> str:
    with pytest.raises(ImageRejected) as info:
        process_image(data, config)
    return info.value.reason


def outcome(data: bytes, config: ImageConfig = CONFIG) -> str:
    """What a build makes of a file: "ok", or the reason of the decoder or of the image rules."""
    try:
        result = process_image(data, config)
    except ImageRejected as exc:
        return exc.reason
    sample = Sample(
        key="PMC1_1_F1",
        pmcid="PMC1",
        version=1,
        src_width=result.src_width,
        src_height=result.src_height,
        pixel_std=result.pixel_std,
    )
    return first_rejection(sample, IMAGE_RULES, FilterConfig()) or OK


def jpeg_bytes(img: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, **params)
    return buf.getvalue()


# ------------------------------------------------------------------ every kind


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_decoded_or_rejected_as_expected(kind: str, files: dict[str, bytes], figure) -> None:
    data = files[kind]
    assert outcome(data) == KINDS[kind].expected
    if KINDS[kind].expected != OK:
        return
    result = process_image(data, CONFIG)
    pixels = decode(result)
    assert (result.width, result.height) == (256, 192)
    assert (result.src_width, result.src_height) == (WIDTH, HEIGHT)
    assert result.src_bytes == len(data)
    assert len(result.src_sha256) == 64 and len(result.pixel_sha256) == 64 and len(result.phash) == 16
    int(result.phash, 16)
    assert result.pixel_std > 20
    # Content survives: close to a plain resize of the figure (alpha kinds differ in one box).
    _, _, x1, y1 = transparent_box(256, 192)
    mask = np.ones(pixels.shape[:2], dtype=bool)
    mask[: y1 + 2, : x1 + 2] = False
    error = np.abs(pixels - reference(figure, (256, 192), kind in GRAY_KINDS))[mask].mean(axis=-1)
    assert error.mean() < 12, f"{kind}: mean abs error {error.mean():.1f}"


@pytest.mark.parametrize("kind", ["jpeg", "png_palette_alpha", "tiff_cmyk", "webp", "jpeg_adobe_rgb"])
def test_output_is_deterministic(kind: str, files: dict[str, bytes]) -> None:
    assert process_image(files[kind], CONFIG) == process_image(files[kind], CONFIG)


_DIGESTS = """
import hashlib, json, sys
from dataclasses import replace
from pmc15m.core.config import ImageConfig
from pmc15m.corpus.imagefiles import encode_image, render_figure
from pmc15m.image.process import process_image
figure = render_figure(3, 300, 200)
out = {}
for kind in sys.argv[1].split(","):
    data = encode_image(figure, kind)
    for fmt in ("jpeg", "webp"):
        result = process_image(data, ImageConfig(max_side=128, output_format=fmt))
        out[f"{kind}/{fmt}"] = [hashlib.sha256(result.data).hexdigest(), result.pixel_sha256, result.phash]
print(json.dumps(out, sort_keys=True))
"""


def test_output_bytes_are_identical_across_processes() -> None:
    kinds = "jpeg,jpeg_ycck,png_palette_alpha,tiff_lzw,tiff_cmyk,tiff_1bit,webp,jpeg_adobe_rgb,gif"
    runs = [
        subprocess.Popen([sys.executable, "-c", _DIGESTS, kinds], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    first, second = (json.loads(run.communicate(timeout=120)[0]) for run in runs)
    assert first == second
    figure = render_figure(3, 300, 200)
    here = process_image(encode_image(figure, "tiff_lzw"), ImageConfig(max_side=128))
    assert first["tiff_lzw/jpeg"][0] == hashlib.sha256(here.data).hexdigest()
    assert first["jpeg/jpeg"][0] != first["jpeg/webp"][0] != first["tiff_cmyk/webp"][0]


def test_source_facts(files: dict[str, bytes]) -> None:
    result = process_image(files["tiff_cmyk"], CONFIG)
    assert (result.src_format, result.src_mode) == ("TIFF", "CMYK")
    assert result.src_sha256 == hashlib.sha256(files["tiff_cmyk"]).hexdigest()
    assert process_image(files["png_16bit"], CONFIG).src_mode == "I;16"


def test_output_carries_no_metadata(files: dict[str, bytes]) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = Image.open(io.BytesIO(files["jpeg_exif_rotated"]))
    data = jpeg_bytes(source, exif=source.info["exif"], icc_profile=srgb, comment=b"made by hand")
    out = Image.open(io.BytesIO(process_image(data, CONFIG).data))
    assert not {"exif", "icc_profile", "comment"} & set(out.info)


# ------------------------------------------------------------------ conversions


@pytest.mark.parametrize("value", range(1, 9))
@pytest.mark.parametrize("path", [process_image, process_image_straightforward])
def test_every_exif_orientation_is_applied(value: int, path, figure: Image.Image) -> None:
    # Store the pixels as a camera would for this orientation: the inverse of its transpose.
    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    stored = figure.transpose(inverse[value]) if value > 1 else figure
    exif = Image.Exif()
    exif[0x0112] = value
    result = path(jpeg_bytes(stored, exif=exif.tobytes()), CONFIG)
    assert (result.width, result.height, result.src_width, result.src_height) == (256, 192, WIDTH, HEIGHT)
    assert psnr(decode(result), reference(figure, (256, 192))) > 25


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_exif_orientation_outside_jpeg(fmt: str, figure: Image.Image) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    figure.transpose(Image.Transpose.ROTATE_90).save(buf, fmt, exif=exif.tobytes())
    result = process_image(buf.getvalue(), CONFIG)
    assert (result.width, result.height) == (256, 192)
    assert psnr(decode(result), reference(figure, (256, 192))) > 25


@pytest.mark.parametrize("kind", ["png_palette_alpha", "png_la", "png_rgba", "gif_transparent"])
def test_transparency_is_composited_on_white(kind: str, files: dict[str, bytes]) -> None:
    pixels = decode(process_image(files[kind], ImageConfig(resize_mode="none")))
    x0, y0, x1, y1 = transparent_box(WIDTH, HEIGHT)
    inside = pixels[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
    assert inside.min() > 240, f"{kind}: transparent area not white"


@pytest.mark.parametrize("kind", ["png_16bit", "tiff_16bit", "png_rgb16"])
def test_16bit_is_scaled_not_clipped(kind: str, files: dict[str, bytes], figure: Image.Image) -> None:
    pixels = decode(process_image(files[kind], ImageConfig(resize_mode="none")))
    original = np.asarray(figure.convert("L" if kind in GRAY_KINDS else "RGB"), dtype=np.float64)
    assert abs(pixels.mean() - original.mean()) < 2
    assert pixels.max(axis=-1).mean() < 250  # not blown out to white


@pytest.mark.parametrize(
    "kind", ["jpeg_cmyk", "jpeg_cmyk_bad_icc", "jpeg_ycck", "jpeg_cmyk_no_adobe", "tiff_cmyk"]
)
def test_cmyk_colours_survive(kind: str, files: dict[str, bytes], figure: Image.Image) -> None:
    assert psnr(decode(process_image(files[kind], CONFIG)), reference(figure, (256, 192))) > 25


def test_cmyk_without_adobe_marker_is_not_read_as_a_negative(files: dict[str, bytes], figure) -> None:
    data = files["jpeg_cmyk_no_adobe"]
    expected = np.asarray(figure, dtype=np.float64)
    as_pillow_reads_it = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)
    assert np.abs(as_pillow_reads_it - expected).mean() > 100  # the trap: Pillow assumes Adobe
    ours = decode(process_image(data, ImageConfig(resize_mode="none")))
    assert np.abs(ours - expected).mean() < 8


def test_broken_icc_profile_falls_back_to_plain_conversion(files: dict[str, bytes]) -> None:
    plain = process_image(files["jpeg_cmyk"], CONFIG)
    assert "icc_profile" in Image.open(io.BytesIO(files["jpeg_cmyk_bad_icc"])).info
    assert process_image(files["jpeg_cmyk_bad_icc"], CONFIG).data == plain.data


def _without_icc(data: bytes) -> bytes:
    pos, length = segment(data, 0xE2)  # APP2 holds the ICC profile
    assert data[pos + 4 : pos + 15] == b"ICC_PROFILE"
    return data[:pos] + data[pos + 2 + length :]


def test_embedded_rgb_profile_is_converted_to_srgb(files: dict[str, bytes], figure: Image.Image) -> None:
    data = files["jpeg_adobe_rgb"]
    expected = np.asarray(figure, dtype=np.float64)
    managed = decode(process_image(data, ImageConfig(resize_mode="none")))
    ignored = decode(process_image(_without_icc(data), ImageConfig(resize_mode="none")))
    managed_error, ignored_error = np.abs(managed - expected).mean(), np.abs(ignored - expected).mean()
    assert managed_error < 5 < ignored_error - 2, (managed_error, ignored_error)


def _swapped_inks(corner: tuple[int, int, int, int]) -> tuple[float, float, float]:
    """A press on which cyan ink prints red, magenta green and yellow blue."""
    c, m, y, k = corner
    if k or c + m + y > 1:
        return (0.0, 0.0, 0.0)
    return (1.0, 1.0, 1.0) if c + m + y == 0 else (float(c), float(m), float(y))


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_embedded_cmyk_profile_is_converted_to_srgb(fmt: str) -> None:
    # Solid inks side by side; the profile says how they print, which no naive
    # CMYK -> RGB formula would guess, so only a colour-managed decode gets them right.
    inks = [(255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 0), (0, 0, 0, 0)]
    image = Image.new("CMYK", (256, 64))
    for i, ink in enumerate(inks):
        image.paste(ink, (64 * i, 0, 64 * (i + 1), 64))
    profile = cmyk_lut_profile("swapped inks", _swapped_inks)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, icc_profile=profile, **({"quality": 95} if fmt == "JPEG" else {}))
    out = decode(process_image(buffer.getvalue(), ImageConfig(resize_mode="none")))
    centres = [out[32, 64 * i + 32] for i in range(4)]
    expected = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    for got, want in zip(centres, expected, strict=True):
        assert np.abs(got - np.array(want)).max() < 12, (fmt, centres)


def test_srgb_tagged_rgb_is_left_alone(files: dict[str, bytes]) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = Image.open(io.BytesIO(files["jpeg"]))
    tagged, untagged = jpeg_bytes(source, icc_profile=srgb), jpeg_bytes(source)
    assert process_image(tagged, CONFIG).data == process_image(untagged, CONFIG).data


def test_one_bit_becomes_smooth_grey(files: dict[str, bytes]) -> None:
    # Converted to grey before resizing, so the dither averages out instead of aliasing.
    pixels = decode(process_image(files["tiff_1bit"], CONFIG))
    assert len(np.unique(pixels)) > 32


def test_multi_frame_files_give_the_first_frame(files: dict[str, bytes]) -> None:
    first = process_image(files["png"], CONFIG).phash
    for kind in ("gif_animated", "tiff_multipage"):
        assert Image.open(io.BytesIO(files[kind])).n_frames > 1
        assert hamming(process_image(files[kind], CONFIG).phash, first) <= 4, kind


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
    for kind in ("jpeg", "png", "jpeg_exif_rotated"):
        result = process_image(files[kind], config)
        assert (result.width, result.height) == size


def test_webp_output_and_quality(files: dict[str, bytes]) -> None:
    config = ImageConfig(max_side=256, output_format="webp")
    result = process_image(files["jpeg"], config)
    assert Image.open(io.BytesIO(result.data)).format == "WEBP"
    assert process_image(files["jpeg"], config).data == result.data
    low, high = (process_image(files["jpeg"], ImageConfig(max_side=256, quality=q)) for q in (40, 95))
    assert len(low.data) < len(high.data)
    assert low.pixel_sha256 == high.pixel_sha256  # the facts describe pixels, not the encoding


def test_bad_config_is_an_error_not_a_rejection(files: dict[str, bytes]) -> None:
    bad_configs = (
        ImageConfig(resize_mode="widest"),
        ImageConfig(output_format="png"),
        ImageConfig(max_side=0),
        ImageConfig(decode_memory_mb=0),
    )
    for bad in bad_configs:
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
    assert requested == [(800, 600)]  # decoded at 1/4 scale: still >= 1.5x the 384x288 target
    slow = process_image_straightforward(large_jpeg, config)
    assert requested == [(800, 600)]  # the reference path decodes in full
    assert (fast.width, fast.height) == (slow.width, slow.height) == (384, 288)
    assert psnr(decode(fast), decode(slow)) > 35
    assert hamming(fast.phash, slow.phash) <= 4


@pytest.mark.parametrize(
    ("kind", "size"), [("jpeg", (1617, 1079)), ("jpeg", (879, 1543)), ("png", (2403, 1801))]
)
def test_fast_path_is_as_close_to_ideal_as_full_decode(kind: str, size: tuple[int, int]) -> None:
    # Sizes that are no multiple of the draft scale or reduce factor: the scaled image's
    # last pixel covers less source, and ignoring that shifts the output by a fraction of
    # a pixel (once up to 6 dB worse than the full decode on these).
    img = render_figure(size[0], *size)
    data = encode_image(img, kind)
    fast, slow = process_image(data, ImageConfig()), process_image_straightforward(data, ImageConfig())
    ideal = np.asarray(img.resize((fast.width, fast.height), Image.Resampling.LANCZOS), dtype=np.float64)
    assert psnr(decode(fast), ideal) > psnr(decode(slow), ideal) - 1.0


@pytest.mark.parametrize("period", [2, 6])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_downscaling_does_not_alias(period: int, fmt: str) -> None:
    # Stripes far above the output's Nyquist limit must average to grey, not to moire.
    stripes = (np.arange(2400) // (period // 2) % 2 * 255).astype(np.uint8)
    img = Image.fromarray(np.broadcast_to(stripes, (1800, 2400)).copy()).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    for path in (process_image, process_image_straightforward):
        pixels = decode(path(buf.getvalue(), ImageConfig(max_side=300)))
        assert pixels.std() < 6 and abs(pixels.mean() - 127.5) < 4, (path.__name__, pixels.std())


# ------------------------------------------------------------------ pixel facts


def test_near_duplicates_hash_close_and_others_far() -> None:
    hashes = []
    for seed in range(20):
        img = render_figure(seed, 500, 400)
        own = process_image(encode_image(img, "jpeg"), CONFIG).phash
        copy = process_image(encode_image(near_duplicate(img, seed), "png"), CONFIG).phash
        assert hamming(own, copy) <= 8, seed
        hashes.append(own)
    assert min(hamming(a, b) for a, b in itertools.combinations(hashes, 2)) > 16


def test_pixel_sha256_is_the_same_pixels_in_any_lossless_container(files: dict[str, bytes]) -> None:
    kinds = ("png", "tiff_lzw", "tiff_deflate", "bmp", "png_rgb16")
    results = [process_image(files[kind], CONFIG) for kind in kinds]
    assert len({r.pixel_sha256 for r in results}) == 1
    assert len({r.src_sha256 for r in results}) == len(kinds)
    assert process_image(files["jpeg"], CONFIG).pixel_sha256 != results[0].pixel_sha256


def test_pixel_std_separates_blank_from_figures(files: dict[str, bytes]) -> None:
    blank = process_image(files["blank"], CONFIG)
    assert (
        blank.pixel_std < FilterConfig().min_pixel_std < 20 < process_image(files["jpeg"], CONFIG).pixel_std
    )
    uniform = Image.new("RGB", (300, 200), (200, 10, 90))
    assert process_image(jpeg_bytes(uniform), CONFIG).pixel_std == 0.0


def test_attach_image_records_pixel_facts_and_drops_blank(tmp_path, files: dict[str, bytes]) -> None:
    (tmp_path / "fig.png").write_bytes(files["png"])
    (tmp_path / "empty.jpg").write_bytes(files["blank"])
    source = LocalSource(tmp_path)
    kept = attach_image(source, Sample("PMC1_1_F1", "PMC1", 1, source_key="fig.png"), BuildConfig())
    expected = process_image(files["png"], BuildConfig().image)
    assert not kept.reject_reason
    assert (kept.pixel_sha256, kept.pixel_std, kept.phash) == (
        expected.pixel_sha256,
        expected.pixel_std,
        expected.phash,
    )
    dropped = attach_image(source, Sample("PMC1_1_F2", "PMC1", 1, source_key="empty.jpg"), BuildConfig())
    assert dropped.reject_reason == reasons.IMAGE_BLANK and dropped.image is None
    assert dropped.pixel_std is not None and dropped.pixel_std < 1


# ------------------------------------------------------------------ hostile and broken input


def test_bomb_is_rejected_from_the_header(files: dict[str, bytes]) -> None:
    # Refused from the header: memory stays far below the 2.7 GB a decode would take.
    tracemalloc.start()
    with pytest.raises(ImageRejected) as info:
        process_image(files["bomb_png"], ImageConfig())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert info.value.reason == reasons.IMAGE_TOO_LARGE
    assert "30000x30000" in info.value.detail
    assert peak < 5_000_000


def test_jpeg_declaring_a_huge_frame_is_refused_before_decoding(files: dict[str, bytes]) -> None:
    data = bytearray(files["jpeg"])
    pos, _ = segment(data, 0xC0)
    struct.pack_into(">HH", data, pos + 5, 60_000, 60_000)  # height, width
    tracemalloc.start()
    reason = rejection(bytes(data), ImageConfig())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert reason == reasons.IMAGE_TOO_LARGE and peak < 5_000_000


def test_pixel_limit_is_the_configured_one(files: dict[str, bytes]) -> None:
    assert rejection(files["jpeg"], ImageConfig(max_pixels=WIDTH * HEIGHT - 1)) == reasons.IMAGE_TOO_LARGE
    process_image(files["jpeg"], ImageConfig(max_pixels=WIDTH * HEIGHT))


def test_pillow_global_limit_neither_rejects_nor_warns(files, monkeypatch: pytest.MonkeyPatch) -> None:
    # Images above Pillow's (lowered) global warning limit but within ours decode quietly.
    # (Pillow's TIFF and GIF plugins still raise beyond twice that limit: see imagenoise.)
    limit = WIDTH * HEIGHT * 2 // 3
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with warnings.catch_warnings(record=True) as caught:
        for kind in ("jpeg", "png", "tiff_lzw", "gif"):
            process_image(files[kind], CONFIG)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert limit == Image.MAX_IMAGE_PIXELS  # and it was not touched


def _mutations(files: dict[str, bytes], count: int) -> list[bytes]:
    """Deterministically damaged copies of small valid files: flipped bytes, holes, cuts."""
    rng = random.Random(5)
    valid = sorted(kind for kind, spec in KINDS.items() if spec.expected == OK)
    small = render_figure(9, 120, 90)
    sources = {kind: encode_image(small, kind) for kind in valid}
    damaged = []
    for _ in range(count):
        data = bytearray(sources[rng.choice(valid)])
        action = rng.random()
        if action < 0.5:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(min(len(data), 512) if rng.random() < 0.6 else len(data))] = rng.randrange(
                    256
                )
        elif action < 0.8:
            start = rng.randrange(len(data))
            del data[start : start + rng.randint(1, 64)]
        else:
            del data[rng.randrange(len(data)) :]
        damaged.append(bytes(data))
    return damaged


def test_damaged_files_never_crash_warn_or_print(
    files: dict[str, bytes], capfd: pytest.CaptureFixture
) -> None:
    outcomes: dict[str, int] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for data in _mutations(files, 600):
            try:
                process_image(data, ImageConfig(max_side=64))
                key = OK
            except ImageRejected as exc:
                key = exc.reason
            outcomes[key] = outcomes.get(key, 0) + 1
    assert [str(w.message) for w in caught] == []
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")  # libtiff's C error handler is silenced too
    assert set(outcomes) <= {OK, *reasons.FIGURE_REASONS}
    assert outcomes[OK] > 50 and outcomes[reasons.IMAGE_TRUNCATED] > 50


def test_libtiff_error_handler_is_cleared() -> None:
    from pmc15m.image import noise as imagenoise

    if not os.path.exists("/proc/self/maps"):
        pytest.skip("no /proc here: the loaded libtiff cannot be located, its errors still print")
    path = imagenoise.loaded_library("libtiff")
    assert path is not None and "libtiff" in os.path.basename(path)
    assert imagenoise._silence_libtiff() is True


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


def _tiff_with_compression(figure: Image.Image, code: int) -> bytes:
    buf = io.BytesIO()
    figure.save(buf, "TIFF")  # uncompressed, little-endian, written by Pillow itself
    data = bytearray(buf.getvalue())
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        if struct.unpack_from("<H", data, entry)[0] == 259:  # Compression
            struct.pack_into("<H", data, entry + 8, code)
            return bytes(data)
    raise AssertionError("no compression tag")


def test_unsupported_variants_are_not_called_damaged(files: dict[str, bytes], figure: Image.Image) -> None:
    with pytest.raises(ImageRejected) as info:
        process_image(files["jpeg_12bit"], CONFIG)
    assert (info.value.reason, info.value.detail) == (
        reasons.IMAGE_UNSUPPORTED,
        "JPEG header: cannot handle 12-bit layers",
    )
    with pytest.raises(ImageRejected) as info:
        process_image(_tiff_with_compression(figure, 34661), CONFIG)  # JBIG
    assert info.value.reason == reasons.IMAGE_UNSUPPORTED and "unknown code 34661" in info.value.detail


def test_formats_outside_the_allowlist_are_unsupported(figure: Image.Image) -> None:
    buf = io.BytesIO()
    figure.save(buf, "PCX")
    assert rejection(buf.getvalue()) == reasons.IMAGE_UNSUPPORTED


def test_rejection_carries_reason_and_detail() -> None:
    err = ImageRejected(reasons.IMAGE_TRUNCATED, "cut")
    assert (err.reason, err.detail, str(err)) == (reasons.IMAGE_TRUNCATED, "cut", "image_truncated: cut")
