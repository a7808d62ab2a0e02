"""Place: dedup decisions and shard numbers applied to the samples in one join."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.local_runner import LocalRunner
from pipelines.placement import PLACED, REJECTS, Place
from pmc15m.core import reasons
from pmc15m.core.record import Sample
from pmc15m.rules.dedup import Decision
from pmc15m.rules.splits import assign_shard, shard_count


def _sample(key: str, split: str) -> Sample:
    return Sample(
        key=key, pmcid=key.split("_")[0], version=1, caption=f"caption of {key}", split=split, image=b"x"
    )


def _assert_placed(
    samples: list[Sample], decisions: list[Decision], shard_size: int, placed: list, rejected: list
) -> None:
    """Place's outputs are ``placed`` as (split, shard, key, cluster_id) and ``rejected`` as
    (key, reason, split)."""
    with TestPipeline(runner=LocalRunner()) as p:
        out = {
            "samples": p | "Samples" >> beam.Create(samples),
            "decisions": p | "Decisions" >> beam.Create([(d.key, d[:]) for d in decisions]),
        } | Place(shard_size)
        rows = out[PLACED] | "P" >> beam.MapTuple(lambda where, s: (*where, s.key, s.cluster_id))
        assert_that(rows, equal_to(placed), label="placed")
        rejects = out[REJECTS] | "R" >> beam.Map(lambda s: (s.key, s.reject_reason, s.split))
        assert_that(rejects, equal_to(rejected), label="rejected")


def test_a_moved_sample_is_numbered_among_its_new_split_and_a_dropped_one_gets_no_shard():
    samples = [
        _sample("PMC1_1_a", "train"),
        _sample("PMC2_1_b", "train"),
        _sample("PMC3_1_c", "train"),
        _sample("PMC4_1_d", "test"),  # an exact copy of c with another caption: moves to train
        _sample("PMC5_1_e", "validation"),  # a near duplicate of a: dropped, its split left empty
    ]
    decisions = [
        Decision("PMC3_1_c", "PMC3_1_c", 2, "train"),
        Decision("PMC4_1_d", "PMC3_1_c", 2, "train"),
        Decision("PMC1_1_a", "PMC1_1_a", 2, "train"),
        Decision("PMC5_1_e", "PMC1_1_a", 2, "train", reasons.DUPLICATE_NEAR, "PMC1_1_a"),
    ]
    kept_train = ["PMC1_1_a", "PMC2_1_b", "PMC3_1_c", "PMC4_1_d"]  # 4 kept: 2 shards of 3 (d counted)
    placed = [
        ("train", assign_shard(key, shard_count(4, 3)), key, cluster)
        for key, cluster in zip(kept_train, ["PMC1_1_a", "PMC2_1_b", "PMC3_1_c", "PMC3_1_c"], strict=True)
    ]
    assert {shard for _, shard, _, _ in placed} == {0, 1}  # without d, train would be one shard
    rejected = [("PMC5_1_e", reasons.DUPLICATE_NEAR, "validation")]
    _assert_placed(samples, decisions, 3, placed, rejected)


def test_without_decisions_every_sample_keeps_its_split_and_counts_only_there():
    samples = [_sample(f"PMC{i}_1_f", "train") for i in range(1, 8)] + [_sample("PMC9_1_f", "test")]
    # 7 in train: 3 shards; a lone sample is its own cluster
    placed = [("train", assign_shard(s.key, 3), s.key, s.key) for s in samples[:7]]
    _assert_placed(samples, [], 3, [*placed, ("test", 0, "PMC9_1_f", "PMC9_1_f")], [])


def test_a_shard_size_below_one_is_refused():
    with pytest.raises(ValueError, match="shard_size"):
        Place(0)
