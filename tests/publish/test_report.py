"""The build report: numbers that agree with the shards, valid embedded plots, determinism."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipelines.cli.main import main
from pmc15m.publish.report import write_report
from pmc15m.publish.report_stats import GALLERY_SIZE, IntHistogram
from pmc15m.shards.manifest import read_manifest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rows(out: Path) -> list[dict]:
    rows = []
    for path in sorted(out.glob("*/[0-9]*.parquet")):
        if path.parent.name != "rejects":
            rows.extend(pq.read_table(path).to_pylist())
    return rows


def _stats(out: Path) -> dict:
    return json.loads((out / "report" / "stats.json").read_text())


def test_every_build_writes_stats_that_agree_with_the_shards(small_build):
    stats, rows = _stats(small_build), _rows(small_build)
    manifest = read_manifest(str(small_build))
    assert stats["samples"] == len(rows) == manifest["counts"]["samples_kept"]
    assert stats["splits"] == {s: info["samples"] for s, info in manifest["splits"].items()}
    assert stats["licenses"] == dict(Counter(r["license_code"] for r in rows))
    assert stats["rejects"] == manifest["counts"]["rejected_by_reason"]
    words = sorted(len(r["caption"].split()) for r in rows)
    assert stats["caption_words"]["max"] == words[-1]
    assert stats["caption_words"]["p50"] == int(np.percentile(words, 50, method="inverted_cdf"))
    assert stats["caption_tokens"]["mean"] > stats["caption_words"]["mean"]  # punctuation counts as tokens
    years = Counter(str(r["year"]) for r in rows)
    assert stats["years"] == dict(sorted(years.items()))
    assert stats["journals"]["distinct"] == len({r["journal"] for r in rows})
    sizes = Counter(str(r["cluster_size"]) for r in rows if r["cluster_size"])
    assert stats["duplicates"]["cluster_sizes"] == dict(sorted(sizes.items()))
    rejects = pq.read_table(small_build / "rejects" / "00000.parquet").to_pylist()
    duplicates = Counter(r["reject_reason"] for r in rejects if r["duplicate_of"])
    assert stats["duplicates"]["rejected_by_reason"] == dict(duplicates)
    assert len(stats["gallery"]) == min(GALLERY_SIZE, len(rows))
    assert set(stats["gallery"]) <= {r["key"] for r in rows}


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_html_embeds_every_plot_and_a_gallery(small_build):
    html = (small_build / "report" / "report.html").read_text()
    pngs = _pngs(html)
    assert len(pngs) == 7
    for png in pngs:
        assert png.startswith(PNG_SIGNATURE)
        assert b"tIME" not in png and b"Software" not in png  # nothing that changes between runs
        with Image.open(io.BytesIO(png)) as img:
            assert img.width > 300 and img.height > 50
    for anchor in ("funnel", "drops", "captions", "images", "licenses", "years-journals", "duplicates"):
        assert f'id="{anchor}"' in html
    thumbs = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(thumbs) == len(_stats(small_build)["gallery"])
    with Image.open(io.BytesIO(base64.b64decode(thumbs[0]))) as img:
        assert max(img.size) <= 256
    assert str(small_build) not in html  # no output location: the report is part of the output


def test_report_command_rewrites_identical_bytes(small_build, tmp_path, capsys):
    out = Path(shutil.copytree(small_build, tmp_path / "out"))
    before = {p.name: p.read_bytes() for p in (out / "report").iterdir()}
    shutil.rmtree(out / "report")
    assert main(["report", str(out)]) == 0
    assert "report.html" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (out / "report").iterdir()} == before


def test_captions_are_escaped(small_build, tmp_path):
    out = Path(shutil.copytree(small_build, tmp_path / "out"))
    key = _stats(out)["gallery"][0]
    for path in out.glob("*/[0-9]*.parquet"):
        table = pq.read_table(path)
        if key in table.column("key").to_pylist():
            captions = [
                "<script>alert(1)</script>" if k == key else c
                for k, c in zip(
                    table.column("key").to_pylist(), table.column("caption").to_pylist(), strict=True
                )
            ]
            table = table.set_column(table.schema.get_field_index("caption"), "caption", [captions])
            pq.write_table(table, path)
    html = Path(write_report(str(out))).read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_command_needs_a_finished_build(tmp_path, capsys):
    (tmp_path / "train").mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path)])
    assert exc.value.code == 2
    assert "no manifest.json" in capsys.readouterr().err


@pytest.mark.parametrize("values", [[0], [3, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], list(range(0, 5000, 7))])
def test_histogram_percentiles_match_numpy(values):
    hist = IntHistogram(cap=10_000)
    hist.add(np.array(values[: len(values) // 2]))
    hist.add(np.array(values[len(values) // 2 :]))
    for q in (10, 50, 90, 99):
        assert hist.percentile(q) == int(np.percentile(values, q, method="inverted_cdf"))
    summary = hist.summary()
    assert summary["n"] == len(values) and summary["max"] == max(values)
    assert summary["mean"] == round(sum(values) / len(values), 2)


def test_histogram_caps_values_but_keeps_the_true_max():
    hist = IntHistogram(cap=10)
    hist.add(np.array([1, 50, 7, -1]))  # -1 is a missing value and is ignored
    assert hist.n == 3 and hist.max == 50 and hist.counts[10] == 1
    assert hist.share_above(5) == round(2 / 3, 4)


def test_a_key_in_two_shards_never_makes_the_gallery_compare_records(small_build, tmp_path):
    """An output written before updates compacted their shards holds a changed version's
    old and new copy under one key (same gallery rank): the report must still order them."""
    from pmc15m.publish.report_stats import collect

    out = tmp_path / "out"
    shutil.copytree(small_build, out)
    for part in (".tar", ".parquet", "_stats.json"):
        shutil.copy(out / "train" / f"00000{part}", out / "train" / f"00099{part}")
    acc = collect(str(out), gallery_size=10_000)  # every sample, so both copies compete
    keys = [entry[2].key for entry in acc.gallery]
    assert len(keys) > len(set(keys))  # the tie happened
    write_report(str(out))
    first = (out / "report" / "report.html").read_bytes()
    write_report(str(out))
    assert (out / "report" / "report.html").read_bytes() == first
