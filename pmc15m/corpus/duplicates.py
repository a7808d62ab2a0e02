"""Planted duplicates: the same figure published again in other articles.

Exact duplicates reuse one image file byte for byte (a figure reprinted in a correction or
a review), or the same pixels in another format (a publisher converting JPEG to PNG);
near duplicates are ``near_duplicate`` copies (cropped, rescaled, re-toned). Each planted
figure carries a ``dup_<type>:<group>`` tag, from which the ground truth lists the groups.
"""

from __future__ import annotations

import random

from pmc15m.corpus.features import Counters
from pmc15m.corpus.model import FigurePlan, ImageSpec

Injection = tuple[str, ImageSpec]  # (tag, image) of one extra figure for one article

EXACT = "dup_exact"
NEAR = "dup_near"


def _base(rng: random.Random, counters: Counters, kind: str) -> ImageSpec:
    width = rng.randint(500, 1000)
    return ImageSpec(kind, width, int(width * rng.uniform(0.6, 0.9)), counters.image_seed())


def plan_duplicates(
    rng: random.Random, counters: Counters, normal: list[int], rounds: int
) -> dict[int, list[Injection]]:
    """Extra figures per article index; each group spans distinct (processed) articles."""
    out: dict[int, list[Injection]] = {}
    group = 0
    for _ in range(rounds):
        plans: list[tuple[str, list[ImageSpec]]] = []
        same = _base(rng, counters, "jpeg")
        plans.append((EXACT, [same, same, same]))  # identical bytes in three articles
        png = _base(rng, counters, "png")
        plans.append((EXACT, [png, png]))
        src = _base(rng, counters, "jpeg")
        plans.append((EXACT, [src, ImageSpec("png", src.width, src.height, src.seed, reencode_from="jpeg")]))
        for _pair in range(2):
            orig = _base(rng, counters, "jpeg")
            copy = ImageSpec("jpeg", orig.width, orig.height, orig.seed, near_seed=counters.image_seed())
            plans.append((NEAR, [orig, copy]))
        for kind, specs in plans:
            if len(specs) > len(normal):
                continue
            group += 1
            for index, spec in zip(rng.sample(normal, len(specs)), specs, strict=True):
                out.setdefault(index, []).append((f"{kind}:{group}", spec))
    return out


def duplicate_groups(figures: list[tuple[FigurePlan, str]], kept: set[str]) -> dict[str, list[list[str]]]:
    """Ground-truth groups of kept sample keys, from (figure, key) pairs, by tag."""
    groups: dict[str, dict[str, list[str]]] = {"exact": {}, "near": {}}
    for fig, key in figures:
        for tag in fig.tags:
            kind, _, gid = tag.partition(":")
            if kind in (EXACT, NEAR) and key in kept:
                groups["exact" if kind == EXACT else "near"].setdefault(gid, []).append(key)
    return {name: [keys for keys in found.values() if len(keys) > 1] for name, found in groups.items()}
