"""pmc15m.image.pixelfacts: the perceptual hash is imagehash's to the bit; digest and std as documented."""

from __future__ import annotations

import hashlib
import struct

import imagehash
import numpy as np
import pytest
from PIL import Image

from pmc15m.corpus.render import render_figure, render_near_uniform, render_sparse_plot
from pmc15m.image.pixelfacts import gray_std, hamming, phash64, pixel_digest, pixel_facts


def _gallery() -> list[Image.Image]:
    """About 250 RGB images of every character: figures, plots, blanks, noise, tiny ones."""
    rng = np.random.default_rng(0)
    images = []
    for seed in range(90):
        width, height = (int(v) for v in rng.integers(40, 520, 2))
        images.append(render_figure(seed, width, height))
    for seed in range(30):
        images.append(render_sparse_plot(seed, 120 + 11 * seed, 90 + 7 * seed, 1 + seed % 3, seed % 4))
    for seed in range(40):  # uniform and near-uniform: the DCT is all rounding noise there
        level, noise = int(rng.integers(0, 256)), float(rng.choice([0.0, 0.0, 0.5, 2.0]))
        images.append(
            render_near_uniform(seed, 64 + seed, 48 + seed, level=level, noise=noise, gradient=seed % 3)
        )
    for _ in range(30):
        size = (int(rng.integers(1, 9)), int(rng.integers(1, 9)))
        images.append(Image.fromarray(rng.integers(0, 256, (*size[::-1], 3), dtype=np.uint8)))
    for _ in range(30):
        images.append(Image.fromarray(rng.integers(0, 256, (200, 150, 3), dtype=np.uint8)))
    for seed in range(30):
        base = render_figure(1000 + seed, 300, 200)
        images.append(base.resize((301 + seed, 199 + seed), Image.Resampling.BICUBIC))
    return images


def test_phash64_is_imagehash_phash_bit_for_bit() -> None:
    gallery = _gallery()
    ours = [phash64(img.convert("L")) for img in gallery]
    theirs = [str(imagehash.phash(img)) for img in gallery]
    mismatches = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert mismatches == []
    assert len(set(ours)) > 150  # a real variety of hashes, not one repeated value
    assert all(len(h) == 16 for h in ours)


def test_pixel_digest_is_size_then_raw_rgb() -> None:
    img = render_figure(4, 30, 20)
    expected = hashlib.sha256(struct.pack(">II", 30, 20) + img.tobytes()).hexdigest()
    assert pixel_digest(img) == expected
    flat = Image.frombytes("RGB", (20, 30), img.tobytes())  # same bytes, other shape
    assert pixel_digest(flat) != expected


@pytest.mark.parametrize("seed", range(6))
def test_gray_std_matches_numpy(seed: int) -> None:
    img = [
        render_figure(seed, 200, 150),
        render_near_uniform(seed, 90, 60, noise=1.5),
        Image.new("RGB", (10, 10), (3, 200, 9)),
    ][seed % 3]
    gray = img.convert("L")
    assert gray_std(gray) == pytest.approx(float(np.asarray(gray, dtype=np.float64).std()), abs=1e-3)


def test_pixel_facts_of_an_rgb_image() -> None:
    img = render_figure(2, 256, 192)
    facts = pixel_facts(img)
    assert facts.phash == str(imagehash.phash(img))
    assert facts.pixel_sha256 == pixel_digest(img)
    assert facts.pixel_std == gray_std(img.convert("L")) > 20
    with pytest.raises(ValueError, match="RGB"):
        pixel_facts(img.convert("L"))


def test_hamming() -> None:
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("ffffffffffffffff", "0000000000000000") == 64
    assert hamming("8000000000000001", "0000000000000000") == 2
