"""The Beam transforms with exact expectations (TestPipeline + assert_that)."""

from __future__ import annotations

import io
import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from PIL import Image

from pipelines.local_runner import LocalRunner
from pipelines.placement import PLACED, Place
from pipelines.stages import ProcessArticles
from pipelines.write import WriteDataset
from pmc15m.core.config import BuildConfig
from pmc15m.core.record import Sample
from pmc15m.shards.manifest import manifest_header, read_manifest
from pmc15m.sources.local import LocalSource


def _pipeline() -> TestPipeline:
    return TestPipeline(runner=LocalRunner())


def test_process_articles_routes_every_figure_exactly(mini_corpus, ground_truth):
    source = LocalSource(mini_corpus)
    rejected_articles = {
        (a["pmcid"], a["version"]): a["expected"]
        for a in ground_truth["articles"]
        if a["expected"] != "processed"
    }
    live = [f for f in ground_truth["figures"] if (f["pmcid"], f["version"]) not in rejected_articles]
    expected_kept = [f["key"] for f in live if f["expected"] == "kept"]
    expected_rejects = [(f["key"], f["expected"]) for f in live if f["expected"] != "kept"]
    expected_rejects += [(f"{p}_{v}_article", reason) for (p, v), reason in rejected_articles.items()]
    with _pipeline() as p:
        out = (
            p | beam.Create(source.inventory_parts()) | ProcessArticles(str(mini_corpus), None, BuildConfig())
        )
        assert_that(
            out["samples"] | "Keys" >> beam.Map(lambda s: s.key), equal_to(expected_kept), label="kept"
        )
        assert_that(
            out["rejects"] | "Reasons" >> beam.Map(lambda s: (s.key, s.reject_reason)),
            equal_to(expected_rejects),
            label="rejects",
        )


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(buf, "JPEG")
    return buf.getvalue()


def test_write_dataset_writes_shards_rejects_sizes_and_manifest(tmp_path):
    config = BuildConfig(shard_size=4)
    samples = [
        Sample(
            key=f"PMC{i}_1_F1",
            pmcid=f"PMC{i}",
            version=1,
            caption=f"caption {i}",
            split="train",
            width=80,
            height=60,
            image=_jpeg((i * 20, 0, 0)),
        )
        for i in range(10)
    ] + [
        Sample(
            key="PMC99_1_F1",
            pmcid="PMC99",
            version=1,
            caption="test one",
            split="test",
            image=_jpeg((0, 9, 9)),
        )
    ]
    rejects = [
        Sample(key="PMC50_1_article", pmcid="PMC50", version=1).rejected("license_excluded"),
        Sample(key="PMC51_1_F2", pmcid="PMC51", version=1).rejected("no_caption"),
    ]
    header = manifest_header(config, {"inventory_date": "2026-11-20T01-00Z"})
    with _pipeline() as p:
        # no dedup decisions: every sample keeps its split
        no_decisions = p | "D" >> beam.Create([])
        placed = {"samples": p | "S" >> beam.Create(samples), "decisions": no_decisions} | Place(4)
        pcolls = {
            "placed": placed[PLACED],
            "rejects": p | "R" >> beam.Create(rejects),
            **{
                name: p | name >> beam.Create(range(n))
                for name, n in (("listed", 13), ("selected", 12), ("gated", 11), ("parsed", 11))
            },
        }
        written = pcolls | WriteDataset(str(tmp_path), header["build_id"], 100, header)
        assert_that(written, equal_to([str(tmp_path / "manifest.json")]))
    sizes = json.loads((tmp_path / "train" / "sizes.json").read_text())
    assert sum(sizes.values()) == 10 and len(sizes) == 3  # ceil(10 / 4) shards
    assert json.loads((tmp_path / "test" / "sizes.json").read_text()) == {"00000.tar": 1}
    assert json.loads((tmp_path / "validation" / "sizes.json").read_text()) == {}
    manifest = read_manifest(str(tmp_path))
    assert manifest["counts"]["samples_kept"] == 11
    assert manifest["counts"]["rejected_by_reason"] == {
        "article": {"license_excluded": 1},
        "figure": {"no_caption": 1},
    }
    assert manifest["counts"]["articles_listed"] == 13
    assert manifest["counts"]["rejects_written"] == 2
    assert manifest["splits"] == {
        "train": {"samples": 10, "shards": 3},
        "validation": {"samples": 0, "shards": 0},
        "test": {"samples": 1, "shards": 1},
    }
