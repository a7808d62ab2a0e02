"""The build index (pmc15m.shards.index) and the update's bookkeeping (pmc15m.shards.update),
as plain functions."""

from __future__ import annotations

import json
import shutil

from pmc15m.core import reasons
from pmc15m.core.config import DedupConfig
from pmc15m.rules import dedup
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import index, update
from pmc15m.shards import plan as index_plan
from pmc15m.shards.inspect import inspect_output

B0 = "build0"


def _article(
    pmcid: str, version: int, etag: str, outcome: str = index.PROCESSED
) -> index_plan.IndexedArticle:
    return index_plan.IndexedArticle(pmcid, version, etag, outcome, 1, B0)


def _sample(key: str, pmcid: str, version: int, shard: str = "train/00000") -> dict:
    return {"key": key, "pmcid": pmcid, "version": version, "shard": shard}


def test_plan_processes_new_changed_and_unsettled_versions_and_tombstones_the_rest():
    previous = [
        _article("PMC1", 1, "a"),  # unchanged
        _article("PMC2", 1, "b"),  # changed: new ETag
        _article("PMC3", 1, "c"),  # superseded by version 2
        _article("PMC4", 1, "d"),  # removed
        _article("PMC5", 1, "e", reasons.FETCH_FAILED),  # transient: tried again
        _article("PMC6", 1, "f", reasons.SUPERSEDED_VERSION),  # v2 gone: v1 is newest now
        _article("PMC6", 2, "g"),
        _article("PMC7", 1, "h", reasons.LICENSE_EXCLUDED),  # settled: not tried again
    ]
    samples = [
        _sample("PMC1_1_f", "PMC1", 1),
        _sample("PMC2_1_f", "PMC2", 1),
        _sample("PMC3_1_f", "PMC3", 1, "test/00002"),
        _sample("PMC4_1_f", "PMC4", 1),
        _sample("PMC6_2_f", "PMC6", 2),
    ]
    listed = [
        ("PMC1", 1, "a"),
        ("PMC2", 1, "B"),
        ("PMC3", 1, "c"),
        ("PMC3", 2, "c2"),
        ("PMC5", 1, "e"),
        ("PMC6", 1, "f"),
        ("PMC7", 1, "h"),
        ("PMC8", 1, "new"),
    ]
    plan = index_plan.plan_update(previous, samples, listed, "b1")
    assert plan.process == {("PMC2", 1), ("PMC3", 2), ("PMC5", 1), ("PMC6", 1), ("PMC8", 1)}
    assert plan.unchanged == {("PMC1", 1), ("PMC7", 1)}
    assert [(t["key"], t["reason"]) for t in plan.tombstones] == [
        ("PMC3_1_f", "superseded"),  # sorted by shard, then key
        ("PMC2_1_f", "changed"),
        ("PMC4_1_f", "removed"),
        ("PMC6_2_f", "removed"),
    ]
    assert plan.summary() == {
        "versions_processed": 5,
        "versions_unchanged": 2,
        "tombstones": {"changed": 1, "removed": 2, "superseded": 1},
    }
    assert plan.process_pmcids == frozenset({"PMC2", "PMC3", "PMC5", "PMC6", "PMC8"})


def test_a_listing_equal_to_the_index_plans_nothing():
    previous = [_article("PMC1", 1, "a"), _article("PMC1", 2, "b")]
    plan = index_plan.plan_update(
        previous, [_sample("PMC1_2_f", "PMC1", 2)], [("PMC1", 1, "a"), ("PMC1", 2, "b")], "x"
    )
    assert plan.empty and plan.unchanged == {("PMC1", 2)}


def test_live_rows_drop_a_tombstoned_key_only_in_its_shard():
    samples = [_sample("K", "PMC1", 1, "train/00000"), _sample("K", "PMC1", 1, "train/00007")]
    live = index_plan.live_sample_rows(samples, [{"key": "K", "shard": "train/00000"}])
    assert [r["shard"] for r in live] == ["train/00007"]


def test_article_rows_prefer_a_reject_reason_and_count_kept_samples():
    (row,) = index.article_rows("PMC1", 1, ["e"], [index.NOT_SELECTED, reasons.RETRACTED], 0, B0)
    assert row["outcome"] == reasons.RETRACTED
    (row,) = index.article_rows("PMC1", 1, ["e", "e"], [], 3, B0)
    assert (row["outcome"], row["samples_kept"]) == (index.PROCESSED, 3)
    (row,) = index.article_rows("PMC1", 1, ["e"], [index.NOT_SELECTED], 0, B0)
    assert row["outcome"] == index.NOT_SELECTED


def test_merge_keeps_previous_rows_of_unprocessed_pmcids_and_drops_unlisted_versions():
    previous = [
        {"pmcid": "PMC1", "version": 1, "metadata_etag": "a", "outcome": "processed", "build_id": B0},
        {"pmcid": "PMC2", "version": 1, "metadata_etag": "b", "outcome": "processed", "build_id": B0},
        {"pmcid": "PMC3", "version": 1, "metadata_etag": "c", "outcome": "processed", "build_id": B0},
    ]
    current = [
        {
            "pmcid": "PMC1",
            "version": 1,
            "metadata_etag": "a",
            "outcome": index.NOT_SELECTED,
            "build_id": "b1",
        },
        {"pmcid": "PMC2", "version": 1, "metadata_etag": "B", "outcome": "processed", "build_id": "b1"},
    ]
    merged = index_plan.merge_articles(previous, current, frozenset({"PMC2"}))
    assert [(r["pmcid"], r["metadata_etag"], r["build_id"]) for r in merged] == [
        ("PMC1", "a", B0),
        ("PMC2", "B", "b1"),
    ]


def test_index_files_are_byte_identical_whatever_the_row_order(tmp_path):
    rows = [
        {"pmcid": f"PMC{i}", "version": 1, "metadata_etag": str(i), "outcome": "processed", "samples_kept": i}
        for i in range(50)
    ]
    samples = [
        {
            "key": f"PMC{i}_1_f",
            "pmcid": f"PMC{i}",
            "version": 1,
            "split": "train",
            "shard": f"train/{i % 3:05d}",
        }
        for i in range(50)
    ]
    index.write_index(str(tmp_path / "a"), rows, samples)
    index.write_index(str(tmp_path / "b"), rows[::-1], samples[::-1])
    for name in (index.ARTICLES_FILE, index.SAMPLES_FILE):
        assert (tmp_path / "a" / "index" / name).read_bytes() == (
            tmp_path / "b" / "index" / name
        ).read_bytes()
    articles, read_samples = index.read_index(str(tmp_path / "a"))
    assert [r["pmcid"] for r in articles] == sorted(r["pmcid"] for r in rows)
    assert [(r["shard"], r["key"]) for r in read_samples] == sorted((r["shard"], r["key"]) for r in samples)


def test_new_shards_and_reject_files_are_numbered_after_the_last_ones():
    context = update.UpdateContext(
        base_dir="",
        previous_build_id=B0,
        processed=frozenset(),
        tombstones=[],
        summary={},
        sizes={"train": {"00000.tar": 5, "00003.tar": 4}, "validation": {}},
        reject_files=["00000.parquet", "00001.parquet"],
    )
    assert (
        context.shard_offset("train"),
        context.shard_offset("validation"),
        context.shard_offset("test"),
    ) == (4, 0, 0)
    assert context.reject_offset == 2
    merged = update.merged_sizes(context.sizes, [{"split": "train", "name": "00004", "count": 2}])
    assert merged["train"] == {"00000.tar": 5, "00003.tar": 4, "00004.tar": 2}


def _new(key: str, pmcid: str, pixel: str, phash: int, split: str, version: int = 9) -> dedup.Digest:
    return dedup.Digest(key, pmcid, split, pixel, phash, "c", dedup.rank_of(key, pmcid, version))


def test_a_released_sample_wins_its_cluster_and_keeps_its_split():
    row = {
        "key": "PMC9_1_f",
        "pmcid": "PMC9",
        "split": "test",
        "pixel_sha256": "p",
        "phash": f"{0xF0F0:016x}",
    }
    released = update.released_digest(row)
    # A newer version with a smaller PMCID would win against any new sample: not against released.
    exact = _new("PMC1_9_a", "PMC1", "p", 0xF0F0, "train")
    near = _new("PMC2_9_b", "PMC2", "q", 0xF0F1, "train")
    decisions = dedup.deduplicate([exact, near, released], DedupConfig())
    assert decisions["PMC9_1_f"].reason == ""
    assert (decisions["PMC1_9_a"].reason, decisions["PMC1_9_a"].duplicate_of) == (
        reasons.DUPLICATE_EXACT,
        "PMC9_1_f",
    )
    assert (decisions["PMC2_9_b"].reason, decisions["PMC2_9_b"].split) == (reasons.DUPLICATE_NEAR, "test")


def test_inspect_finds_an_index_that_disagrees_with_the_shards(small_build, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_build, out)
    assert inspect_output(str(out)).problems == []
    articles, samples = index.read_index(str(out))
    in_shards = sum(sum(json.loads((out / s / "sizes.json").read_text()).values()) for s in SPLITS)
    assert len(samples) == in_shards > 0
    index.write_index(str(out), articles, samples[1:])
    problems = inspect_output(str(out)).problems
    assert any("1 not in the index" in p for p in problems), problems


def test_articles_that_lost_a_duplicate_to_a_retired_sample_are_processed_again(tmp_path):
    """PMC1 is retracted: PMC2 lost a figure to it, so PMC2 is processed again; PMC2's
    retired sample in turn freed PMC3's copy (a chain); PMC4 lost only to a live sample."""
    from pmc15m.shards.writers import write_rejects

    dropped = [
        _dropped("PMC2", reasons.DUPLICATE_EXACT, "PMC1_1_f"),
        _dropped("PMC3", reasons.DUPLICATE_NEAR, "PMC2_1_f"),
        _dropped("PMC4", reasons.DUPLICATE_EXACT, "PMC9_1_f"),
        _dropped("PMC5", reasons.BOILERPLATE, "PMC1_1_f"),
    ]
    write_rejects(str(tmp_path / "rejects"), "00000", dropped)
    dependents = update.duplicates_by_representative(str(tmp_path), ["00000.parquet"])
    assert dependents == {"PMC1_1_f": {"PMC2"}, "PMC2_1_f": {"PMC3"}, "PMC9_1_f": {"PMC4"}}
    pmcids = ("PMC1", "PMC2", "PMC3", "PMC4", "PMC5", "PMC9")
    previous = [_article(p, 1, "e") for p in pmcids]
    samples = [_sample(f"{p}_1_f", p, 1) for p in pmcids]
    listed = [(p, 1, "e") for p in pmcids if p != "PMC1"]  # PMC1 taken down
    plan = update.plan_with_dependents(previous, samples, listed, dependents)
    assert plan.process == {("PMC2", 1), ("PMC3", 1)}
    assert sorted((t["key"], t["reason"]) for t in plan.tombstones) == [
        ("PMC1_1_f", "removed"),
        ("PMC2_1_f", "reprocessed"),
        ("PMC3_1_f", "reprocessed"),
    ]


def _dropped(pmcid: str, reason: str, representative: str):
    from pmc15m.core.record import Sample

    return Sample(
        key=f"{pmcid}_1_g", pmcid=pmcid, version=1, reject_reason=reason, duplicate_of=representative
    )
