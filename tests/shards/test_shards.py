"""Shard trios read back with webdataset and pyarrow, rebuild byte-identically, and appear atomically."""

from __future__ import annotations

import io
import json
import os
import random
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import webdataset as wds
from PIL import Image

from pmc15m.core.record import Sample
from pmc15m.shards import writers
from pmc15m.shards.format import image_kind
from pmc15m.shards.schema import SchemaViolation, reject_schema, sample_schema
from pmc15m.shards.writers import (
    read_parquet_rows,
    read_shard_rows,
    remove_temp_files,
    write_json_atomic,
    write_rejects,
    write_shard,
)


def _image(index: int, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8 + index, 6), (index * 12 % 256, 80, 160)).save(buffer, format=fmt, quality=80)
    return buffer.getvalue()


def _sample(index: int, fmt: str = "JPEG") -> Sample:
    return Sample(
        key=f"PMC{1000 + index}_1_F{index % 3 + 1}",
        pmcid=f"PMC{1000 + index}",
        version=1,
        fig_id=f"F{index % 3 + 1}",
        label=f"Figure {index}",
        caption=f"Figure {index}: Zellkultur naïve µm — caption number {index}.",
        subcaptions=[{"panel": "A", "text": f"panel {index}"}] if index % 2 else [],
        mentions=[f"as shown in Fig. {index}"] * (index % 3),
        year=None if index % 5 == 0 else 2000 + index,
        license_code="CC BY",
        width=8 + index,
        height=6,
        out_bytes=None,
        split="train",
        image=_image(index, fmt),
    )


@pytest.fixture
def samples() -> list[Sample]:
    items = [_sample(i) for i in range(19)] + [_sample(19, "WEBP")]
    random.Random(7).shuffle(items)  # the writer, not the caller, owns the order
    return items


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_webdataset_reads_the_shard(tmp_path: Path, samples: list[Sample]) -> None:
    write_shard(str(tmp_path), "00000", samples)
    expected = sorted(samples, key=lambda s: s.key)
    got = list(wds.WebDataset(str(tmp_path / "00000.tar"), shardshuffle=False))
    assert [g["__key__"] for g in got] == [s.key for s in expected]
    for g, s in zip(got, expected, strict=True):
        ext = "webp" if s.key == "PMC1019_1_F2" else "jpg"
        assert set(g) - {"__key__", "__url__", "__local_path__"} == {ext, "json", "txt"}
        assert g[ext] == s.image
        assert g["txt"].decode("utf-8") == s.caption
        assert json.loads(g["json"]) == s.row()


def test_parquet_rows_equal_json_members(tmp_path: Path, samples: list[Sample]) -> None:
    stats = write_shard(str(tmp_path), "00000", samples)
    rows = read_parquet_rows(str(tmp_path / "00000.parquet"))
    assert rows == read_shard_rows(str(tmp_path / "00000.tar"))
    assert rows == [s.row() for s in sorted(samples, key=lambda s: s.key)]
    assert pq.read_schema(tmp_path / "00000.parquet").equals(sample_schema())
    on_disk = json.loads((tmp_path / "00000_stats.json").read_text("utf-8"))
    assert on_disk == stats
    assert stats is not None and stats["count"] == stats["successes"] == 20
    assert stats["total_image_bytes"] == sum(len(s.image or b"") for s in samples)
    assert stats["image_formats"] == {"jpg": 19, "webp": 1}
    assert stats["files"]["00000.tar"]["bytes"] == (tmp_path / "00000.tar").stat().st_size


def test_tar_headers_are_fixed(tmp_path: Path, samples: list[Sample]) -> None:
    write_shard(str(tmp_path), "00000", samples)
    with tarfile.open(tmp_path / "00000.tar") as tar:
        members = tar.getmembers()
    assert all(m.isfile() for m in members)  # no directory entries
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in members} == {(0, 0, 0, "", "", 0o644)}
    first = sorted(samples, key=lambda s: s.key)[0].key
    assert [m.name for m in members[:3]] == [f"{first}.jpg", f"{first}.json", f"{first}.txt"]
    assert len(members) == 60


def test_rebuild_is_byte_identical(tmp_path: Path, samples: list[Sample]) -> None:
    write_shard(str(tmp_path / "a"), "00000", samples)
    write_shard(str(tmp_path / "b"), "00000", list(reversed(samples)))
    first = _files(tmp_path / "a")
    assert first == _files(tmp_path / "b")
    write_shard(str(tmp_path / "a"), "00000", samples)  # rerun over an existing shard
    assert _files(tmp_path / "a") == first
    assert sorted(first) == ["00000.parquet", "00000.tar", "00000_stats.json"]


def test_failure_mid_write_leaves_nothing(tmp_path: Path, samples: list[Sample], monkeypatch) -> None:
    def boom(table):  # the tar is already staged when the parquet writer fails
        raise OSError("disk full")

    monkeypatch.setattr(writers, "_parquet_writer", boom)
    with pytest.raises(OSError, match="disk full"):
        write_shard(str(tmp_path), "00000", samples)
    assert list(tmp_path.iterdir()) == []


def test_failure_on_rerun_keeps_previous_shard(tmp_path: Path, samples: list[Sample], monkeypatch) -> None:
    write_shard(str(tmp_path), "00000", samples)
    before = _files(tmp_path)

    def half_tar(ordered):
        def write(handle):
            handle.write(b"partial")
            raise RuntimeError("worker killed")

        return write

    monkeypatch.setattr(writers, "_tar_writer", half_tar)
    with pytest.raises(RuntimeError):
        write_shard(str(tmp_path), "00000", samples[:3])
    assert _files(tmp_path) == before


def test_killed_writer_leftover_is_hidden(tmp_path: Path, samples: list[Sample], monkeypatch) -> None:
    # A SIGKILL skips cleanup: emulate it by disabling discard and failing after staging.
    monkeypatch.setattr(writers, "_fs_discard", lambda path: None)
    monkeypatch.setattr(writers, "_fs_commit", lambda temp, final: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        write_shard(str(tmp_path), "00000", samples)
    assert list(tmp_path.glob("*.tar")) == list(tmp_path.glob("*.parquet")) == []
    assert list(tmp_path.glob("*_stats.json")) == []
    monkeypatch.undo()
    leftovers = remove_temp_files(str(tmp_path))
    assert len(leftovers) == 3 and all(n.startswith(".00000") for n in leftovers)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["PMC1_1_F1.a", "PMC1/1", ""])
def test_bad_key_rejected(tmp_path: Path, key: str) -> None:
    sample = _sample(1)
    sample.key = key
    with pytest.raises(ValueError, match="key"):
        write_shard(str(tmp_path), "00000", [sample])
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_duplicate_missing_image_and_reject_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        write_shard(str(tmp_path), "00000", [_sample(1), _sample(1)])
    no_image = _sample(2)
    no_image.image = None
    with pytest.raises(ValueError, match="no image"):
        write_shard(str(tmp_path), "00000", [no_image])
    with pytest.raises(ValueError, match="reject"):
        write_shard(str(tmp_path), "00000", [_sample(3).rejected("no_caption")])


def test_schema_violation_writes_nothing(tmp_path: Path) -> None:
    bad = _sample(1)
    bad.width = "wide"  # type: ignore[assignment]
    with pytest.raises(SchemaViolation):
        write_shard(str(tmp_path), "00000", [bad])
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_long_key_round_trips(tmp_path: Path) -> None:
    sample = _sample(1)
    sample.key = "PMC1_1_" + "x" * 150  # beyond ustar's 100-character name field
    write_shard(str(tmp_path), "00000", [sample])
    (got,) = list(wds.WebDataset(str(tmp_path / "00000.tar"), shardshuffle=False))
    assert got["__key__"] == sample.key and got["jpg"] == sample.image


def test_empty_writes_nothing(tmp_path: Path) -> None:
    assert write_shard(str(tmp_path / "s"), "00000", []) is None
    assert write_rejects(str(tmp_path / "r"), "00000", []) == 0
    assert list(tmp_path.iterdir()) == []


def test_rejects_parquet(tmp_path: Path) -> None:
    rejects = [_sample(i).rejected("caption_too_short", f"{i} words") for i in (5, 3, 9)]
    rejects.append(Sample(key="PMC1_1", pmcid="PMC1", version=1).rejected("not_open_access"))
    assert write_rejects(str(tmp_path), "rejects-00000", rejects) == 4
    path = tmp_path / "rejects-00000.parquet"
    assert pq.read_schema(path).equals(reject_schema())
    rows = read_parquet_rows(str(path))
    assert [r["key"] for r in rows] == sorted(s.key for s in rejects)
    assert all(r["reject_reason"] for r in rows)
    before = path.read_bytes()
    write_rejects(str(tmp_path), "rejects-00000", list(reversed(rejects)))
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="reject_reason"):
        write_rejects(str(tmp_path), "rejects-00001", [_sample(1)])


def test_write_json_atomic(tmp_path: Path) -> None:
    path = tmp_path / "train" / "sizes.json"
    write_json_atomic(str(path), {"00001.tar": 3, "00000.tar": 5, "name": "é"})
    assert path.read_text("utf-8") == '{\n  "00000.tar": 5,\n  "00001.tar": 3,\n  "name": "é"\n}\n'
    write_json_atomic(str(path), {"00000.tar": 1})
    assert json.loads(path.read_text("utf-8")) == {"00000.tar": 1}
    assert os.listdir(path.parent) == ["sizes.json"]


def test_image_kind() -> None:
    assert image_kind(_image(1)) == "jpg"
    assert image_kind(_image(1, "WEBP")) == "webp"
    assert image_kind(b"RIFF\0\0\0\0WAVE") == "jpg"
