"""Article selection: PMCID lists, license presets, stable samples, the limit, the funnel."""

from __future__ import annotations

import json
import random
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.pipeline import PipelineVisitor
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.cli.main import main
from pipelines.local_runner import LocalRunner
from pipelines.select import NOT_SELECTED, SelectArticles
from pmc15m.core.config import LICENSE_PRESETS, BuildConfig
from pmc15m.core.record import ArticleVersion
from pmc15m.rules.selection import (
    NOT_IN_PMCID_LIST,
    NOT_SAMPLED,
    Selection,
    SelectionError,
    in_sample,
    limit_pmcids,
    parse_licenses,
    parse_pmcid_list,
    rank_key,
    read_pmcid_list,
)
from pmc15m.rules.splits import assign_split
from pmc15m.shards.manifest import make_build_id, read_manifest

PMCIDS = [f"PMC{1_000_000 + 7 * i}" for i in range(20_000)]


def _version(pmcid: str, v: int = 1) -> ArticleVersion:
    return ArticleVersion(pmcid=pmcid, version=v, metadata_key=f"metadata/{pmcid}.{v}.json")


# --- PMCID lists -----------------------------------------------------------------------


def test_pmcid_list_accepts_prefixes_comments_and_blank_lines():
    text = "# wanted articles\nPMC123\n\n  456  \npmc789 # trailing comment\nPMC123\nPMC0042\n"
    assert parse_pmcid_list(text) == {"PMC123", "PMC456", "PMC789", "PMC42"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PMC1\nPMC12.2\n", "line 2"),
        ("PMC1\nfoo\n", "'foo' is not a PMCID"),
        ("PMCX1\n", "line 1"),
        ("# only a comment\n\n", "names no PMCID"),
        ("", "names no PMCID"),
    ],
)
def test_pmcid_list_errors_name_the_problem(text, message):
    with pytest.raises(SelectionError, match=message):
        parse_pmcid_list(text)


def test_pmcid_file_missing_empty_or_binary(tmp_path):
    with pytest.raises(SelectionError, match="not found"):
        read_pmcid_list(tmp_path / "absent.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(SelectionError, match="names no PMCID"):
        read_pmcid_list(tmp_path / "empty.txt")
    (tmp_path / "bin.txt").write_bytes(b"PMC1\n\xff\xfe\x00")
    with pytest.raises(SelectionError, match="not UTF-8"):
        read_pmcid_list(tmp_path / "bin.txt")
    (tmp_path / "ok.txt").write_bytes(b"\xef\xbb\xbfPMC5\r\n6\r\n")  # BOM and CRLF, as editors write
    assert read_pmcid_list(tmp_path / "ok.txt") == {"PMC5", "PMC6"}


# --- licenses --------------------------------------------------------------------------


def test_license_presets_and_explicit_lists():
    for name, codes in LICENSE_PRESETS.items():
        assert parse_licenses(name) == codes
    assert "TDM" not in parse_licenses("redistributable")
    assert parse_licenses("cc0, CC BY") == ("CC0", "CC BY")
    assert parse_licenses("CC BY,CC0") == parse_licenses("CC0,CC BY")  # order does not change the id
    shuffled = ",".join(reversed(LICENSE_PRESETS["redistributable"]))
    assert parse_licenses(shuffled) == LICENSE_PRESETS["redistributable"]
    assert parse_licenses("commercial,TDM") == (*LICENSE_PRESETS["commercial"], "TDM")
    assert parse_licenses("CC BY,all") == () == parse_licenses("ALL")


@pytest.mark.parametrize("text", ["CC-BY", "CC BY,GPL", "cc by 4.0", " , ", "all,GPL"])
def test_unknown_license_code_is_an_error(text):
    with pytest.raises(SelectionError):
        parse_licenses(text)


# --- sampling and the limit ------------------------------------------------------------


def test_sample_fraction_is_stable_nested_and_about_the_right_size():
    samples = {f: {p for p in PMCIDS if in_sample(p, f)} for f in (0.01, 0.1, 0.5, 1.0)}
    assert samples[0.01] <= samples[0.1] <= samples[0.5] <= samples[1.0] == set(PMCIDS)
    for fraction, chosen in samples.items():
        expected = fraction * len(PMCIDS)
        assert abs(len(chosen) - expected) <= 5 * (expected * (1 - fraction)) ** 0.5 + 1
    assert samples[0.1] == {p for p in PMCIDS if in_sample(p, 0.1)}


def test_limit_is_nested_and_independent_of_the_split_hash():
    small, large = limit_pmcids(PMCIDS, 100), limit_pmcids(reversed(PMCIDS), 1000)
    assert len(small) == 100 and len(large) == 1000 and small <= large
    # Had the limit reused the split hash, the smallest ranks would all be test/validation.
    held_out = sum(assign_split(p, BuildConfig()) != "train" for p in large)
    assert 15 <= held_out <= 100  # about 5% of 1000


def test_selection_keep_reasons_and_validation():
    listed = Selection(pmcids=frozenset({"PMC1", "PMC2"}))
    assert listed.keep(_version("PMC1")) is None
    assert listed.keep(_version("PMC3")) == NOT_IN_PMCID_LIST
    sampled = Selection(sample_fraction=0.5)
    reasons = {sampled.keep(_version(p)) for p in PMCIDS[:200]}
    assert reasons == {None, NOT_SAMPLED}
    assert not Selection().active and Selection(limit=3).active
    for bad in ({"limit": 0}, {"sample_fraction": 0.0}, {"sample_fraction": 1.5}, {"pmcids": frozenset()}):
        with pytest.raises(SelectionError):
            Selection(**bad)


def test_selection_changes_the_build_id_only_when_it_selects():
    config, snapshot = BuildConfig(), {"inventory_date": "2026-11-20T01-00Z"}
    full = make_build_id(config, snapshot)
    assert make_build_id(config, snapshot, Selection().describe()) == full
    limited = make_build_id(config, snapshot, Selection(limit=5).describe())
    assert limited != full != make_build_id(config, snapshot, Selection(limit=6).describe())
    described = Selection(pmcids=frozenset(PMCIDS)).describe()
    assert described["pmcids"]["count"] == len(PMCIDS) and len(json.dumps(described)) < 300


def _run_select(versions: list[ArticleVersion], selection: Selection, expected: set[str]) -> None:
    chosen_versions = [v for v in versions if v.pmcid in expected]
    others = [v for v in versions if v.pmcid not in expected]
    with BeamTestPipeline(runner=LocalRunner()) as p:
        out = p | beam.Create(versions) | SelectArticles(selection)
        pairs = out["articles"] | "Flat" >> beam.FlatMap(lambda kv: [(kv[0], v.version) for v in kv[1]])
        assert_that(pairs, equal_to([(v.pmcid, v.version) for v in chosen_versions]), label="articles")
        assert_that(out[NOT_SELECTED], equal_to(others), label="not_selected")


@pytest.mark.parametrize("seed", [1, 2])
def test_select_articles_limit_is_the_same_in_any_arrival_order(seed):
    pmcids = PMCIDS[:300]
    versions = [_version(p) for p in pmcids] + [_version(p, 2) for p in pmcids[::7]]
    random.Random(seed).shuffle(versions)
    wanted = frozenset(pmcids[::2])
    selection = Selection(pmcids=wanted, sample_fraction=0.6, limit=40)
    sampled = [p for p in wanted if in_sample(p, 0.6)]
    expected = limit_pmcids(sampled, 40)
    assert len(expected) == 40 and expected == {p for _, p in sorted(map(rank_key, sampled))[:40]}
    _run_select(versions, selection, set(expected))


def test_select_articles_default_and_oversized_limit_select_everything():
    versions = [_version(p) for p in PMCIDS[:50]]
    _run_select(versions, Selection(limit=500), set(PMCIDS[:50]))


def test_select_articles_graph_has_no_side_inputs_or_tagged_outputs():
    """The Dask runner mistranslates both (pipelines.portable); the limit must avoid them."""
    pipeline = beam.Pipeline(runner="DirectRunner")  # built, never run
    _ = pipeline | beam.Create([_version("PMC1")]) | SelectArticles(Selection(sample_fraction=0.5, limit=3))
    found: list[str] = []

    class Visitor(PipelineVisitor):
        def visit_transform(self, node) -> None:
            if node.side_inputs or (isinstance(node.transform, beam.ParDo) and len(node.outputs) > 1):
                found.append(node.full_label)

    pipeline.visit(Visitor())
    assert found == []


# --- end to end --------------------------------------------------------------------------


def _pmcids_in(out: Path) -> set[str]:
    found = set()
    for path in out.glob("*/*.parquet"):
        if path.parent.name == "index":  # every listed version, selected or not: not a row
            continue
        found |= set(pq.read_table(path, columns=["pmcid"]).column("pmcid").to_pylist())
    return found


def test_build_with_pmcid_list_and_limit(mini_corpus, ground_truth, tmp_path):
    articles = ground_truth["articles"]
    listed = sorted({a["pmcid"] for a in articles})
    special = sorted({a["pmcid"] for a in articles if a["role"] in ("versioned", "not_oa")})
    assert len(special) == 2, "the corpus must plant a two-version and a not-OA article"
    wanted = [*listed[::5], *special]
    pmcid_file = tmp_path / "wanted.txt"
    pmcid_file.write_text("# trial\n" + "\n".join(p.removeprefix("PMC") for p in wanted) + "\n")
    out = tmp_path / "out"
    argv = ["build", "--source", str(mini_corpus), "--output", str(out), "--pmcids", str(pmcid_file)]
    assert main([*argv, "--limit", "6"]) == 0
    chosen = limit_pmcids(wanted, 6)
    assert _pmcids_in(out) == chosen  # no shard or reject row for anything else
    manifest = read_manifest(str(out))
    counts = manifest["counts"]
    chosen_versions = [a for a in articles if a["pmcid"] in chosen]
    assert counts["articles_listed"] == len(articles)
    assert counts["articles_not_selected"] == len(articles) - len(chosen_versions)
    assert counts["articles_newest_version"] == len(chosen)
    expected_rejects = sorted(a["expected"] for a in chosen_versions if a["expected"] != "processed")
    assert (
        sorted(reason for reason, n in counts["rejected_by_reason"]["article"].items() for _ in range(n))
        == expected_rejects
    )
    assert manifest["selection"]["limit"] == 6 and manifest["selection"]["pmcids"]["count"] == len(
        set(wanted)
    )
