"""The build submitted through Beam's portable Job API, the way Flink and Spark take it.

Flink and Spark run a Beam Python pipeline through a job server (``--runner PortableRunner
--job_endpoint HOST:8099``); the pipeline travels as a runner-neutral proto, its artifacts
are staged over gRPC and SDK workers are started by ``--environment_type``. Beam's own
Python job server (``local_job_service_main``) speaks the same Job API without a JVM, so
this test starts it on 127.0.0.1, submits the build through the real command line with
``--environment_type LOOPBACK`` and requires the bytes the DirectRunner build wrote. What
it does not cover (a Flink or Spark cluster, DOCKER/EXTERNAL environments) is in
docs/runners.md.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.build_compare import assert_same_build  # tests/ is on sys.path (rootdir-relative import)

pytestmark = pytest.mark.timeout(240)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the job server exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"no job server on port {port} after {timeout} s")


@pytest.fixture
def job_server(tmp_path: Path):
    """(endpoint, log file) of a Python job server on a free loopback port."""
    port = _free_port()
    log_path = tmp_path / "job-server.log"
    command = [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main"]
    with log_path.open("w") as log:
        server = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_listening(port, server, 60)
            yield f"127.0.0.1:{port}", log_path
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_portable_runner_through_a_job_server_writes_the_same_bytes(
    mini_corpus, demo_build, tmp_path, job_server
):
    job_endpoint, server_log = job_server
    out = tmp_path / "portable-out"
    command = [sys.executable, "-m", "pmc15m", "build", "--source", str(mini_corpus), "--output", str(out)]
    command += [
        "--runner",
        "PortableRunner",
        "--job_endpoint",
        job_endpoint,
        "--environment_type",
        "LOOPBACK",
    ]
    stderr = tmp_path / "build.stderr"
    with stderr.open("w") as err:
        done = subprocess.run(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=err, text=True, timeout=200
        )
    assert done.returncode == 0, stderr.read_text()[-3000:]
    assert "samples kept" in done.stdout
    assert_same_build(demo_build, out)
    assert "with state DONE" in server_log.read_text(), "the job server did not run the build"
