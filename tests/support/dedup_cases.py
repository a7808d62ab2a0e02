"""Synthetic samples for the deduplication tests: hashes, copies, chains, articles."""

from __future__ import annotations

import random

from pmc15m.core.config import DedupConfig
from pmc15m.core.record import Sample

K = DedupConfig().near_distance


def make_sample(
    key: str,
    phash: int | None,
    *,
    pixel: str = "",
    pmcid: str | None = None,
    version: int = 1,
    split: str = "train",
    caption: str = "",
) -> Sample:
    """A processed sample as dedup sees it; ``pmcid`` defaults to the key's first part."""
    return Sample(
        key=key,
        pmcid=pmcid or key.split("_")[0],
        version=version,
        caption=caption or f"caption of {key}",
        phash=f"{phash:016x}" if phash is not None else "",
        pixel_sha256=pixel or f"pixels-of-{key}",
        split=split,
        image=b"jpeg bytes",
    )


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def random_corpus(rng: random.Random, n_images: int) -> list[Sample]:
    """Distinct images, exact copies, near copies and copies of copies (chains), in articles
    whose splits follow the article, as pmc15m.rules.splits does."""
    split_of = {}
    samples: list[Sample] = []
    hashes: list[int] = []
    for index in range(n_images * 2):
        pmcid = f"PMC{rng.randrange(1, n_images)}"
        split = split_of.setdefault(pmcid, rng.choice(["train", "train", "validation", "test"]))
        roll = rng.random()
        if index < n_images or roll < 0.2:
            value, pixel = rng.getrandbits(64), ""
        elif roll < 0.5:  # an exact copy
            source = rng.randrange(len(samples))
            value, pixel = hashes[source], samples[source].pixel_sha256
        else:  # a near copy of anything so far, copies included: chains
            value, pixel = (
                flip(hashes[rng.randrange(len(hashes))], rng.sample(range(64), rng.randint(1, K))),
                "",
            )
        key = f"{pmcid}_1_f{index}"
        samples.append(make_sample(key, value, pixel=pixel, pmcid=pmcid, split=split))
        hashes.append(value)
    return samples
