"""A real build over a corpus that plants SciELO's shapes of figure.

``alternatives_blank_url`` (an ``<alternatives>`` opening with an empty href, then the image
as an absolute URL) and ``bilingual_group`` (a Portuguese and an English ``<fig>`` around
one group-level image) are held back from the default corpora (pmc15m.corpus.features says
why), so this test adds them to the planted features, builds through the command line,
checks every figure against the ground truth as tests/pipelines/test_build_e2e.py does, then the
planted samples' own fields.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree
from test_build_e2e import _outcome_mismatches  # tests/ is on sys.path (rootdir-relative import)
from test_corpus import check_captions

from pipelines.cli.main import main
from pmc15m.corpus import features
from pmc15m.corpus.generator import GROUND_TRUTH, generate_corpus


@pytest.fixture(scope="module")
def scielo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("scielo") / "bucket"
    with pytest.MonkeyPatch.context() as patch:
        for name, builder in features.HELD_BACK.items():
            patch.setitem(features.FEATURES, name, builder)
        generate_corpus(root, seed=11, n_articles=16, figures_per_article=(1, 2))
    out = root.parent / "out"
    assert main(["build", "--source", str(root), "--output", str(out)]) == 0
    return root, out, json.loads((root / GROUND_TRUTH).read_text())


def _planted(truth: dict, tag: str) -> list[dict]:
    planted = [f for f in truth["figures"] if tag in f["tags"]]
    assert planted, f"the corpus must plant {tag}"
    return planted


def _bilingual(truth: dict) -> list[dict]:
    return _planted(truth, "bilingual_group")


def _kept_rows(out: Path) -> dict[str, dict]:
    return {
        row["key"]: row
        for path in sorted(out.glob("*/[0-9]*.parquet"))
        if path.parent.name != "rejects"
        for row in pq.read_table(path).to_pylist()
    }


def test_every_figure_ends_where_the_ground_truth_says(scielo_build):
    _, out, truth = scielo_build
    _bilingual(truth), _planted(truth, "alternatives_blank_url")
    assert _outcome_mismatches(out, truth) == []


def test_bilingual_groups_are_written_like_scielo(scielo_build):
    root, _, truth = scielo_build
    for fig in _bilingual(truth):
        stem = f"{fig['pmcid']}.{fig['version']}"
        data = (root / stem / f"{stem}.xml").read_bytes()
        doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        (group,) = [g for g in doc.iter("fig-group") if g.get("id") == fig["fig_id"]]
        assert [child.tag for child in group][:2] == ["fig", "fig"]
        assert group.find("caption") is None and group.find("fig/graphic") is None
        # Every figure of the article, ids and fig-auto numbers counting the translation's <fig>.
        check_captions(
            doc, [f for f in truth["figures"] if (f["pmcid"], f["version"]) == (fig["pmcid"], fig["version"])]
        )


def test_bilingual_samples_carry_the_english_caption_and_the_translation(scielo_build):
    _, out, truth = scielo_build
    rows = _kept_rows(out)
    kept = [f for f in _bilingual(truth) if f["expected"] == "kept"]
    assert kept
    for fig in kept:
        row = rows[fig["key"]]
        assert (row["fig_id"], row["label"], row["graphic"]) == (fig["fig_id"], fig["label"], fig["graphic"])
        assert fig["caption_marker"] in row["caption"] and "Amostra" not in row["caption"]
        (translation,) = row["caption_translations"]
        assert translation["lang"] == "pt" and translation["label"].startswith("Figura ")
        assert "Amostra zqx" in translation["text"]
    others = [r for k, r in rows.items() if k not in {f["key"] for f in kept}]
    assert others and all(r["caption_translations"] == [] for r in others)


def test_url_after_an_empty_href_is_the_figures_one_sample(scielo_build):
    root, out, truth = scielo_build
    rows = _kept_rows(out)
    planted = _planted(truth, "alternatives_blank_url")
    assert any(fig["expected"] == "kept" for fig in planted)
    for fig in planted:
        stem = f"{fig['pmcid']}.{fig['version']}"
        assert b'<alternatives><graphic xlink:href=""/>' in (root / stem / f"{stem}.xml").read_bytes()
        assert fig["graphic"].startswith("https://minio.scielo.br/") and fig["graphic"].endswith(
            "?download=1"
        )
        assert fig["media_key"].endswith("/" + fig["graphic"].rsplit("/", 1)[1].split("?")[0])
        if fig["expected"] == "kept":
            row = rows[fig["key"]]
            assert (row["graphic"], row["source_key"]) == (fig["graphic"], fig["media_key"])
            assert fig["caption_marker"] in row["caption"] and row["caption_translations"] == []
