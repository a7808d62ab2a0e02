"""Build configuration: every knob that changes the output, in one frozen record.

The configuration is hashed into the build id and written into the manifest, so two builds
with the same input and the same ``BuildConfig`` produce byte-identical shards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

# Creative Commons codes as the PMC metadata spells them. TDM (author manuscripts that may
# be text-mined but not redistributed) is in none of the redistributable presets.
LICENSE_PRESETS: dict[str, tuple[str, ...]] = {
    "redistributable": (
        "CC0",
        "CC BY",
        "CC BY-SA",
        "CC BY-ND",
        "CC BY-NC",
        "CC BY-NC-SA",
        "CC BY-NC-ND",
    ),
    "commercial": ("CC0", "CC BY", "CC BY-SA", "CC BY-ND"),
    "noncommercial": ("CC BY-NC", "CC BY-NC-SA", "CC BY-NC-ND"),
    "all": (),  # empty means: no license gate at all
}


@dataclass(slots=True, frozen=True)
class ImageConfig:
    """How a figure file becomes the stored image."""

    max_side: int = 512  # target size of the side named by resize_mode
    resize_mode: str = "longest"  # longest | shortest | none
    upscale: bool = False
    output_format: str = "jpeg"  # jpeg | webp
    quality: int = 90
    max_pixels: int = 150_000_000  # decompression-bomb guard, checked before decoding


@dataclass(slots=True, frozen=True)
class FilterConfig:
    """Thresholds of the basic sample filters (see pmc15m.filters for the reasons)."""

    min_caption_words: int = 3
    min_image_side: int = 64
    max_aspect_ratio: float = 10.0


@dataclass(slots=True, frozen=True)
class BuildConfig:
    """Everything that decides which samples a build keeps and how they are written."""

    licenses: tuple[str, ...] = LICENSE_PRESETS["redistributable"]
    require_open_access: bool = True
    drop_retracted: bool = True
    image: ImageConfig = field(default_factory=ImageConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    shard_size: int = 10_000
    reject_shard_size: int = 100_000
    # split fractions: train gets the rest
    validation_fraction: float = 0.001
    test_fraction: float = 0.049
    split_salt: str = "pmc15m"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """A short stable hash of the configuration."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildConfig:
        data = dict(data)
        data["image"] = ImageConfig(**data.get("image", {}))
        data["filters"] = FilterConfig(**data.get("filters", {}))
        data["licenses"] = tuple(data.get("licenses", ()))
        return cls(**data)
