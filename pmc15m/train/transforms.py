"""Image pre-processing for CLIP training and evaluation, with Pillow and torch only.

torchvision has no build for every platform we run on, and the two transforms CLIP needs
are small: training takes a random resized crop (area 90-100 %, aspect 3/4-4/3, the
open_clip default; CLIP uses no flip, which would mirror text and arrows in figures) and
evaluation resizes the shortest side and takes the centre crop. Both crop and resize in a
single ``Image.resize(box=...)`` call, and JPEGs are decoded at a reduced DCT scale
(``Image.draft``) when the image is at least twice the size needed, which is where most of
the loader's CPU time goes.

Randomness comes from an explicit ``random.Random`` so that the loader, not the process-wide
generators, decides what each worker draws: that is what makes a resumed run identical.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# Containers the shards hold (the builder writes JPEG or WebP; PNG for hand-made sets).
# Restricting Pillow's plugins keeps junk bytes from reaching exotic decoders.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_PIXELS = 150_000_000
# Draft decoding must leave room for the smallest random crop (about 0.82 of a side).
_TRAIN_DRAFT_MARGIN = 1.25


class ImageError(ValueError):
    """An image that cannot be used: not a supported format, damaged, or too large."""


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, draft_side: int = 0) -> Image.Image:
    """Decode bytes to an RGB image, refusing bombs from the header before any pixel is decoded.

    ``draft_side`` > 0 lets a JPEG decode at 1/2, 1/4 or 1/8 scale while both sides stay at
    least that many pixels.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"not a supported image: {exc}") from exc
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise ImageError(f"image of {width}x{height} pixels is outside the limit of {max_pixels}")
    if draft_side > 0 and image.format == "JPEG":
        image.draft("RGB", (draft_side, draft_side))
    try:
        return image.convert("RGB")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"damaged image: {exc}") from exc


def random_crop_box(
    width: int,
    height: int,
    rng: random.Random,
    scale: tuple[float, float] = (0.9, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[int, int, int, int]:
    """The crop box of a random resized crop (the torchvision algorithm, 10 tries, then centre)."""
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            left = rng.randint(0, width - w)
            top = rng.randint(0, height - h)
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif in_ratio > ratio[1]:
        w, h = round(height * ratio[1]), height
    else:
        w, h = width, height
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def center_crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The largest centred square: resizing it equals resize-shortest-side then centre crop."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


_MEAN = torch.tensor(CLIP_MEAN).view(3, 1, 1)
_STD = torch.tensor(CLIP_STD).view(3, 1, 1)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB image -> float tensor (3, H, W), scaled to [0, 1] and normalised with CLIP mean/std."""
    array = np.asarray(image, dtype=np.uint8)
    pixels = torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)
    return pixels.sub_(_MEAN).div_(_STD)


@dataclass(frozen=True)
class ImageTransform:
    """Training (random resized crop) or evaluation (centre crop) pre-processing to a square."""

    image_size: int = 224
    train: bool = False
    scale: tuple[float, float] = (0.9, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    draft: bool = True

    @property
    def draft_side(self) -> int:
        """The side a draft-decoded JPEG must keep (0: decode at full size)."""
        if not self.draft:
            return 0
        return math.ceil(self.image_size * _TRAIN_DRAFT_MARGIN) if self.train else self.image_size

    def __call__(self, image: Image.Image, rng: random.Random | None = None) -> torch.Tensor:
        width, height = image.size
        if self.train:
            box = random_crop_box(width, height, rng or random.Random(0), self.scale, self.ratio)
        else:
            box = center_crop_box(width, height)
        size = (self.image_size, self.image_size)
        return to_tensor(image.resize(size, Image.Resampling.BICUBIC, box=box))

    def load(
        self, data: bytes, rng: random.Random | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> torch.Tensor:
        """Decode and transform one image's bytes (raises ``ImageError`` for a bad one)."""
        return self(decode_image(data, max_pixels, self.draft_side), rng)
