"""Whole-build throughput: Beam DirectRunner against a plain loop over the same stages.

The plain loop calls the ``pmc15m.stages`` functions one article at a time with no Beam at
all; the ratio shows what the pipeline machinery costs (or, with 2 workers, gains).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.table import format_table
from pipelines.build import run_build
from pmc15m import stages
from pmc15m.config import BuildConfig
from pmc15m.corpus.generator import generate_corpus
from pmc15m.jats import ParseConfig
from pmc15m.record import ParsedArticle, Sample
from pmc15m.sources.local import LocalSource


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


def run(articles: int = 400) -> str:
    config = BuildConfig()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        generate_corpus(root, seed=1, n_articles=articles)
        start = time.perf_counter()
        kept = sequential_build(root, config)
        base = time.perf_counter() - start
        rows.append(["sequential loop (baseline)", kept, base, kept / base, 1.0])
        for workers in (1, 2):
            args = ["--runner=DirectRunner", f"--direct_num_workers={workers}"]
            if workers > 1:
                args.append("--direct_running_mode=multi_processing")
            start = time.perf_counter()
            manifest = run_build(str(root), str(Path(tmp) / f"out{workers}"), config, args)
            seconds = time.perf_counter() - start
            n = manifest["counts"]["samples_kept"]
            rows.append([f"beam DirectRunner, {workers} worker(s)", n, seconds, n / seconds, base / seconds])
    return format_table(
        f"Whole build on a generated corpus of {articles} articles",
        ["path", "samples kept", "seconds", "samples/s", "speed vs baseline"],
        rows,
    )
