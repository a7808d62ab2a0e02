"""The shard format's names and their parsing (pmc15m.shards.format).

The literal names are spelled here on purpose: the test holds the promise independently of
the module that keeps it.
"""

from __future__ import annotations

import pytest

from pmc15m.shards import format as fmt


def test_shard_names_round_trip() -> None:
    assert fmt.shard_name(7) == "00007"
    assert fmt.shard_files("00007") == ("00007.tar", "00007.parquet", "00007_stats.json")
    assert [fmt.shard_number(n) for n in ("00007.tar", "00012.parquet")] == [7, 12]
    assert {fmt.shard_stem(n) for n in fmt.shard_files("00003")} == {"00003"}
    assert fmt.parse_shard_id(fmt.shard_id("train", "00003")) == ("train", "00003")


def test_patterns() -> None:
    assert fmt.brace_pattern("train", 41) == "train/{00000..00041}.tar"
    assert fmt.tars_glob("test") == "test/*.tar"
    assert fmt.is_parquet("00000.parquet") and not fmt.is_parquet(".00000.parquet.tmp-1-x")
    assert fmt.is_numbered("00000.tar") and not fmt.is_numbered("sizes.json")


def test_members() -> None:
    assert fmt.member_name("PMC1_1_F1", fmt.JSON) == "PMC1_1_F1.json"
    assert fmt.split_member("PMC1_1_F1.webp") == ("PMC1_1_F1", "webp")
    assert fmt.image_kind_for("webp") == "webp" and fmt.image_kind_for("jpeg") == "jpg"


@pytest.mark.parametrize(("key", "valid"), [("PMC1_1_F1", True), ("", False), ("a.b", False), ("a/b", False)])
def test_key_rule(key: str, valid: bool) -> None:
    assert fmt.is_valid_key(key) is valid
