"""Whole-build throughput: a plain loop, then Beam with one and two SDK worker processes.

The plain loop calls the ``pmc15m.stages`` functions one article at a time with no Beam
and writes nothing; the ratio to it shows what the pipeline machinery costs. The Beam
rows run ``run_build`` (shards, rejects, manifest and report) with
``--direct_num_workers N --direct_running_mode multi_processing`` (N = 1 runs in process).

Wall time answers "how long does a build take here"; CPU time of the whole process tree
(this process and the SDK worker subprocesses it reaps) answers "what does a build cost",
and is what a cluster estimate needs: figures per CPU-second is per-core throughput,
independent of how many cores were busy. The machine's load average is printed with the
table, because a loaded machine lowers the wall-clock speed-up and not the cost.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from benchmarks.table import format_table
from pipelines.build import run_build
from pmc15m import stages
from pmc15m.config import BuildConfig
from pmc15m.corpus.generator import generate_corpus
from pmc15m.jats import ParseConfig
from pmc15m.record import ParsedArticle, Sample
from pmc15m.sources.local import LocalSource

ARTICLES = 400
MODES = (
    ("beam, 1 worker (in process)", ["--direct_num_workers=1"]),
    (
        "beam, 2 workers (multi_processing)",
        ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
    ),
)


def sequential_build(root: Path, config: BuildConfig) -> int:
    """The baseline: every stage in one Python loop, images processed, nothing written."""
    source = LocalSource(root)
    versions: dict[str, list] = {}
    for version in source.list_article_versions():
        versions.setdefault(version.pmcid, []).append(version)
    kept = 0
    for group in versions.values():
        newest, _ = stages.split_newest(group)
        meta = stages.read_metadata(source, newest, config)
        if isinstance(meta, Sample):
            continue
        article = stages.read_article(source, meta, ParseConfig())
        if not isinstance(article, ParsedArticle):
            continue
        for figure in article.figures:
            sample = stages.figure_sample(meta, article, figure, config)
            if not sample.reject_reason and not stages.attach_image(source, sample, config).reject_reason:
                kept += 1
    return kept


def _cpu_seconds() -> float:
    """CPU time of this process plus every child it has reaped (the SDK workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _measure(run: Callable[[], int]) -> tuple[int, float, float]:
    """(samples, wall seconds, CPU seconds) of one call."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    samples = run()
    return samples, time.perf_counter() - start, _cpu_seconds() - cpu


def _beam_build(root: Path, out: str, config: BuildConfig, args: list[str]) -> int:
    return run_build(str(root), out, config, ["--runner=DirectRunner", *args])["counts"]["samples_kept"]


def _row(label: str, samples: int, wall: float, cpu: float, base_wall: float, one_wall: float) -> list:
    return [label, samples, wall, cpu, samples / wall, samples / cpu, one_wall / wall, base_wall / wall]


def run(articles: int = ARTICLES) -> str:
    config = BuildConfig()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        generate_corpus(root, seed=1, n_articles=articles)
        kept, base_wall, base_cpu = _measure(lambda: sequential_build(root, config))
        measured = []
        for i, (label, args) in enumerate(MODES):
            out = str(Path(tmp) / f"out{i}")
            measured.append((label, *_measure(partial(_beam_build, root, out, config, args))))
        one_wall = measured[0][2]
        rows.append(_row("plain loop, no Beam (baseline)", kept, base_wall, base_cpu, base_wall, one_wall))
        rows += [_row(label, n, wall, cpu, base_wall, one_wall) for label, n, wall, cpu in measured]
    return format_table(
        f"Whole build of a generated corpus of {articles} articles on {os.cpu_count()} cores "
        f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)",
        ["path", "samples", "wall s", "CPU s", "samples/s", "samples/CPU-s", "vs 1 worker", "vs baseline"],
        rows,
    )
