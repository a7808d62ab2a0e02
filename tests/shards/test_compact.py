"""Copy-on-write compaction of a released shard (pmc15m.shards.compact): the same bytes a fresh write
of the surviving samples gives, empty trios that stay readable, and the shards it picks."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import webdataset as wds
from test_shards import _sample

from pmc15m.shards import compact
from pmc15m.shards.inspect import read_tar
from pmc15m.shards.writers import write_shard

TRIO = ("00000.tar", "00000.parquet", "00000_stats.json")


def _trio(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TRIO}


@pytest.fixture
def released(tmp_path: Path) -> tuple[Path, list]:
    samples = [_sample(i) for i in range(12)] + [_sample(12, "WEBP")]
    write_shard(str(tmp_path / "out" / "train"), "00000", samples)
    return tmp_path / "out", samples


def test_retiring_keys_gives_the_bytes_of_a_fresh_shard_of_the_rest(released, tmp_path):
    out, samples = released
    retired = {samples[0].key, samples[5].key, samples[12].key}  # the WebP one too
    result = compact.compact_shard(str(out), "train/00000", sorted(retired))
    fresh = tmp_path / "fresh"
    write_shard(str(fresh), "00000", [s for s in samples if s.key not in retired])
    assert _trio(out / "train") == _trio(fresh)
    assert result["count"] == len(samples) - 3 and result["retired"] == 3
    written = (out / "train" / "00000.tar").stat().st_size + (out / "train" / "00000.parquet").stat().st_size
    assert result["bytes_rewritten"] == written


def test_compacting_again_or_retiring_nothing_changes_no_byte(released):
    out, samples = released
    before = _trio(out / "train")
    compact.compact_shard(str(out), "train/00000", [])
    assert _trio(out / "train") == before
    compact.compact_shard(str(out), "train/00000", [samples[3].key])
    once = _trio(out / "train")
    compact.compact_shard(str(out), "train/00000", [samples[3].key])  # a resumed update
    assert _trio(out / "train") == once != before


def test_a_shard_whose_every_sample_retired_stays_an_empty_readable_trio(released):
    out, samples = released
    write_shard(str(out / "train"), "00001", [_sample(20), _sample(21)])
    result = compact.compact_shard(str(out), "train/00000", [s.key for s in samples])
    assert result["count"] == 0
    tar = out / "train" / "00000.tar"
    pattern = str(out / "train" / "{00000..00001}.tar")  # the brace pattern still matches
    keys = [s["__key__"] for s in wds.WebDataset(pattern, shardshuffle=False)]
    assert keys == sorted([_sample(20).key, _sample(21).key])
    assert pq.read_table(out / "train" / "00000.parquet").num_rows == 0
    problems: list[str] = []
    assert read_tar(str(tar), problems).keys == [] and problems == []


def test_a_tar_and_parquet_that_disagree_are_refused(released):
    out, samples = released
    write_shard(str(out / "other"), "00000", samples[:4])
    (out / "train" / "00000.parquet").write_bytes((out / "other" / "00000.parquet").read_bytes())
    before = _trio(out / "train")
    with pytest.raises(ValueError, match="different samples"):
        compact.compact_shard(str(out), "train/00000", [samples[0].key])
    assert _trio(out / "train") == before  # nothing written


def test_only_shards_holding_an_indexed_retired_sample_are_rewritten():
    indexed = [
        {"key": "PMC1_1_f", "shard": "train/00000"},
        {"key": "PMC2_1_f", "shard": "train/00001"},
        {"key": "PMC1_1_f", "shard": "train/00004"},  # a changed version's new copy
    ]
    tombstones = [
        {"key": "PMC1_1_f", "shard": "train/00000"},
        {"key": "PMC3_1_f", "shard": "test/00000"},  # compacted by an earlier update
    ]
    assert compact.retired_by_shard(indexed, tombstones) == {"train/00000": ("PMC1_1_f",)}
