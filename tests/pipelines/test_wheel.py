"""The package as a Dataflow worker or a user gets it: a wheel, installed in a clean venv.

A build from the source tree can lean on files that the wheel leaves out (``schemas/*.json``,
the corpus generator's data) and on packages that happen to be in the dev venv but not in
``dependencies``. So the wheel is built from a copy of the packaged files (never from the
working tree, whose stale ``build/lib`` setuptools would package), installed with its
dependencies from the package index into a venv made without ``--system-site-packages``,
and run from a directory outside the repository with no source tree on ``sys.path``. The
installed build must write exactly the bytes the source-tree build wrote.

The install resolves every dependency through pip (about 35 s from the local index here;
the duration is logged), which is most of this test's time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from support.build_compare import assert_same_build  # tests/ is on sys.path (rootdir-relative import)

pytestmark = pytest.mark.timeout(600)
log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
PACKAGED = ("pyproject.toml", "README.md", "pmc15m", "pipelines", "schemas")


def _run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``python -m build --wheel`` (isolated, as a user runs it) on a copy of the packaged files."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in PACKAGED:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp / "dist"), str(src)], tmp, 300)
    (built,) = (tmp / "dist").glob("pmc15m-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_python(wheel: Path, tmp_path_factory) -> Path:
    """A clean venv (no system site-packages) with the wheel and its dependencies installed."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], venv.parent, 120)
    python = venv / "bin" / "python"
    start = time.perf_counter()
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], venv.parent, 540)
    log.warning("installing the wheel and its dependencies took %.0f s", time.perf_counter() - start)
    return python


def test_wheel_holds_the_packages_schemas_and_entry_point(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    for schema in (REPO / "schemas").glob("*.schema.json"):
        assert f"schemas/{schema.name}" in names, f"{schema.name} is not in the wheel"
    assert {"pmc15m/__main__.py", "pipelines/cli/main.py", "pmc15m/corpus/generator.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))], "test code packaged"
    assert "pmc15m = pipelines.cli.main:entry" in scripts


def _tree_digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_installed_package_builds_the_same_bytes_outside_the_repo(
    venv_python: Path, mini_corpus: Path, demo_build: Path, tmp_path: Path
):
    where = _run(
        [
            str(venv_python),
            "-c",
            "import json, sys, pmc15m, pipelines, schemas; "
            "print(json.dumps([sys.path, [m.__file__ for m in (pmc15m, pipelines, schemas)]]))",
        ],
        tmp_path,
        60,
    )
    path, files = json.loads(where.stdout)
    site = str(venv_python.parents[1])
    assert all(f.startswith(site) for f in files), f"imported from outside the venv: {files}"
    assert not [p for p in path if p and Path(p).resolve() == REPO], "the repository is on sys.path"

    corpus = tmp_path / "corpus"
    _run(
        [str(venv_python), "-m", "pmc15m", "make-corpus", "--output", str(corpus), "--seed", "0"],
        tmp_path,
        120,
    )
    assert _tree_digests(corpus) == _tree_digests(mini_corpus), "the installed generator wrote another corpus"

    out = tmp_path / "out"
    command = [str(venv_python), "-m", "pmc15m", "build", "--source", str(mini_corpus), "--output", str(out)]
    done = _run([*command, "--runner", "DirectRunner"], tmp_path, 300)
    assert "samples kept" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    expected = json.loads((demo_build / "manifest.json").read_text())
    assert manifest["counts"] == expected["counts"]
    sizes = [json.loads(p.read_text()) for p in out.glob("*/sizes.json")]
    assert manifest["counts"]["samples_kept"] == sum(n for s in sizes for n in s.values()) > 0
    assert (out / "report" / "report.html").is_file()
    assert_same_build(demo_build, out)
