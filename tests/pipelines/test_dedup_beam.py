"""The Deduplicate transform on the local runner, with exact expectations."""

from __future__ import annotations

import random

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to
from support.dedup_cases import flip, make_sample, random_corpus  # tests/ is on sys.path

from pipelines.dedup import Deduplicate
from pipelines.local_runner import LocalRunner
from pmc15m.core import reasons
from pmc15m.core.config import DedupConfig
from pmc15m.rules.dedup import deduplicate_samples

LOGO = 0x8000_0000_0000_0000
A = 0xAAAA_5555_AAAA_5555


def _small_set() -> list:
    """An exact pair, a chain A~B~C, a logo in six articles and a lone figure."""
    return [
        make_sample("PMC10_1_f1", 0x0F0F_0F0F_0F0F_0F0F, pixel="same"),
        make_sample("PMC11_2_f4", 0x0F0F_0F0F_0F0F_0F0F, pixel="same", version=2, split="test"),
        make_sample("PMC20_1_A", A),
        make_sample("PMC21_1_B", flip(A, [0, 1, 2, 3])),
        make_sample("PMC22_1_C", flip(A, [0, 1, 2, 3, 20, 21, 22, 23]), split="validation"),
        *[make_sample(f"PMC3{n}_1_logo", LOGO, pixel="logo") for n in range(6)],
        make_sample("PMC40_1_alone", 0x1234_5678_9ABC_DEF0),
    ]


def _run(samples: list, config: DedupConfig) -> tuple[list, list]:
    """Kept (key, split, cluster_id, cluster_size) and rejected (key, reason, duplicate_of)."""
    kept, rejected = [], []
    for s in deduplicate_samples(samples, config):
        if s.reject_reason:
            rejected.append((s.key, s.reject_reason, s.duplicate_of))
        else:
            kept.append((s.key, s.split, s.cluster_id, s.cluster_size))
    return kept, rejected


def _assert_transform(
    samples: list, config: DedupConfig, kept: list, rejected: list, blocks: int = 64
) -> None:
    with test_pipeline.TestPipeline(runner=LocalRunner()) as p:
        out = p | beam.Create(samples) | Deduplicate(config, near_blocks=blocks)
        assert_that(
            out["samples"] | "Kept" >> beam.Map(lambda s: (s.key, s.split, s.cluster_id, s.cluster_size)),
            equal_to(kept),
            label="kept",
        )
        assert_that(
            out["rejects"] | "Rejected" >> beam.Map(lambda s: (s.key, s.reject_reason, s.duplicate_of)),
            equal_to(rejected),
            label="rejects",
        )


def test_deduplicate_keeps_one_per_cluster_and_rejects_the_rest_with_their_reason():
    kept = [
        ("PMC11_2_f4", "test", "PMC11_2_f4", 2),  # version 2 beats the smaller PMCID
        ("PMC20_1_A", "train", "PMC20_1_A", 2),
        ("PMC22_1_C", "validation", "PMC22_1_C", 1),  # B's chain neighbour, 8 bits from A
        ("PMC40_1_alone", "train", "PMC40_1_alone", 1),
    ]
    rejected = [
        ("PMC10_1_f1", reasons.DUPLICATE_EXACT, "PMC11_2_f4"),
        ("PMC21_1_B", reasons.DUPLICATE_NEAR, "PMC20_1_A"),
        ("PMC30_1_logo", reasons.BOILERPLATE, ""),
        *[(f"PMC3{n}_1_logo", reasons.BOILERPLATE, "PMC30_1_logo") for n in range(1, 6)],
    ]
    assert _run(_small_set(), DedupConfig()) == (kept, rejected)  # the library agrees
    _assert_transform(_small_set(), DedupConfig(), kept, rejected)


def test_deduplicate_exact_only_and_disabled():
    exact_only = DedupConfig(near_distance=-1)
    kept, rejected = _run(_small_set(), exact_only)
    assert ("PMC21_1_B", "train", "PMC21_1_B", 1) in kept
    _assert_transform(_small_set(), exact_only, kept, rejected)
    everything = [(s.key, s.split, s.key, 1) for s in _small_set()]
    _assert_transform(_small_set(), DedupConfig(enabled=False), everything, [])


# Bands chosen (7 for this size) or set; refs spread over many blocks (most candidate
# groups gather parts from several blocks) or one (each group is one record).
@pytest.mark.parametrize(("bands", "blocks"), [(0, 64), (8, 1)])
def test_deduplicate_agrees_with_the_library_on_a_random_corpus(bands, blocks):
    samples = random_corpus(random.Random(3), 200)
    config = DedupConfig(near_bands=bands)
    kept, rejected = _run(samples, config)
    assert len(rejected) > 50  # exact copies, near copies and chains were planted
    _assert_transform(samples, config, kept, rejected, blocks)
