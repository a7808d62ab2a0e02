"""``build --update`` against a clean rebuild of the same new state: time and bytes written.

An update retires the samples of removed, superseded and changed articles by rewriting
only the released shards that held them (``pmc15m.shards.compact``) and adds new shards for what
is new. The baseline, measured in the same run, is what a user would do without
``--update``: a clean build of the new state. The corpus is the generator's (state 2 from
``pmc15m.corpus.changes``), with small shards so a split has many and the update's share
of them shows.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.table import format_table
from pipelines.cli.main import main as cli
from pmc15m.corpus.changes import derive_state
from pmc15m.corpus.generator import generate_corpus
from pmc15m.rules.splits import SPLITS

ARTICLES = 240
SEED = 5
SHARD_ARGS = ("--shard_size", "32")


def _shard_bytes(out: Path, names: set[str] | None = None) -> int:
    """Bytes of the shard tars and Parquet files (of ``names``, ``split/NNNNN``, if given)."""
    total = 0
    for split in SPLITS:
        for path in (out / split).glob("[0-9]*"):
            shard = f"{split}/{path.name[:5]}"
            if path.suffix in (".tar", ".parquet") and (names is None or shard in names):
                total += path.stat().st_size
    return total


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the build summaries: not the table
        code = cli(["--log_level", "ERROR", *argv])
    if code != 0:
        raise RuntimeError(f"pmc15m {' '.join(argv)} failed")
    return time.perf_counter() - started


def run() -> str:
    logging.getLogger().setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        root = Path(tmp)
        generate_corpus(root / "state1", seed=SEED, n_articles=ARTICLES)
        changes = derive_state(root / "state1", root / "state2", seed=SEED, n_articles=ARTICLES)
        _timed(["build", "--source", str(root / "state1"), "--output", str(root / "out"), *SHARD_ARGS])
        released = _shard_bytes(root / "out")
        update_s = _timed(
            ["build", "--source", str(root / "state2"), "--update", str(root / "out"), *SHARD_ARGS]
        )
        clean_s = _timed(
            ["build", "--source", str(root / "state2"), "--output", str(root / "clean"), *SHARD_ARGS]
        )
        manifest = json.loads((root / "out" / "manifest.json").read_text())
        u = manifest["update"]
        added = _shard_bytes(root / "out", set(u["shards_added"]))
        clean_bytes = _shard_bytes(root / "clean")
        shards = sum(len(json.loads((root / "out" / s / "sizes.json").read_text())) for s in SPLITS)
        clean_shards = sum(len(json.loads((root / "clean" / s / "sizes.json").read_text())) for s in SPLITS)
        shutil.rmtree(root / "state1")
    retired = sum(u["tombstones"].values())
    rows = [
        ("clean rebuild (baseline)", round(clean_s, 1), clean_bytes, clean_shards, "", 1.0, 1.0),
        (
            "update in place",
            round(update_s, 1),
            u["bytes_rewritten"] + added,
            u["shards_rewritten"] + len(u["shards_added"]),
            f"{u['bytes_rewritten']:,} in {u['shards_rewritten']} of {shards - len(u['shards_added'])}",
            round(update_s / clean_s, 3),
            round((u["bytes_rewritten"] + added) / clean_bytes, 3),
        ),
    ]
    title = (
        f"update of {ARTICLES} articles ({len(changes.added)} added, 1 removed, 1 superseded, 1 changed; "
        f"{retired} samples retired; released shards {released:,} bytes), local runner"
    )
    header = (
        "run",
        "seconds",
        "shard bytes written",
        "shards written",
        "rewritten (bytes in shards)",
        "time ratio",
        "bytes ratio",
    )
    return format_table(title, header, rows)
