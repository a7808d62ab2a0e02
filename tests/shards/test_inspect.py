"""``pmc15m inspect``: counts and samples of a good build; every kind of damage is found."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.cli.main import main
from pmc15m.shards.inspect import inspect_output
from pmc15m.shards.manifest import read_manifest


@pytest.fixture
def copy(small_build, tmp_path) -> Path:
    """A private copy of the small build to damage."""
    return Path(shutil.copytree(small_build, tmp_path / "out"))


def _inspect(capsys, out: Path, *args: str) -> tuple[int, str]:
    code = main(["inspect", str(out), *args])
    return code, capsys.readouterr().out


def test_a_good_build_passes_with_counts_and_samples(small_build, capsys):
    code, text = _inspect(capsys, small_build, "--samples", "2")
    assert code == 0, text
    manifest = read_manifest(str(small_build))
    for split, info in manifest["splits"].items():
        assert f"{split:<10} {info['samples']:>9,} samples in {info['shards']} shard(s)" in text
    first = pq.read_table(small_build / "train" / "00000.parquet").to_pylist()[0]
    assert first["key"] in text and first["caption"][:40] in text
    assert f"{first['width']}x{first['height']}" in text
    assert text.count("[train]") == 2
    assert "OK: every tar" in text


def test_missing_output_is_a_usage_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(tmp_path / "nothing")])
    assert exc.value.code == 2
    assert "no build output" in capsys.readouterr().err


def _flip_image_byte(out: Path) -> None:
    tar = out / "train" / "00001.tar"
    data = bytearray(tar.read_bytes())
    data[1024] ^= 0xFF  # inside the first member's payload (headers are 512 bytes, PAX adds one)
    tar.write_bytes(bytes(data))


def _drop_member(out: Path) -> None:
    """Rewrite train/00002.tar without the first sample's caption member."""
    tar_path = out / "train" / "00002.tar"
    with tarfile.open(tar_path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    victim = next(m.name for m, _ in members if m.name.endswith(".txt"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            if member.name != victim:
                tar.addfile(member, io.BytesIO(data))
    tar_path.write_bytes(buffer.getvalue())


def _edit_json(path: Path, edit) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


DAMAGE = {
    "tar byte flipped": (_flip_image_byte, "00001.tar has sha256/size"),
    "parquet deleted": (
        lambda out: (out / "train" / "00003.parquet").unlink(),
        "shard 00003 lacks 00003.parquet",
    ),
    "member missing": (_drop_member, "not image+json+txt"),
    "sizes.json wrong": (
        lambda out: _edit_json(out / "train" / "sizes.json", lambda d: d.update({"00000.tar": 999})),
        "sizes.json",
    ),
    "stats count wrong": (
        lambda out: _edit_json(out / "train" / "00004_stats.json", lambda d: d.update(count=1)),
        "count is 1",
    ),
    "manifest count wrong": (
        lambda out: _edit_json(out / "manifest.json", lambda d: d["counts"].update(samples_kept=1)),
        "samples_kept is 1",
    ),
    "leftover temporary": (
        lambda out: (out / "test" / ".00000.tar.tmp-1-abc").write_bytes(b"x"),
        "leftover temporary file",
    ),
    "rejects unreadable": (lambda out: (out / "rejects" / "00000.parquet").write_bytes(b"junk"), "rejects"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damage_is_found_and_fails(copy, capsys, damage):
    corrupt, expected = DAMAGE[damage]
    corrupt(copy)
    code, text = _inspect(capsys, copy)
    assert code == 1, text
    assert "problem(s):" in text and "OK:" not in text
    assert expected in text, text


def test_a_key_in_two_shards_is_found(copy):
    shutil.copy(copy / "train" / "00000.tar", copy / "test" / "00007.tar")
    shutil.copy(copy / "train" / "00000.parquet", copy / "test" / "00007.parquet")
    shutil.copy(copy / "train" / "00000_stats.json", copy / "test" / "00007_stats.json")
    result = inspect_output(str(copy))
    assert "some sample keys appear in more than one shard" in result.problems
    assert any("test/sizes.json" in p for p in result.problems)  # sizes.json does not list 00007.tar
