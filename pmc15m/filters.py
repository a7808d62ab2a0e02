"""Sample filters: each rule keeps a sample (None) or drops it with a named reason.

Rules are plain functions over the ``Sample`` so they are unit-testable and so the
pipeline's shared machinery (``first_rejection``) can count drops by reason in one place.
Caption rules run before the image is fetched (cheap, saves downloads); image rules after
it is decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pmc15m import reasons
from pmc15m.config import FilterConfig
from pmc15m.quality import (
    caption_english,
    caption_informative,
    caption_not_too_long,
    caption_not_too_many_chars,
)
from pmc15m.record import Sample

Rule = Callable[[Sample, FilterConfig], str | None]


def caption_present(sample: Sample, config: FilterConfig) -> str | None:
    return None if sample.caption.strip() else reasons.NO_CAPTION


def caption_long_enough(sample: Sample, config: FilterConfig) -> str | None:
    words = len(sample.caption.split())
    return None if words >= config.min_caption_words else reasons.CAPTION_TOO_SHORT


def image_large_enough(sample: Sample, config: FilterConfig) -> str | None:
    side = min(sample.src_width or 0, sample.src_height or 0)
    return None if side >= config.min_image_side else reasons.IMAGE_TOO_SMALL


def aspect_ratio_ok(sample: Sample, config: FilterConfig) -> str | None:
    long_side = max(sample.src_width or 0, sample.src_height or 0)
    short_side = min(sample.src_width or 0, sample.src_height or 0)
    if short_side <= 0:
        return reasons.IMAGE_TOO_SMALL
    return None if long_side / short_side <= config.max_aspect_ratio else reasons.ASPECT_RATIO


def image_not_blank(sample: Sample, config: FilterConfig) -> str | None:
    """Drop near-uniform images (empty pages, placeholders); see FilterConfig.min_pixel_std."""
    if sample.pixel_std is None:  # no decoded pixels to judge
        return None
    return reasons.IMAGE_BLANK if sample.pixel_std < config.min_pixel_std else None


# Language goes before the word count (Chinese and Japanese captions have no spaces, so
# they would read as too short); the other quality rules (pmc15m.quality) after it, so
# a caption that is both too short and a label keeps the older reason.
CAPTION_RULES: tuple[Rule, ...] = (
    caption_present,
    caption_not_too_many_chars,
    caption_english,
    caption_long_enough,
    caption_not_too_long,
    caption_informative,
)
IMAGE_RULES: tuple[Rule, ...] = (image_large_enough, aspect_ratio_ok, image_not_blank)


def first_rejection(sample: Sample, rules: Sequence[Rule], config: FilterConfig) -> str | None:
    """The reason of the first rule that drops the sample, or None when all keep it."""
    for rule in rules:
        reason = rule(sample, config)
        if reason is not None:
            return reason
    return None
