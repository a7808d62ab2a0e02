"""Compare two builds file by file: the runner must not change a single output byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

# What a build promises to reproduce exactly (report/ holds plots, not promised here).
COMPARED = ("train", "validation", "test", "rejects", "index", "manifest.json")


def build_digests(out: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every compared file under build output ``out``."""
    digests = {}
    for part in COMPARED:
        path = out / part
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digests[str(file.relative_to(out))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return digests


def assert_same_build(expected: Path, actual: Path) -> None:
    want, got = build_digests(expected), build_digests(actual)
    assert any(name.endswith(".tar") for name in want), f"no shards in {expected}: nothing compared"
    assert sorted(got) == sorted(want), "different files written"
    differing = [name for name in want if want[name] != got[name]]
    assert not differing, f"files differ from the DirectRunner build: {differing}"
