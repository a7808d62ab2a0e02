"""Inventory reading and the local source, on inventories written by the tests."""

from __future__ import annotations

import gzip
import json

import pytest

from pmc15m.sources.errors import ObjectMissing, SourceError
from pmc15m.sources.inventory import (
    INVENTORY_PREFIX,
    choose_report,
    parse_article_key,
    parse_inventory_part,
    parse_manifest,
)
from pmc15m.sources.local import LocalSource
from pmc15m.sources.metadata import parse_object_url


def _part(rows: list[list[str]]) -> bytes:
    text = "".join(",".join(f'"{c}"' for c in row) + "\n" for row in rows)
    return gzip.compress(text.encode(), mtime=0)


def _write_bucket(root, reports: dict[str, list[list[str]]]) -> None:
    for date, rows in reports.items():
        part_key = f"{INVENTORY_PREFIX}data/{date}.csv.gz"
        (root / part_key).parent.mkdir(parents=True, exist_ok=True)
        (root / part_key).write_bytes(_part(rows))
        manifest = {"fileFormat": "CSV", "files": [{"key": part_key, "size": 1, "MD5checksum": "x"}]}
        folder = root / INVENTORY_PREFIX / date
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps(manifest))
    (root / INVENTORY_PREFIX / "hive").mkdir()


def test_choose_report_takes_lexically_last_dated_folder():
    folders = ["2026-11-19T01-00Z", "hive", "data", "2026-11-20T01-00Z", "2026-01-01T01-00Z"]
    assert choose_report(folders) == "2026-11-20T01-00Z"
    assert choose_report(folders, "2026-11-19T01-00Z") == "2026-11-19T01-00Z"


@pytest.mark.parametrize("pinned", ["2026-11-21T01-00Z", "yesterday", "hive"])
def test_choose_report_rejects_unknown_or_malformed_pins(pinned):
    with pytest.raises(SourceError, match="inventory"):
        choose_report(["2026-11-20T01-00Z", "hive"], pinned)


def test_choose_report_without_reports_is_a_clear_error():
    with pytest.raises(SourceError, match="no inventory report"):
        choose_report(["hive", "data"])


def test_parse_inventory_part_reads_rows_and_skips_strangers():
    data = _part(
        [
            ["pmc-oa-opendata", "metadata/PMC10000002.1.json", "2026-01-08T11:47:59.000Z", "abc"],
            ["pmc-oa-opendata", "metadata/PMC10000002.2.json", "2026-01-09T11:47:59.000Z", '"def"'],
            ["pmc-oa-opendata", "metadata/README.txt", "2026-01-08T11:47:59.000Z", "x"],
            ["short-row"],
        ]
    )
    versions = list(parse_inventory_part(data))
    assert [(v.pmcid, v.version, v.etag) for v in versions] == [
        ("PMC10000002", 1, "abc"),
        ("PMC10000002", 2, "def"),
    ]
    assert versions[0].metadata_key == "metadata/PMC10000002.1.json"
    assert versions[1].prefix == "PMC10000002.2/"


def test_parse_article_key():
    assert parse_article_key("metadata/PMC123.12.json") == ("PMC123", 12)
    assert parse_article_key("PMC123.1/PMC123.1.json") is None


def test_parse_manifest_sorts_parts_and_rejects_garbage():
    assert parse_manifest(json.dumps({"files": [{"key": "b"}, {"key": "a"}]}).encode()) == ["a", "b"]
    with pytest.raises(SourceError, match="manifest"):
        parse_manifest(b"{not json")
    with pytest.raises(SourceError, match="format"):
        parse_manifest(json.dumps({"fileFormat": "ORC", "files": []}).encode())


def test_parse_object_url_splits_key_and_md5():
    ref = parse_object_url("s3://pmc-oa-opendata/PMC1.1/fig%201.jpg?md5=0123abcd")
    assert (ref.key, ref.md5, ref.filename) == ("PMC1.1/fig%201.jpg", "0123abcd", "fig%201.jpg")
    https = parse_object_url("https://pmc-oa-opendata.s3.amazonaws.com/PMC1.1/a.jpg?md5=ff")
    assert (https.key, https.md5) == ("PMC1.1/a.jpg", "ff")
    path_style = parse_object_url("https://s3.amazonaws.com/pmc-oa-opendata/PMC1.1/a.jpg")
    assert (path_style.key, path_style.md5) == ("PMC1.1/a.jpg", "")


def test_local_source_lists_newest_report(tmp_path):
    row = ["pmc-oa-opendata", "metadata/PMC1.1.json", "t", "e1"]
    _write_bucket(
        tmp_path,
        {
            "2026-11-19T01-00Z": [row],
            "2026-11-20T01-00Z": [row, [*row[:1], "metadata/PMC2.1.json", "t", "e2"]],
        },
    )
    source = LocalSource(tmp_path)
    assert source.snapshot() == {"inventory_date": "2026-11-20T01-00Z"}
    assert [v.pmcid for v in source.list_article_versions()] == ["PMC1", "PMC2"]
    pinned = LocalSource(tmp_path, inventory_date="2026-11-19T01-00Z")
    assert [v.pmcid for v in pinned.list_article_versions()] == ["PMC1"]


def test_local_source_refuses_keys_that_escape_the_root(tmp_path):
    (tmp_path / "inside.txt").write_text("ok")
    (tmp_path.parent / "outside.txt").write_text("secret")
    source = LocalSource(tmp_path)
    assert source.read("inside.txt") == b"ok"
    with pytest.raises(ObjectMissing):
        source.read("../outside.txt")
    with pytest.raises(ObjectMissing):
        source.read("missing.txt")


def test_local_source_errors_are_clear(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        LocalSource(tmp_path / "nope")
    with pytest.raises(SourceError, match="no inventory report"):
        LocalSource(tmp_path).inventory_parts()
