"""Every article of a small corpus changed in place, one per ``build --update``.

Which article changes decides which shards an update rewrites and which keys meet in the
report (a changed version's new samples reuse its keys), so a fixed state 2 exercises only
a few of those paths: here each article in turn gets a new image, and after each update
the report, ``inspect``, ``sizes.json``, the card and the manifest must all describe the
same live samples. At the end the output must hold what a clean build of the final state
holds, to every reader the README names, after a last update retracts an article.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.readers import reader_views, shard_samples

from pipelines.cli.main import main
from pmc15m.corpus.edits import change_in_place, retract_in_place
from pmc15m.corpus.generator import generate_corpus
from pmc15m.rules.splits import SPLITS
from pmc15m.shards.inspect import inspect_output

ARGS = ("--shard_size", "8", "--validation_fraction", "0.1", "--test_fraction", "0.2")
pytestmark = pytest.mark.timeout(900)


def _check_agreement(out: Path, changed: str) -> None:
    """The report, the card, sizes.json, the manifest and the shards tell one story."""
    assert inspect_output(str(out)).problems == [], changed
    live = shard_samples(out)
    stats = json.loads((out / "report" / "stats.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    sizes = sum(sum(json.loads((out / s / "sizes.json").read_text()).values()) for s in SPLITS)
    assert stats["samples"] == sizes == manifest["dataset"]["samples"] == len(live), changed
    assert stats["tombstoned"]["total"] == manifest["dataset"]["tombstoned"] > 0
    assert len(stats["gallery"]) == len(set(stats["gallery"])) and set(stats["gallery"]) <= set(live)
    card = (out / "README.md").read_text()
    assert f"**Retired samples: {manifest['dataset']['tombstoned']:,}.**" in card
    assert manifest["build_id"] in card


def test_changing_each_article_in_turn_keeps_every_output_in_agreement(tmp_path: Path):
    corpus, out, clean = tmp_path / "corpus", tmp_path / "out", tmp_path / "clean"
    generate_corpus(corpus, seed=11, n_articles=6)
    truth = json.loads((corpus / "ground-truth.json").read_text())
    pmcids = sorted({a["pmcid"] for a in truth["articles"]})
    assert main(["build", "--source", str(corpus), "--output", str(out), *ARGS]) == 0
    for number, pmcid in enumerate(pmcids):
        before = {k for k in shard_samples(out) if k.startswith(f"{pmcid}_")}
        change_in_place(corpus, pmcid, seed=number)
        assert main(["build", "--source", str(corpus), "--update", str(out), *ARGS]) == 0
        update = json.loads((out / "manifest.json").read_text())["update"]
        # other articles are processed again only where they lost a duplicate to this one
        assert update["tombstones"].get("changed", 0) == len(before)
        assert set(update["tombstones"]) <= {"changed", "reprocessed"}
        assert update["versions_processed"] >= 1
        assert {k for k in shard_samples(out) if k.startswith(f"{pmcid}_")} == before  # new copies, same keys
        _check_agreement(out, pmcid)
    retracted = next(p for p in pmcids if any(k.startswith(f"{p}_") for k in shard_samples(out)))
    retract_in_place(corpus, retracted)
    assert main(["build", "--source", str(corpus), "--update", str(out), *ARGS]) == 0
    assert not any(k.startswith(f"{retracted}_") for k in shard_samples(out))
    _check_agreement(out, retracted)
    assert main(["build", "--source", str(corpus), "--output", str(clean), *ARGS]) == 0
    assert shard_samples(out) == shard_samples(clean)
    got, want = reader_views(out), reader_views(clean)
    assert got.keys() == want.keys() and all(got[reader] == want[reader] for reader in got)
