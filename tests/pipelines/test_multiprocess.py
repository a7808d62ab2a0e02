"""Local parallelism: two SDK worker processes write the same bytes as one.

The build runs through the real command line in a subprocess with
``--direct_num_workers 2 --direct_running_mode multi_processing``. Identical output alone
would also pass if Beam ignored the flags, so the test also reads the per-process progress
lines (logged on every tick here) and requires image work in two processes other than
the launcher.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from support.build_compare import assert_same_build  # tests/ is on sys.path (rootdir-relative import)

pytestmark = pytest.mark.timeout(180)

_PROGRESS = re.compile(r"progress \[pid (\d+)\][^\n]*\bimages \d")


def test_two_worker_processes_write_the_same_bytes_as_one(mini_corpus, demo_build, tmp_path):
    out = tmp_path / "mp-out"
    command = [sys.executable, "-m", "pmc15m", "--log_level", "INFO", "build"]
    command += ["--source", str(mini_corpus), "--output", str(out)]
    command += ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]
    # No --fetch_concurrency here: a group (pipelines.fetch.Batch) is the unit a worker
    # process gets, and groups of the default size (512) would give this 300-figure corpus
    # one group, so one busy process, but for Batch's MIN_GROUPS, which this test covers.
    env = {**os.environ, "PMC15M_PROGRESS_SECONDS": "0"}  # a progress line per tick, with its pid
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as launched:
        stdout, stderr = launched.communicate(timeout=160)
    assert launched.returncode == 0, stderr[-3000:]
    assert "samples kept" in stdout
    assert_same_build(demo_build, out)
    workers = {int(pid) for pid in _PROGRESS.findall(stderr)} - {launched.pid}
    assert len(workers) == 2, f"images were processed in {sorted(workers)}, not in two worker processes"
