"""Shared fixtures: the generated mini corpus and one build of it, made once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_JATS = Path(__file__).resolve().parents[1].parent / "shared" / "jats"
# Pipelines that reached Beam's Prism runner; see prism_refused.
_PRISM_STARTS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _prism_patched():
    """Prism refuses to start for the whole session, before any session-scoped build.

    Beam's DirectRunner would download the Prism binary at run time and catch the failure
    of any attempt, so a refusal alone would pass unnoticed: each one is recorded.
    """
    from apache_beam.runners.portability import prism_runner

    def refuse(runner, pipeline, options):
        _PRISM_STARTS.append(type(runner).__name__)
        raise RuntimeError("refused in tests: Prism downloads its runner binary at run time")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
        yield


@pytest.fixture(autouse=True)
def prism_refused(_prism_patched):
    """Fails a test whose pipelines (its session fixtures' included) tried to start Prism;
    yields the list of attempts, for the test that shows Beam's DirectRunner makes one."""
    yield _PRISM_STARTS
    attempts = list(_PRISM_STARTS)
    _PRISM_STARTS.clear()
    assert not attempts, f"a pipeline tried Beam's Prism runner (a run-time download): {attempts}"


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory) -> Path:
    """The default mini corpus (seed 0), written by the project's own generator."""
    from pmc15m.corpus.generator import generate_corpus

    root = tmp_path_factory.mktemp("corpus") / "bucket"
    generate_corpus(root, seed=0)
    return root


@pytest.fixture(scope="session")
def ground_truth(mini_corpus) -> dict:
    return json.loads((mini_corpus / "ground-truth.json").read_text())


@pytest.fixture(scope="session")
def demo_build(mini_corpus, tmp_path_factory) -> Path:
    """One build of the mini corpus through the real command line, on the local runner."""
    from pipelines.cli.main import main

    out = tmp_path_factory.mktemp("build") / "out"
    assert main(["build", "--source", str(mini_corpus), "--output", str(out)]) == 0
    return out


# A small corpus built into several shards per split: for the readers, inspect, report and
# the s3:// build, which need multi-shard splits but not the whole mini corpus.
# The small corpus: every split non-empty and six train shards (small_build checks it).
SMALL_SEED, SMALL_ARTICLES = 8, 20
SMALL_BUILD_ARGS = ("--shard_size", "16", "--validation_fraction", "0.1", "--test_fraction", "0.1")


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    from pmc15m.corpus.generator import generate_corpus

    root = tmp_path_factory.mktemp("small-corpus") / "bucket"
    generate_corpus(root, seed=SMALL_SEED, n_articles=SMALL_ARTICLES)
    return root


@pytest.fixture(scope="session")
def small_build(small_corpus, tmp_path_factory) -> Path:
    """The small corpus built with SMALL_BUILD_ARGS (six train shards); treat as read-only."""
    from pipelines.cli.main import main

    out = tmp_path_factory.mktemp("small-build") / "out"
    assert main(["build", "--source", str(small_corpus), "--output", str(out), *SMALL_BUILD_ARGS]) == 0
    # The tests on this build read every split and count on six train shards. A change to the
    # corpus generator redraws the corpus: if this fails, pick a seed that keeps them.
    shards = {split: sorted((out / split).glob("*.tar")) for split in ("train", "validation", "test")}
    assert len(shards["train"]) >= 6 and shards["validation"] and shards["test"], shards
    return out
