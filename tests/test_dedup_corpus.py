"""Deduplication in a real build of the mini corpus, against its planted duplicates."""

from __future__ import annotations

import itertools

from pmc15m import reasons
from pmc15m.config import DedupConfig
from pmc15m.dedup import hamming
from pmc15m.dedup_eval import detection_scores, output_rows

DUPLICATE_REASONS = {reasons.DUPLICATE_EXACT, reasons.DUPLICATE_NEAR, reasons.BOILERPLATE}


def test_every_planted_duplicate_is_found_and_nothing_else(demo_build, ground_truth):
    kept, rejected = output_rows(demo_build)
    scores = detection_scores(ground_truth["duplicates"], kept, rejected)
    assert scores["exact"]["groups"] >= 3 and scores["near"]["groups"] >= 2
    assert scores == {
        kind: {"groups": s["groups"], "recall": 1.0, "precision": 1.0} for kind, s in scores.items()
    }
    planted = {key for groups in ground_truth["duplicates"].values() for g in groups for key in g}
    false_drops = [
        k for k, row in rejected.items() if row["reject_reason"] in DUPLICATE_REASONS and k not in planted
    ]
    assert false_drops == []


def test_no_two_kept_samples_in_different_splits_are_within_the_near_distance(demo_build):
    """Brute force over all kept pairs. The policy promises more than the split guarantee
    (no two kept samples within k at all), so pairs in one split are checked too."""
    kept, _ = output_rows(demo_build)
    k = DedupConfig().near_distance
    assert len({row["split"] for row in kept.values()}) >= 2  # the check spans splits
    close = [
        (a["key"], a["split"], b["key"], b["split"])
        for a, b in itertools.combinations(kept.values(), 2)
        if hamming(int(a["phash"], 16), int(b["phash"], 16)) <= k
    ]
    assert [c for c in close if c[1] != c[3]] == []
    assert close == []


def test_kept_samples_carry_their_cluster(demo_build, ground_truth):
    kept, rejected = output_rows(demo_build)
    for row in kept.values():
        members = [r for r in rejected.values() if r["cluster_id"] == row["key"]]
        assert row["cluster_id"] == row["key"]
        assert row["cluster_size"] == 1 + len(members)
        assert all(r["duplicate_of"] == row["key"] for r in members)
    for group in ground_truth["duplicates"]["exact"]:
        rep = next(k for k in group if k in kept)
        assert kept[rep]["cluster_size"] == len(group)
