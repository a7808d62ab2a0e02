"""Build configuration: every knob that changes the output, in one frozen record.

The configuration is hashed into the build id and written into the manifest, so two builds
with the same input and the same ``BuildConfig`` produce byte-identical shards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
    # MiB of decoded pixels a worker process holds at once, shared by all its threads
    # (pmc15m.image.budget): a 150-megapixel RGB figure beside dozens of typical ones. It changes
    # when images are decoded, never the output, so to_dict (manifest, build id) leaves it out.
    decode_memory_mb: int = 1024

    RUNTIME_ONLY: ClassVar[tuple[str, ...]] = ("decode_memory_mb",)


@dataclass(slots=True, frozen=True)
class FilterConfig:
    """Thresholds of the basic sample filters (see pmc15m.rules.filters for the reasons).

    The defaults and the numbers behind them: pmc15m.rules.filters's docstring.
    """

    min_caption_words: int = 3
    min_image_side: int = 64
    max_aspect_ratio: float = 10.0
    # Blank images: grayscale std of the stored pixels below this (0 disables). Measured
    # (benchmarks/bench_images.py): blank pages give 0 (uniform) to 0.72 (noise std 1 at
    # 800 px; std 2-5 at 4000 px, which the downscale averages away); the sparsest real
    # figures, 1-px line plots drawn at 6000 px, give >= 1.34; multi-panel figures >= 24.
    # Noisier small blanks (1.2-3) are kept: the rule errs on the side of keeping.
    min_pixel_std: float = 1.0
    # caption quality (pmc15m.rules.filters: the defaults and the numbers behind them)
    max_caption_words: int = 1000
    max_caption_chars: int = 10_000  # a few words can be megabytes long (one run-on "word")
    drop_stock_captions: bool = True  # a label or stock phrase only: "Click here for file"
    english_only: bool = True


@dataclass(slots=True, frozen=True)
class ParseConfig:
    """How JATS is read: the size limit and what a figure's caption text includes (pmc15m.jats.parse).

    Part of ``BuildConfig`` so that it is hashed into the build id: two builds that render
    captions differently must never share one.
    """

    max_bytes: int = 50_000_000  # PMC's largest articles are a few MB; refuse bigger before parsing
    prepend_group_caption: bool = False  # fig-group caption prepended to each child's caption
    include_label: bool = False  # keep the label ("Figure 1") at the start of the caption text
    extract_mentions: bool = True


@dataclass(slots=True, frozen=True)
class DedupConfig:
    """Duplicate detection (pmc15m.rules.dedup: the defaults and the numbers behind them)."""

    enabled: bool = True
    near_distance: int = 6  # largest perceptual-hash Hamming distance of a near duplicate; -1: off
    near_bands: int = 0  # hash bands of the candidate search; 0: chosen from the image count
    boilerplate_articles: int = 5  # an image in more distinct articles than this is boilerplate


@dataclass(slots=True, frozen=True)
class BuildConfig:
    """Everything that decides which samples a build keeps and how they are written."""

    licenses: tuple[str, ...] = LICENSE_PRESETS["redistributable"]
    require_open_access: bool = True
    drop_retracted: bool = True
    image: ImageConfig = field(default_factory=ImageConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    parse: ParseConfig = field(default_factory=ParseConfig)
    shard_size: int = 10_000
    reject_shard_size: int = 100_000
    # split fractions: train gets the rest
    validation_fraction: float = 0.001
    test_fraction: float = 0.049
    split_salt: str = "pmc15m"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in ImageConfig.RUNTIME_ONLY:  # how the build runs, not what it makes
            del data["image"][name]
        return data

    def digest(self) -> str:
        """A short stable hash of the configuration."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildConfig:
        data = dict(data)
        data["image"] = ImageConfig(**data.get("image", {}))
        data["filters"] = FilterConfig(**data.get("filters", {}))
        data["dedup"] = DedupConfig(**data.get("dedup", {}))
        data["parse"] = ParseConfig(**data.get("parse", {}))
        data["licenses"] = tuple(data.get("licenses", ()))
        return cls(**data)
