"""Pairs of 64-bit hashes within Hamming distance k, found without comparing all pairs.

The 64 bits are cut into ``m >= k + 1`` bands. Two hashes within k differ in at most k
bands, so they agree exactly on at least ``t = m - k`` of them (the pigeonhole
principle). Every t-subset of the bands is a *key*: any pair within k shares at least one
key, so comparing only hashes that share a key finds every such pair. A pair that shares
several keys is reported under the first only (the smallest t bands it agrees on), so
each pair comes out once however many groups compared it.

Cost: C(m, t) keys per hash, and a group holds about n / 2^(64 t / m) hashes (uniform
bits). At k = 6, ``m = 7`` (t = 1) has 7 keys of 9-10 bits: groups of n/1100, so the
comparisons per hash grow with n; ``m = 8`` (t = 2) has 28 keys of 16 bits, groups of
n/65536; ``m = 9`` has 84 keys of 21 bits. Which is cheapest depends on n and on what a
key costs next to a comparison: ``choose_bands`` picks it (``benchmarks/bench_dedup.py``
measures m = 7, 8, 9 at 10^5 and 10^6 hashes).

Two entry points share the key definition: ``band_keys`` + ``bucket_pairs`` for a
distributed runner that groups hashes by key itself (Beam's GroupByKey), and
``near_pairs`` which does the grouping in memory by sorting, all groups at once (numpy).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

BITS = 64
MAX_KEYS = 1000  # keys per hash; more is a misconfiguration, not a search
_PAIR_BLOCK = 4_000_000  # hash comparisons per numpy block inside one group


def check_bands(k: int, m: int) -> None:
    """Raise ValueError with a one-line message when (k, m) cannot guarantee or afford a search."""
    if not 0 <= k < BITS:
        raise ValueError(f"the distance must be in 0..{BITS - 1}, not {k}")
    if not k < m <= BITS:
        raise ValueError(f"bands must be above the distance ({k}) and at most {BITS}, not {m}")
    if math.comb(m, m - k) > MAX_KEYS:
        raise ValueError(
            f"{m} bands at distance {k} give {math.comb(m, m - k)} keys per hash (max {MAX_KEYS})"
        )


def choose_bands(k: int, n: int, key_cost: float) -> int:
    """The band count with the least estimated work for ``n`` hashes.

    Work per hash = keys x (``key_cost`` + half the expected group size), where a key of
    ``64 t / m`` bits holds ``n / 2^(64 t / m)`` uniform hashes and ``key_cost`` is what
    making and grouping one key costs, in hash comparisons. Cheap keys (numpy sorts in
    memory) favour more bands; expensive ones (records shuffled by a runner) fewer.
    """
    best: tuple[float, int] | None = None
    for m in range(k + 1, BITS + 1):
        keys = math.comb(m, m - k)
        if keys > MAX_KEYS:
            break
        work = keys * (key_cost + n / 2 ** (BITS * (m - k) / m + 1))
        if best is None or work < best[0]:
            best = (work, m)
    assert best is not None
    return best[1]


@dataclass(slots=True)
class PairSearch:
    """Index pairs (i < j) within the distance, and how many comparisons finding them took."""

    i: np.ndarray
    j: np.ndarray
    distance: np.ndarray
    compared: int = 0


@functools.cache
def _layout(m: int) -> tuple[tuple[int, int], ...]:
    """(shift, width) of each band, most significant first; widths differ by at most one."""
    widths = [BITS // m + (1 if i < BITS % m else 0) for i in range(m)]
    shifts = [BITS - sum(widths[: i + 1]) for i in range(m)]
    return tuple(zip(shifts, widths, strict=True))


@functools.cache
def _subsets(k: int, m: int) -> tuple[tuple[int, ...], ...]:
    return tuple(itertools.combinations(range(m), m - k))


def band_keys(phash: int, k: int, m: int) -> list[tuple[int, int]]:
    """The keys of a hash: (subset index, the subset's band values packed into one int)."""
    layout = _layout(m)
    values = [(phash >> shift) & ((1 << width) - 1) for shift, width in layout]
    keys = []
    for index, subset in enumerate(_subsets(k, m)):
        packed = 0
        for band in subset:
            packed = (packed << layout[band][1]) | values[band]
        keys.append((index, packed))
    return keys


def key_groups(hashes: np.ndarray, k: int, m: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """(subset index, packed key, positions) for every key that ``hashes`` (uint64) have.

    The same grouping as ``band_keys``, done for a block of hashes at once by sorting each
    subset's keys: a distributed runner then ships one record per key and block, not one
    per key and hash (at 10^6 hashes in 64 blocks, 7 bands: 14 times fewer records).
    """
    if not len(hashes):
        return
    bands = _band_matrix(hashes, m)
    for index, subset in enumerate(_subsets(k, m)):
        key = _subset_key(bands, subset, m)
        order = np.argsort(key, kind="stable")
        ranked = key[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            yield index, int(ranked[start]), order[start:end]


def _band_matrix(hashes: np.ndarray, m: int) -> np.ndarray:
    """(n, m) band values of uint64 hashes."""
    return np.stack(
        [(hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1) for shift, width in _layout(m)], axis=1
    )


def _first_subset(bands: np.ndarray, i: np.ndarray, j: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    """Mask of the pairs for which ``subset`` is the first t-subset of the bands they agree on.

    They agree on all of ``subset`` (they met under its key); it is the first such subset
    exactly when they agree on no other band below its last one.
    """
    others = [b for b in range(subset[-1]) if b not in subset]
    if not others:
        return np.ones(len(i), dtype=bool)
    return ~(bands[i][:, others] == bands[j][:, others]).any(axis=1)


def pairs_within(hashes: np.ndarray, k: int) -> PairSearch:
    """All pairs of one group within distance ``k``, in blocks of bounded memory."""
    n = len(hashes)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    rows = max(1, _PAIR_BLOCK // max(n, 1))
    for start in range(0, n - 1, rows):
        block = hashes[start : start + rows]
        dist = np.bitwise_count(block[:, None] ^ hashes[None, start:])
        i, j = np.nonzero(dist <= k)
        ahead = j > i  # the columns start at ``start`` too: j > i is a later hash
        found.append((i[ahead] + start, j[ahead] + start, dist[i[ahead], j[ahead]]))
    return _concat(found, compared=n * (n - 1) // 2)


def bucket_pairs(hashes: np.ndarray, subset_index: int, k: int, m: int) -> PairSearch:
    """The pairs of one group (the hashes sharing one key) that this key reports."""
    found = pairs_within(hashes, k)
    keep = _first_subset(_band_matrix(hashes, m), found.i, found.j, _subsets(k, m)[subset_index])
    return PairSearch(found.i[keep], found.j[keep], found.distance[keep], found.compared)


def near_pairs(hashes: np.ndarray, k: int, m: int) -> PairSearch:
    """Every pair within ``k`` among ``hashes`` (uint64), grouping by sorting on each key.

    Once a key's values are sorted, equal keys are adjacent; comparing each hash with the
    next 1, 2, ... positions while the key stays the same compares exactly the pairs of
    every group, all groups at once.
    """
    bands = _band_matrix(hashes, m)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    compared = 0
    for subset in _subsets(k, m):
        key = _subset_key(bands, subset, m)
        # Keys of 16 bits or fewer sort by radix ("stable"), in linear time.
        order = np.argsort(key, kind="stable" if key.dtype.itemsize <= 2 else None)
        p, q, dist, count = _pairs_in_runs(key[order], hashes[order], k)
        compared += count
        a, b = order[p], order[q]
        first = _first_subset(bands, a, b, subset)
        found.append((np.minimum(a, b)[first], np.maximum(a, b)[first], dist[first]))
    return _concat(found, compared)


def _subset_key(bands: np.ndarray, subset: tuple[int, ...], m: int) -> np.ndarray:
    """The packed values of ``subset``'s bands, in the smallest unsigned type that holds them."""
    widths = [w for _, w in _layout(m)]
    bits = sum(widths[b] for b in subset)
    dtype = np.uint16 if bits <= 16 else np.uint32 if bits <= 32 else np.uint64
    key = np.zeros(len(bands), dtype=np.uint64)
    for band in subset:
        key = (key << np.uint64(widths[band])) | bands[:, band]
    return key.astype(dtype)


def _pairs_in_runs(
    ranked: np.ndarray, hashes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Positions p < q with equal ``ranked`` values and hashes within ``k``; comparisons made.

    While many positions still have a same-key neighbour ``step`` places on, whole-array
    slices (no gathers) are cheapest; once few do, only those positions are followed.
    """
    n = len(ranked)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    compared, step = 0, 1
    pos: np.ndarray | None = None
    while step < n:
        if pos is None:
            same = ranked[step:] == ranked[:-step]
            if np.count_nonzero(same) < n // 8:
                pos = np.nonzero(same)[0]
                continue
            compared += int(np.count_nonzero(same))
            dist = np.bitwise_count(hashes[step:] ^ hashes[:-step])
            hit = np.nonzero(same & (dist <= k))[0]
            found.append((hit, hit + step, dist[hit]))
        else:
            if not pos.size:
                break
            compared += len(pos)
            dist = np.bitwise_count(hashes[pos] ^ hashes[pos + step])
            close = dist <= k
            found.append((pos[close], pos[close] + step, dist[close]))
        step += 1
        if pos is not None:
            pos = pos[pos + step < n]
            pos = pos[ranked[pos + step] == ranked[pos]]
    result = _concat(found, compared)
    return result.i, result.j, result.distance, compared


def _concat(found: list[tuple[np.ndarray, np.ndarray, np.ndarray]], compared: int) -> PairSearch:
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return PairSearch(empty, empty, np.zeros(0, dtype=np.uint8), compared)
    i, j, d = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return PairSearch(i.astype(np.int64), j.astype(np.int64), d, compared)
