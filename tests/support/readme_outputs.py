"""What a build output must be, read with plain tarfile/pyarrow/json, for the README test.

Deliberately independent of ``pmc15m.shards.inspect``: the README promises files a reader opens
with ordinary tools, so the test opens them the same way. ``pmc15m inspect`` itself runs
as a README command, and is checked there.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections import defaultdict
from pathlib import Path

import braceexpand
import pyarrow.parquet as pq

SPLITS = ("train", "validation", "test")
# What two builds with one build id must write byte for byte (report/ holds plots, not promised).
SHARD_PATTERN = re.compile(r"([\w./-]+)/(\{\d+\.\.\d+\})\.tar")


def tar_samples(path: Path) -> dict[str, set[str]]:
    """key -> member extensions of one webdataset tar."""
    samples: dict[str, set[str]] = defaultdict(set)
    with tarfile.open(path) as archive:
        for name in archive.getnames():
            key, _, ext = name.partition(".")
            samples[key].add(ext)
    return dict(samples)


def _split_shards(out: Path, split: str) -> dict[str, set[str]]:
    """``split/NNNNN`` -> keys, after checking the split's tars against its ``sizes.json``."""
    folder = out / split
    sizes = json.loads((folder / "sizes.json").read_text())
    tars = sorted(p.name for p in folder.glob("*.tar"))
    assert sorted(sizes) == tars, f"{folder}/sizes.json lists {sorted(sizes)}, the folder holds {tars}"
    shards = {}
    for name in tars:
        samples = tar_samples(folder / name)
        incomplete = [k for k, exts in samples.items() if not {"jpg", "txt", "json"} <= exts]
        assert not incomplete, f"{folder / name}: samples without jpg+txt+json: {incomplete[:3]}"
        assert len(samples) == sizes[name], (
            f"{folder / name}: {len(samples)} samples, sizes.json {sizes[name]}"
        )
        shards[f"{split}/{name[:-4]}"] = set(samples)
    return shards


def _check_index_and_tombstones(out: Path, shards: dict[str, set[str]]) -> None:
    """The index lists exactly the shards' samples; no retired sample is left in a shard."""
    listed: dict[str, set[str]] = defaultdict(set)
    for row in pq.read_table(out / "index" / "samples.parquet", columns=["key", "shard"]).to_pylist():
        listed[row["shard"]].add(row["key"])
    differ = sorted(s for s in set(listed) | set(shards) if listed.get(s, set()) != shards.get(s, set()))
    assert not differ, f"{out}/index/samples.parquet and the shards disagree on {differ}"
    for path in sorted((out / "tombstones").glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            assert row["key"] not in shards.get(row["shard"], set()), (
                f"{path.name}: retired sample {row['key']} is still in shard {row['shard']}"
            )


def _check_card(out: Path, shards: dict[str, set[str]]) -> None:
    """The card every build writes: its ``configs`` name each split that has samples."""
    card = out / "README.md"
    assert card.is_file(), f"{out} has no dataset card README.md (every build writes one)"
    front = card.read_text(encoding="utf-8").split("---")[1]
    assert "configs:" in front, f"{card}: no configs in the card's front matter"
    for split in {s.split("/")[0] for s, keys in shards.items() if keys}:
        assert f"split: {split}" in front, f"{card}: configs lack the {split} split"


def check_build_output(out: Path) -> dict:
    """Asserts what every finished build (or update) promises; returns its manifest."""
    manifest_path = out / "manifest.json"
    assert manifest_path.is_file(), f"{out}: no manifest.json, the build did not finish"
    assert not (out / "_work").exists(), f"{out}/_work/ is left after a finished build"
    manifest = json.loads(manifest_path.read_text())
    shards: dict[str, set[str]] = {}
    for split in SPLITS:
        found = _split_shards(out, split)
        counted = sum(len(keys) for keys in found.values())
        assert manifest["splits"][split]["samples"] == counted, f"{out}: manifest {split} count"
        shards |= found
    _check_index_and_tombstones(out, shards)
    _check_card(out, shards)
    return manifest


def newest_inventory(corpus: Path) -> str:
    """The name (its date) of the newest inventory report of a bucket-like corpus."""
    reports = sorted(p.parent.name for p in corpus.glob("inventory-reports/*/*/*/manifest.json"))
    assert reports, f"{corpus}: no inventory report"
    return reports[-1]


def shard_pattern_problems(text: str, cwd: Path) -> list[str]:
    """Brace patterns in ``text`` that do not name exactly the shards their folder holds."""
    problems = []
    for match in SHARD_PATTERN.finditer(text):
        folder = cwd / match.group(1)
        named = sorted(Path(p).name for p in braceexpand.braceexpand(f"{match.group(2)}.tar"))
        sizes_path = folder / "sizes.json"
        written = sorted(json.loads(sizes_path.read_text())) if sizes_path.is_file() else []
        if named != written:
            problems.append(f"'{match.group(0)}' names {_span(named)}, but {folder} holds {_span(written)}")
    return problems


def _span(names: list[str]) -> str:
    return f"{len(names)} shard(s)" + (f" ({names[0]} ... {names[-1]})" if names else "")
