"""Split and shard assignment by stable hashes.

Both must be the same on every runner, worker and rerun, so they hash with SHA-256 rather
than Python's salted ``hash``. Splits hash the article (all figures of an article stay in
one split, so a test figure never shares a caption context with a training one); shards
hash the sample key.

The split names are defined here, once: this is where they are assigned, and ``rules`` sits
below ``shards``, so the shard format (``pmc15m.shards.format``, which names everything else
in an output folder) cannot be their home. Shard *names* are the format's.
"""

from __future__ import annotations

import hashlib
import math

from pmc15m.core.config import BuildConfig

TRAIN, VALIDATION, TEST = "train", "validation", "test"
SPLITS = (TRAIN, VALIDATION, TEST)  # also the order of the output's split folders


def unit_hash(text: str, salt: str = "") -> float:
    """A stable number in [0, 1) derived from ``text``."""
    digest = hashlib.sha256(f"{salt}\x00{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(pmcid: str, config: BuildConfig) -> str:
    """The split of every figure of article ``pmcid``."""
    u = unit_hash(pmcid, config.split_salt)
    if u < config.test_fraction:
        return TEST
    if u < config.test_fraction + config.validation_fraction:
        return VALIDATION
    return TRAIN


def shard_count(n_samples: int, shard_size: int) -> int:
    """How many shards ``n_samples`` need at about ``shard_size`` each (at least one)."""
    return max(1, math.ceil(n_samples / shard_size))


def assign_shard(key: str, n_shards: int) -> int:
    """The shard of a sample: uniform over ``n_shards``, independent of arrival order."""
    return int(unit_hash(key, "shard") * n_shards)
