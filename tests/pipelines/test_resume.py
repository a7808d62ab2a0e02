"""Crash-safe resume: a build SIGKILLed at several points and started again with the same
arguments ends byte-identical to a clean build, reusing what the killed attempts journaled."""

from __future__ import annotations

import logging
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from conftest import SMALL_BUILD_ARGS

from pipelines.fetch import PooledSourceDoFn
from pipelines.journal import JournaledFn
from pmc15m.storage.journal import MISSING, WORK_DIR, Journal

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
CHUNK = 4  # results per journal chunk in the subprocess builds: many chunks from a small corpus


def test_journal_reloads_results_and_a_key_written_twice_counts_once(tmp_path):
    journal = Journal(str(tmp_path), "images", chunk_size=2, chunk_seconds=3600)
    for key in ("a", "b", "c"):
        journal.record(key, {"key": key})
    assert journal.chunks_written == 1  # "c" is still buffered
    journal.flush()
    # The same key in a second chunk (a retried bundle) and a temp file a killed writer left.
    stage_dir = tmp_path / "images"
    (stage_dir / "again.pkl").write_bytes(pickle.dumps([("a", {"key": "a"})]))
    (stage_dir / ".x.pkl.tmp-1").write_bytes(b"half a chunk")
    again = Journal(str(tmp_path), "images")
    assert again.load() == 3
    assert again.get("b") == {"key": "b"}
    assert again.get("zzz") is MISSING
    assert again.take_counts() == {"reused": 1, "computed": 0}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _chunks(out: Path, stage: str) -> int:
    return len(list((out / WORK_DIR).glob(f"*/{stage}/*/*.pkl")))


def _journaled(out: Path, stage: str) -> int:
    """Results journaled for ``stage`` over all its groups."""
    groups = list((out / WORK_DIR).glob(f"*/{stage}/*"))
    return sum(Journal(str(g.parent.parent), stage, group=g.name).load() for g in groups)


class _Upper(PooledSourceDoFn):
    """A source-reading DoFn whose work is to upper-case its element, counting calls."""

    calls: ClassVar[list[str]] = []

    def work(self, element: str) -> str:
        self.calls.append(element)
        return element.upper()

    def emit(self, result: str) -> list[str]:
        return [result]


def test_a_resumed_group_loads_its_own_results_only(tmp_path):
    groups = [["a1", "a2", "a3"], ["b1", "b2"]]
    first = JournaledFn(_Upper(str(tmp_path), None, None), "images", str, str(tmp_path / "work"))
    first.setup()
    assert [list(first.process(g)) for g in groups] == [["A1", "A2", "A3"], ["B1", "B2"]]
    first.teardown()
    assert len(list((tmp_path / "work" / "images").iterdir())) == 2  # one folder per group

    _Upper.calls = []
    again = JournaledFn(_Upper(str(tmp_path), None, None), "images", str, str(tmp_path / "work"))
    again.setup()
    assert sorted(again.process(["b1", "b2"])) == ["B1", "B2"]
    assert _Upper.calls == [] and again.journal is not None
    assert len(again.journal) == 2  # group b's results, not the stage's five
    assert sorted(again.process(["c1"])) == ["C1"] and _Upper.calls == ["c1"]  # a new group: computed
    again.teardown()


def _build(corpus: Path, out: Path, log_file: Path) -> subprocess.Popen:
    """The CLI build as a subprocess; stderr to a file (a pipe nobody drains would stall it)."""
    env = {**os.environ, "PMC15M_JOURNAL_CHUNK": str(CHUNK), "PMC15M_PROGRESS_SECONDS": "0"}
    cmd = [sys.executable, "-m", "pmc15m", "--log_level", "INFO", "build", "--source", str(corpus)]
    cmd += ["--output", str(out), *SMALL_BUILD_ARGS]
    with log_file.open("w") as err:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)


def _run_until(corpus: Path, out: Path, reached: Callable[[], bool], limit: float = 60) -> tuple[bool, str]:
    """Start a build, SIGKILL it as soon as ``reached()``; (killed, stderr)."""
    log_file = out.parent / "attempt.log"
    proc = _build(corpus, out, log_file)
    deadline = time.monotonic() + limit
    killed = False
    while proc.poll() is None and time.monotonic() < deadline:
        if reached():
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.02)
    proc.wait(timeout=limit)
    return killed, log_file.read_text()


def _last_count(stderr: str, name: str) -> int:
    counts = re.findall(rf"{name} ([\d,]+)", stderr)
    return int(counts[-1].replace(",", "")) if counts else 0


def test_killed_builds_resume_to_the_bytes_of_a_clean_build(small_corpus, small_build, tmp_path):
    out = tmp_path / "out"
    # Kill points, each later than the last: while reading metadata; mid images (metadata
    # and JATS journaled); while the shards are written (all journaled, output half written).
    points = [
        lambda: _chunks(out, "metadata") >= 1,
        lambda: _chunks(out, "images") >= 3,
        lambda: (out / "train").exists(),
    ]
    fetched = 0  # articles parsed by each attempt (emitted minus what the journal handed back)
    kills = 0
    for reached in points:
        before = _journaled(out, "articles")
        killed, err = _run_until(small_corpus, out, reached)
        assert "Traceback" not in err
        if not killed:  # it finished first: nothing left to resume
            break
        kills += 1
        fetched += max(0, _last_count(err, "articles") - before)
    assert kills >= 1, "the build finished before the first kill point was reached"
    if kills == len(points):
        log_file = tmp_path / "final.log"
        proc = _build(small_corpus, out, log_file)
        proc.wait(timeout=120)
        err = log_file.read_text()
        assert proc.returncode == 0, err[-2000:]
        fetched += sum(int(n) for n in re.findall(r"journal articles: (\d+) computed", err))
    total = _last_count(err, "articles")
    assert total > 0
    assert _files(out) == _files(small_build)  # every file, manifest included; _work/ removed
    assert not (out / WORK_DIR).exists()
    log.warning(
        "resume: %d kills, %d articles, %d parses in all: %.0f%% redone",
        kills,
        total,
        fetched,
        100 * max(0, fetched - total) / total,
    )
