"""End to end on the mini corpus: every figure accounted for, shards load, rebuilds match."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import webdataset as wds
from PIL import Image

from pipelines.cli.main import main
from pmc15m.core.record import SAMPLE_FIELDS
from pmc15m.corpus.generator import generate_corpus
from pmc15m.rules.dedup import pmcid_number
from pmc15m.shards.manifest import read_manifest


def _shard_rows(out: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(out.glob("*/[0-9]*.parquet")):
        if path.parent.name == "rejects":
            continue
        for row in pq.read_table(path).to_pylist():
            assert row["key"] not in rows, f"{row['key']} is in two shards"
            rows[row["key"]] = row
    return rows


def _reject_rows(out: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted((out / "rejects").glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            assert row["key"] not in rows, f"{row['key']} rejected twice"
            rows[row["key"]] = row
    return rows


def _planted_duplicates(ground_truth: dict) -> dict[str, str]:
    """Key -> reason for the planted duplicates that deduplication must drop.

    The ground truth lists each planted group (of samples otherwise kept); one per group
    stays, the representative of pmc15m.rules.dedup (newest version, smallest PMCID, key).
    """
    figures = {f["key"]: f for f in ground_truth["figures"]}
    dropped = {}
    for kind, groups in ground_truth["duplicates"].items():
        for group in groups:
            ranked = sorted(
                group, key=lambda k: (-figures[k]["version"], pmcid_number(figures[k]["pmcid"]), k)
            )
            dropped.update({key: f"duplicate_{kind}" for key in ranked[1:]})
    return dropped


def _outcome_mismatches(out: Path, ground_truth: dict) -> list[tuple]:
    """(key, kind, expected, outcome) of every figure the build did not treat as planted."""
    kept, rejects = _shard_rows(out), _reject_rows(out)
    assert not set(kept) & set(rejects)
    article_reason = {
        (a["pmcid"], a["version"]): a["expected"]
        for a in ground_truth["articles"]
        if a["expected"] != "processed"
    }
    for (pmcid, version), reason in article_reason.items():
        row = rejects.get(f"{pmcid}_{version}_article")
        assert row is not None, f"article {pmcid}.{version} not in rejects"
        assert row["reject_reason"] == reason
    mismatches = []
    duplicates = _planted_duplicates(ground_truth)
    assert duplicates, "the corpus must plant duplicates"
    for fig in ground_truth["figures"]:
        if (fig["pmcid"], fig["version"]) in article_reason:
            assert fig["key"] not in kept and fig["key"] not in rejects
            continue
        fig = {**fig, "expected": duplicates.get(fig["key"], fig["expected"])}
        if fig["expected"] == "kept":
            outcome = (
                "kept" if fig["key"] in kept else rejects.get(fig["key"], {}).get("reject_reason", "missing")
            )
        else:
            outcome = rejects.get(fig["key"], {}).get("reject_reason") or (
                "kept" if fig["key"] in kept else "missing"
            )
        if outcome != fig["expected"]:
            mismatches.append((fig["key"], fig["image_kind"], fig["expected"], outcome))
    known = {f["key"] for f in ground_truth["figures"]} | {f"{p}_{v}_article" for p, v in article_reason}
    assert set(kept) | set(rejects) <= known, "the build produced keys the corpus does not have"
    return mismatches


def test_every_figure_ends_in_a_shard_or_in_rejects_with_the_right_reason(demo_build, ground_truth):
    assert _outcome_mismatches(demo_build, ground_truth) == []


def test_pmc_sized_figures_change_the_image_sizes_and_nothing_else(tmp_path):
    """``figure_scale`` (the build benchmark's PMC-like corpus) keeps every planted outcome."""
    truths = {}
    for scale in (1.0, 2.5):
        root = tmp_path / f"corpus{scale}"
        generate_corpus(root, seed=5, n_articles=24, figure_scale=scale)
        truths[scale] = json.loads((root / "ground-truth.json").read_text())
    plain, large = truths[1.0], truths[2.5]
    assert [(f["key"], f["expected"]) for f in large["figures"]] == [
        (f["key"], f["expected"]) for f in plain["figures"]
    ]
    # Ordinary figures (no planted feature, whose sizes are part of the feature) grow.
    ordinary = [(p, q) for p, q in zip(plain["figures"], large["figures"], strict=True) if not p["tags"]]
    assert len(ordinary) > 50
    assert all(q["width"] >= 2 * p["width"] and q["height"] >= 2 * p["height"] for p, q in ordinary)
    out = tmp_path / "out"
    assert main(["build", "--source", str(tmp_path / "corpus2.5"), "--output", str(out)]) == 0
    assert _outcome_mismatches(out, large) == []


def test_captions_travel_with_their_own_figure(demo_build, ground_truth):
    kept = _shard_rows(demo_build)
    markers = {f["key"]: f["caption_marker"] for f in ground_truth["figures"] if f["caption_marker"]}
    for key, row in kept.items():
        assert markers[key] in row["caption"], key
        others = [m for k, m in markers.items() if m != markers[key] and m in row["caption"]]
        assert others == [], f"{key} carries another figure's caption"


def test_captionless_figure_does_not_borrow_a_caption(demo_build, ground_truth):
    captionless = [f for f in ground_truth["figures"] if f["expected"] == "no_caption"]
    assert captionless, "the corpus must plant a caption-less figure"
    rejects = _reject_rows(demo_build)
    for fig in captionless:
        assert rejects[fig["key"]]["reject_reason"] == "no_caption"
        assert rejects[fig["key"]]["caption"] == ""


def test_shards_load_with_webdataset_and_match_parquet(demo_build):
    for tar in sorted(demo_build.glob("*/[0-9]*.tar")):
        table = {r["key"]: r for r in pq.read_table(tar.with_suffix(".parquet")).to_pylist()}
        seen = []
        for sample in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            key = sample["__key__"]
            seen.append(key)
            meta = json.loads(sample["json"])
            assert meta == table[key]
            assert set(meta) == set(SAMPLE_FIELDS)
            assert sample["txt"].decode() == meta["caption"]
            image = Image.open(io.BytesIO(sample["jpg"]))
            assert image.mode == "RGB" and image.size == (meta["width"], meta["height"])
            assert max(image.size) <= 512
        assert seen == sorted(table)
        stats = json.loads(tar.with_name(tar.stem + "_stats.json").read_text())
        assert stats["count"] == len(seen)
        sizes = json.loads((tar.parent / "sizes.json").read_text())
        assert sizes[tar.name] == len(seen)


def test_manifest_funnel_adds_up(demo_build, ground_truth):
    manifest = read_manifest(str(demo_build))
    c = manifest["counts"]
    articles = ground_truth["articles"]
    assert c["articles_listed"] == len(articles)
    by_reason = c["rejected_by_reason"]
    assert c["articles_listed"] == c["articles_newest_version"] + by_reason["article"].get(
        "superseded_version", 0
    )
    assert c["samples_kept"] == sum(s["samples"] for s in manifest["splits"].values())
    assert c["figures_found"] == c["samples_kept"] + c["figures_rejected"]
    assert c["rejects_written"] == c["articles_rejected"] + c["figures_rejected"]
    expected_articles = Counter(a["expected"] for a in articles if a["expected"] != "processed")
    assert by_reason["article"] == dict(expected_articles)
    assert len(_shard_rows(demo_build)) == c["samples_kept"]


def test_a_second_build_is_byte_identical(demo_build, mini_corpus, tmp_path):
    again = tmp_path / "again"
    assert main(["build", "--source", str(mini_corpus), "--output", str(again)]) == 0
    first = {p.relative_to(demo_build): p.read_bytes() for p in demo_build.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    differing = [str(name) for name in first if first[name] != second[name] and name.name != "manifest.json"]
    assert differing == []
    m1, m2 = read_manifest(str(demo_build)), read_manifest(str(again))
    m1.pop("source_location"), m2.pop("source_location")
    assert m1 == m2


def test_rebuild_into_existing_output_needs_overwrite(demo_build, mini_corpus, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["build", "--source", str(mini_corpus), "--output", str(demo_build)])
    assert exc.value.code == 2
    assert "--overwrite" in capsys.readouterr().err
