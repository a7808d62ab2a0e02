"""The build on Beam's Dask runner, on a real ``distributed`` cluster of two worker processes.

The build runs through the real command line in a subprocess (``--runner DaskRunner``) and
must write exactly the bytes the DirectRunner build wrote. A second, fast test walks the
build graph and fails on the constructs that Beam 2.77's Dask runner mistranslates
(tagged outputs, side inputs; see ``pipelines.portable``), naming the offending step.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.pipeline import PipelineVisitor
from build_compare import assert_same_build  # tests/ is on sys.path (rootdir-relative import)

from pipelines.build import build_pipeline
from pmc15m.config import BuildConfig
from pmc15m.manifest import manifest_header
from pmc15m.sources.local import LocalSource

# Hang guards, not speed limits: ~80 s on an idle 2-core machine, ~270 s at load average 9.
pytestmark = pytest.mark.timeout(480)


@pytest.fixture(scope="module")
def dask_client():
    """A scheduler and two single-threaded worker processes, all on 127.0.0.1."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            processes=True,
            host="127.0.0.1",
            threads_per_worker=1,
            dashboard_address=None,
        ) as cluster,
        Client(cluster.scheduler_address) as client,
    ):
        yield client


def test_dask_runner_writes_the_same_bytes_as_direct_runner(mini_corpus, demo_build, tmp_path, dask_client):
    from distributed import get_task_stream

    out = tmp_path / "dask-out"
    command = [sys.executable, "-m", "pmc15m", "build", "--source", str(mini_corpus), "--output", str(out)]
    # One Create partition: Beam's Dask runner adds partitions at every Flatten, so the later
    # stages spread over both workers anyway (see docs/runners.md).
    command += ["--runner", "DaskRunner", f"--dask_client_address={dask_client.scheduler.address}"]
    with get_task_stream(client=dask_client) as tasks:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "samples kept" in done.stdout
    assert_same_build(demo_build, out)
    workers = {task["worker"] for task in tasks.data}
    assert len(workers) == 2, f"tasks ran on {workers}: the build did not use both worker processes"


class _Unportable(PipelineVisitor):
    """Collects leaf steps with side inputs or several outputs."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_transform(self, node) -> None:
        if node.side_inputs:
            self.found.append(f"{node.full_label}: side input")
        if isinstance(node.transform, beam.ParDo) and len(node.outputs) > 1:
            self.found.append(f"{node.full_label}: {len(node.outputs)} tagged outputs")


def test_build_graph_uses_only_primitives_every_runner_translates(mini_corpus, tmp_path: Path):
    config = BuildConfig()
    source = LocalSource(mini_corpus)
    pipeline = beam.Pipeline(runner="DirectRunner")  # built, never run
    build_pipeline(
        pipeline,
        location=str(mini_corpus),
        output=str(tmp_path / "never-written"),
        part_keys=source.inventory_parts(),
        header=manifest_header(config, source.snapshot()),
        config=config,
    )
    visitor = _Unportable()
    pipeline.visit(visitor)
    assert visitor.found == []
