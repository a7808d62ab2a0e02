"""Sample filters, split and shard assignment."""

from __future__ import annotations

from collections import Counter

import pytest

from pmc15m.core import reasons
from pmc15m.core.config import BuildConfig, FilterConfig
from pmc15m.core.record import Sample, figure_key_part, make_key, sanitize_key_part
from pmc15m.rules.filters import CAPTION_RULES, IMAGE_RULES, first_rejection
from pmc15m.rules.splits import assign_shard, assign_split, shard_count
from pmc15m.shards.format import shard_name


def _sample(caption="A scatter plot of values", w=400, h=300) -> Sample:
    return Sample(key="PMC1_1_F1", pmcid="PMC1", version=1, caption=caption, src_width=w, src_height=h)


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("", reasons.NO_CAPTION),
        ("   ", reasons.NO_CAPTION),
        ("Untitled.", reasons.CAPTION_TOO_SHORT),
        ("One two three", None),
    ],
)
def test_caption_rules(caption, expected):
    assert first_rejection(_sample(caption=caption), CAPTION_RULES, FilterConfig()) == expected


@pytest.mark.parametrize(
    ("w", "h", "expected"),
    [
        (400, 300, None),
        (24, 24, reasons.IMAGE_TOO_SMALL),
        (3000, 150, reasons.ASPECT_RATIO),
        (640, 64, None),
        (0, 0, reasons.IMAGE_TOO_SMALL),
    ],
)
def test_image_rules(w, h, expected):
    assert first_rejection(_sample(w=w, h=h), IMAGE_RULES, FilterConfig()) == expected


def test_keys_are_dot_free_and_stable():
    assert sanitize_key_part("fig.1 a/b") == "fig-1-a-b"
    assert figure_key_part("F1", 1, 1) == "F1"
    assert figure_key_part("F1", 2, 3) == "F1_g2"
    assert make_key("PMC123", 2, "F1") == "PMC123_2_F1"
    assert "." not in make_key("PMC1", 1, sanitize_key_part("pone.0046493.g001"))


def test_splits_follow_fractions_and_are_stable():
    config = BuildConfig(validation_fraction=0.1, test_fraction=0.2)
    counts = Counter(assign_split(f"PMC{i}", config) for i in range(20_000))
    assert abs(counts["test"] / 20_000 - 0.2) < 0.02
    assert abs(counts["validation"] / 20_000 - 0.1) < 0.02
    assert assign_split("PMC42", config) == assign_split("PMC42", config)
    other_salt = BuildConfig(validation_fraction=0.1, test_fraction=0.2, split_salt="other")
    assert any(assign_split(f"PMC{i}", config) != assign_split(f"PMC{i}", other_salt) for i in range(100))


def test_shard_assignment_is_uniform_and_in_range():
    assert shard_count(0, 10) == 1 and shard_count(10, 10) == 1 and shard_count(11, 10) == 2
    shards = Counter(assign_shard(f"PMC{i}_1_F1", 8) for i in range(8000))
    assert set(shards) == set(range(8))
    assert all(800 < n < 1200 for n in shards.values())
    assert shard_name(7) == "00007"
