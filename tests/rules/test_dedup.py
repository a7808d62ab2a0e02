"""The deduplication library: candidate search, chains, representatives, boilerplate, splits."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest
from support.dedup_cases import K, flip, make_sample, random_corpus  # tests/ is on sys.path

from pmc15m.core import reasons
from pmc15m.core.config import DedupConfig
from pmc15m.core.record import Sample
from pmc15m.rules import nearsearch
from pmc15m.rules.dedup import (
    apply_decision,
    check_config,
    deduplicate,
    deduplicate_samples,
    digest,
    hamming,
)


def outcome(samples: list[Sample], config: DedupConfig | None = None) -> dict[str, Sample]:
    return {s.key: s for s in deduplicate_samples(samples, config or DedupConfig())}


def planted_hashes(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Random 64-bit hashes plus near copies (up to k flipped bits) of a tenth of them."""
    base = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    copies = base[rng.integers(0, n, n // 10)].copy()
    for row in range(len(copies)):
        for bit in rng.choice(64, int(rng.integers(0, k + 1)), replace=False):
            copies[row] ^= np.uint64(1) << np.uint64(bit)
    return np.concatenate([base, copies])


def brute_force_pairs(hashes: np.ndarray, k: int) -> set[tuple[int, int]]:
    dist = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    i, j = np.nonzero(np.triu(dist <= k, 1))
    return set(zip(i.tolist(), j.tolist(), strict=True))


# --------------------------------------------------------------------------- candidate search


@pytest.mark.parametrize(("k", "m"), [(6, 8), (6, 7), (4, 6), (2, 5), (0, 2), (6, 9)])
def test_band_search_finds_exactly_the_pairs_within_k_each_once(k, m):
    hashes = planted_hashes(np.random.default_rng(k * 10 + m), 1500, k)
    expected = brute_force_pairs(hashes, k)
    assert len(expected) > 100  # the planted copies, so the check has something to find
    found = nearsearch.near_pairs(hashes, k, m)
    pairs = list(zip(found.i.tolist(), found.j.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected
    assert found.distance.tolist() == [hamming(int(hashes[i]), int(hashes[j])) for i, j in pairs]
    assert found.compared < len(hashes) * (len(hashes) - 1) // 2  # not all pairs


@pytest.mark.parametrize(("k", "m"), [(6, 8), (6, 7)])
def test_grouping_by_band_keys_finds_the_same_pairs_as_sorting(k, m):
    """The Beam path: hashes grouped by their band keys, each group compared on its own."""
    hashes = planted_hashes(np.random.default_rng(7), 500, k)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, value in enumerate(hashes.tolist()):
        for key in nearsearch.band_keys(value, k, m):
            groups[key].append(index)
    pairs = []
    for (subset, _), members in groups.items():
        found = nearsearch.bucket_pairs(hashes[members], subset, k, m)
        pairs += [(members[a], members[b]) for a, b in zip(found.i.tolist(), found.j.tolist(), strict=True)]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == brute_force_pairs(hashes, k)


@pytest.mark.parametrize(("k", "m"), [(6, 7), (6, 8), (2, 5)])
def test_key_groups_of_a_block_are_the_groups_band_keys_define(k, m):
    """What the Beam path ships per block must be what band_keys gives hash by hash."""
    hashes = planted_hashes(np.random.default_rng(11), 400, k)
    expected: dict[tuple[int, int], set[int]] = defaultdict(set)
    for index, value in enumerate(hashes.tolist()):
        for key in nearsearch.band_keys(value, k, m):
            expected[key].add(index)
    groups = [((s, packed), set(pos.tolist())) for s, packed, pos in nearsearch.key_groups(hashes, k, m)]
    assert len(groups) == len(dict(groups)) == len(expected)
    assert dict(groups) == expected
    assert list(nearsearch.key_groups(hashes[:0], k, m)) == []


def test_pairs_within_a_large_group_is_computed_in_blocks(monkeypatch):
    monkeypatch.setattr(nearsearch, "_PAIR_BLOCK", 1000)
    hashes = planted_hashes(np.random.default_rng(3), 300, 4)
    found = nearsearch.pairs_within(hashes, 4)
    assert set(zip(found.i.tolist(), found.j.tolist(), strict=True)) == brute_force_pairs(hashes, 4)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (DedupConfig(near_distance=6, near_bands=6), "above the distance"),
        (DedupConfig(near_distance=64), "distance must be"),
        (DedupConfig(near_distance=20, near_bands=40), "keys per hash"),
        (DedupConfig(boilerplate_articles=0), "boilerplate_articles"),
        (DedupConfig(near_bands=-1), "near_bands"),
    ],
)
def test_unworkable_settings_are_refused_with_a_message(config, message):
    with pytest.raises(ValueError, match=message):
        check_config(config)


def test_band_choice_trades_keys_for_group_size():
    """Cheap keys (in memory) buy more bands as n grows; costly ones (Beam records) fewer."""
    memory = [nearsearch.choose_bands(K, n, 10.0) for n in (10**3, 10**5, 10**7, 10**9)]
    beam = [nearsearch.choose_bands(K, n, 4000.0) for n in (10**3, 10**5, 10**7, 10**9)]
    assert memory == sorted(memory) and beam == sorted(beam)
    assert memory[0] == beam[0] == K + 1 and memory[-1] > beam[-1] > K + 1
    assert all(b <= m for b, m in zip(beam, memory, strict=True))


def test_default_and_exact_only_settings_are_accepted():
    check_config(DedupConfig())
    check_config(DedupConfig(near_distance=-1))


# --------------------------------------------------------------------------- policy


def test_exact_copies_collapse_to_the_newest_version_then_smallest_pmcid():
    samples = [
        make_sample("PMC20_1_f1", 0xF0F0, pixel="p", caption="same words"),
        make_sample("PMC100_1_f1", 0xF0F0, pixel="p", caption="same words"),
        make_sample("PMC900_2_f3", 0xF0F0, pixel="p", version=2, caption="other words"),
        make_sample("PMC9_1_f1", 0xF0F0, pixel="p", caption="same words"),
    ]
    out = outcome(samples)
    assert [k for k, s in out.items() if not s.reject_reason] == ["PMC900_2_f3"]  # version 2 wins
    del samples[2]
    out = outcome(samples)
    kept = out["PMC9_1_f1"]  # PMC9 < PMC20 < PMC100 as numbers, not as strings
    assert (kept.reject_reason, kept.cluster_id, kept.cluster_size) == ("", "PMC9_1_f1", 3)
    for key in ("PMC20_1_f1", "PMC100_1_f1"):
        assert out[key].reject_reason == reasons.DUPLICATE_EXACT
        assert out[key].duplicate_of == "PMC9_1_f1"
        assert out[key].reject_detail == "same image and caption"
        assert out[key].image is None


def test_exact_key_falls_back_to_the_file_hash_when_there_is_no_pixel_hash():
    a = make_sample("PMC1_1_a", None)
    b = make_sample("PMC2_1_b", None)
    a.pixel_sha256 = b.pixel_sha256 = ""
    a.src_sha256 = b.src_sha256 = "filehash"
    assert digest(a).image_key == "filehash"
    assert outcome([a, b])["PMC2_1_b"].reject_reason == reasons.DUPLICATE_EXACT
    a.src_sha256 = b.src_sha256 = ""
    assert {s.reject_reason for s in outcome([a, b]).values()} == {""}


def test_near_copies_within_k_collapse_and_beyond_k_stay():
    base = 0x0123_4567_89AB_CDEF
    samples = [
        make_sample("PMC1_1_a", base),
        make_sample("PMC2_1_b", flip(base, list(range(K)))),
        make_sample("PMC3_1_c", flip(base, list(range(10, 10 + K + 1)))),
    ]
    out = outcome(samples)
    assert out["PMC2_1_b"].reject_reason == reasons.DUPLICATE_NEAR
    assert out["PMC2_1_b"].reject_detail == f"phash distance {K}"
    assert out["PMC1_1_a"].cluster_size == 2
    assert out["PMC3_1_c"].reject_reason == "" and out["PMC3_1_c"].cluster_size == 1
    assert outcome(samples, DedupConfig(near_distance=-1))["PMC2_1_b"].reject_reason == ""


def test_chain_a_near_b_near_c_keeps_a_and_c_when_a_ranks_first():
    """A~B (4 bits), B~C (4 other bits), A and C 8 apart: B is dropped for A, C kept."""
    a = 0xAAAA_5555_AAAA_5555
    b, c = flip(a, [0, 1, 2, 3]), flip(a, [0, 1, 2, 3, 20, 21, 22, 23])
    assert hamming(a, b) <= K and hamming(b, c) <= K and hamming(a, c) > K
    out = outcome([make_sample("PMC1_1_A", a), make_sample("PMC2_1_B", b), make_sample("PMC3_1_C", c)])
    assert {k: (s.reject_reason, s.duplicate_of) for k, s in out.items()} == {
        "PMC1_1_A": ("", ""),
        "PMC2_1_B": (reasons.DUPLICATE_NEAR, "PMC1_1_A"),
        "PMC3_1_C": ("", ""),
    }


def test_chain_with_the_middle_ranked_first_is_one_cluster():
    a = 0xAAAA_5555_AAAA_5555
    b, c = flip(a, [0, 1, 2, 3]), flip(a, [0, 1, 2, 3, 20, 21, 22, 23])
    out = outcome([make_sample("PMC2_1_A", a), make_sample("PMC1_1_B", b), make_sample("PMC3_1_C", c)])
    assert [k for k, s in out.items() if not s.reject_reason] == ["PMC1_1_B"]
    assert {out[k].duplicate_of for k in ("PMC2_1_A", "PMC3_1_C")} == {"PMC1_1_B"}
    assert {s.cluster_size for s in out.values()} == {3}


def test_an_image_in_more_articles_than_the_limit_is_boilerplate_everywhere():
    limit = DedupConfig().boilerplate_articles
    logo = 0x8000_0000_0000_0000
    copies = [make_sample(f"PMC{n}_1_logo", logo, pixel="logo") for n in range(1, limit + 2)]
    copies.append(make_sample("PMC99_1_logo_scaled", flip(logo, [5, 9])))  # a rescaled copy
    out = outcome(copies)
    assert {s.reject_reason for s in out.values()} == {reasons.BOILERPLATE}
    assert out["PMC1_1_logo"].duplicate_of == "" and out["PMC2_1_logo"].duplicate_of == "PMC1_1_logo"
    assert out["PMC99_1_logo_scaled"].reject_detail == f"the image is in {limit + 2} articles"
    within = outcome(copies[: limit - 1] + copies[-1:])  # limit articles in all: not boilerplate
    assert sorted(s.reject_reason for s in within.values()) == [""] + [reasons.DUPLICATE_EXACT] * (
        limit - 2
    ) + [reasons.DUPLICATE_NEAR]


def test_a_cluster_keeps_its_representatives_split():
    samples = [
        make_sample("PMC5_1_a", 0x1234, pixel="x", split="test"),
        make_sample("PMC7_1_b", 0x1234, pixel="x", split="train"),
    ]
    out = outcome(samples)
    assert out["PMC5_1_a"].split == "test" and out["PMC5_1_a"].reject_reason == ""
    assert out["PMC7_1_b"].reject_reason == reasons.DUPLICATE_EXACT


def test_decisions_do_not_depend_on_input_order():
    samples = random_corpus(random.Random(5), 150)
    first = deduplicate((digest(s) for s in samples), DedupConfig())
    random.Random(1).shuffle(samples)
    assert deduplicate((digest(s) for s in samples), DedupConfig()) == first


def test_singletons_get_their_own_cluster_and_disabled_dedup_keeps_everything():
    samples = random_corpus(random.Random(2), 50)
    lone = apply_decision(samples[0], None)
    assert (lone.cluster_id, lone.cluster_size, lone.reject_reason) == (samples[0].key, 1, "")
    out = deduplicate_samples(samples, DedupConfig(enabled=False))
    assert [s.reject_reason for s in out] == [""] * len(samples)


# --------------------------------------------------------------------------- brute-force check


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_two_kept_samples_are_near_duplicates_and_every_drop_names_a_close_kept_sample(seed):
    samples = random_corpus(random.Random(seed), 300)
    out = deduplicate_samples(samples, DedupConfig())
    kept = [s for s in out if not s.reject_reason]
    by_key = {s.key: s for s in out}
    assert 0 < len(kept) < len(out)
    for x, y in itertools.combinations(kept, 2):
        distance = hamming(int(x.phash, 16), int(y.phash, 16))
        assert distance > K, (x.key, x.split, y.key, y.split, distance)
    for s in out:
        if s.reject_reason in (reasons.DUPLICATE_EXACT, reasons.DUPLICATE_NEAR):
            rep = by_key[s.duplicate_of]
            assert rep.reject_reason == "" and rep.cluster_id == s.cluster_id == rep.key
            assert hamming(int(s.phash, 16), int(rep.phash, 16)) <= K
            assert (s.pixel_sha256 == rep.pixel_sha256) == (s.reject_reason == reasons.DUPLICATE_EXACT)
    sizes = defaultdict(int)
    for s in out:
        sizes[s.cluster_id] += 1
    assert all(sizes[s.cluster_id] == s.cluster_size for s in out)
