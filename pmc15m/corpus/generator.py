"""Generate a synthetic PMC Cloud bucket (``pmc-oa-opendata`` layout) with its ground truth.

The real bucket is neither reachable offline nor stable, so tests and benchmarks run on
a corpus that is a pure function of a seed: articles with realistic JATS, metadata whose
URLs carry MD5s, image files in every format and failure mode the pipeline must handle,
planted duplicates, and S3 Inventory reports. ``ground-truth.json`` at the root (outside
the inventory, so no build reads it) says what a default build must keep or reject.

    python -m pmc15m.corpus.generator --output DIR [--seed N] [--articles N]
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pmc15m.corpus.bucket_writer import ArticleResult, write_articles
from pmc15m.corpus.ground_truth import build_ground_truth
from pmc15m.corpus.inventory_writer import parse_inventory_date, write_inventory
from pmc15m.corpus.model import KEPT, ArticlePlan
from pmc15m.corpus.plan import plan_corpus

log = logging.getLogger(__name__)

GROUND_TRUTH = "ground-truth.json"
DEFAULT_DATE = "2026-11-20T01-00Z"
_BATCH = 20  # article versions per worker task: big enough to amortise pickling
_PARALLEL_FROM = 100  # smaller corpora are written in-process (pool start-up costs more)


def generate_corpus(
    root: str | Path,
    *,
    seed: int = 0,
    n_articles: int = 60,
    figures_per_article: tuple[int, int] = (1, 8),
    inventory_date: str = DEFAULT_DATE,
    workers: int | None = None,
    figure_scale: float = 1.0,
) -> dict[str, Any]:
    """Write the corpus under ``root`` (missing or empty) and return a summary.

    ``figure_scale`` multiplies the typical figure's size (300-1600 px on the long side at
    1): 2.5 gives the 750-4000 px of PMC's own figures, for benchmarks where image work
    should weigh what it weighs in a real build. Everything else stays the same.

    The same arguments give a byte-identical tree whatever ``workers`` is (default: the
    CPU count for corpora of 100 articles or more, else in-process).
    """
    _check_arguments(seed, n_articles, figures_per_article, figure_scale)
    date = parse_inventory_date(inventory_date)
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"output must be a new or empty directory: {root}")
    root.mkdir(parents=True, exist_ok=True)
    plans = plan_corpus(seed, n_articles, figures_per_article, date, figure_scale)
    results = _write_all(root, plans, workers)
    reports = write_inventory(root, results, seed, inventory_date)
    truth = build_ground_truth(plans, results)
    truth = {"seed": seed, "n_articles": n_articles, "inventory_date": inventory_date, **truth}
    (root / GROUND_TRUTH).write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = truth["counts"]
    return {
        "root": str(root),
        "seed": seed,
        "inventory_date": inventory_date,
        "reports": sorted(reports),
        "article_versions": counts["article_versions"],
        "articles_by_expected": counts["articles_by_expected"],
        "figures": counts["figures"],
        "kept": counts["figures_by_expected"].get(KEPT, 0),
        "figures_by_expected": counts["figures_by_expected"],
        "duplicate_groups": {name: len(groups) for name, groups in truth["duplicates"].items()},
        "objects": sum(r.n_files for r in results),
        "bytes": sum(r.n_bytes for r in results),
    }


def _check_arguments(
    seed: int, n_articles: int, figures_per_article: tuple[int, int], figure_scale: float
) -> None:
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    if n_articles < 1:
        raise ValueError(f"n_articles must be at least 1, got {n_articles}")
    if not 0.25 <= figure_scale <= 8:
        raise ValueError(f"figure_scale must be between 0.25 and 8, got {figure_scale}")
    low, high = figures_per_article
    if not 0 <= low <= high:
        raise ValueError(
            f"figures_per_article must be (low, high) with 0 <= low <= high, got {figures_per_article}"
        )


def _write_all(root: Path, plans: list[ArticlePlan], workers: int | None) -> list[ArticleResult]:
    """Write every article version, in worker processes for large corpora; order kept."""
    if workers is None:
        workers = (os.cpu_count() or 1) if len(plans) >= _PARALLEL_FROM else 1
    batches = [plans[i : i + _BATCH] for i in range(0, len(plans), _BATCH)]
    if workers <= 1 or len(batches) <= 1:
        return [result for batch in batches for result in write_articles(str(root), batch)]
    # spawn: a forked child could inherit locks held by threads of the parent (Beam, tests)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        done = pool.map(write_articles, [str(root)] * len(batches), batches)
        return [result for batch in done for result in batch]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pmc15m.corpus.generator",
        description="Write a synthetic PMC Cloud bucket (pmc-oa-opendata layout) with ground-truth.json.",
    )
    parser.add_argument("--output", required=True, help="directory to create (must be new or empty)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--articles", type=int, default=60, help="number of articles (default 60)")
    parser.add_argument(
        "--inventory-date", default=DEFAULT_DATE, help=f"newest report folder (default {DEFAULT_DATE})"
    )
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument(
        "--figure-scale", type=float, default=1.0, help="multiply typical figure sizes (1; 2.5 is PMC-like)"
    )
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    if args.articles < 1:
        parser.error(f"--articles must be at least 1, got {args.articles}")
    if args.seed < 0:
        parser.error(f"--seed must not be negative, got {args.seed}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for a bad output directory)."""
    args = _parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    try:
        summary = generate_corpus(
            args.output, seed=args.seed, n_articles=args.articles, inventory_date=args.inventory_date,
            workers=args.workers, figure_scale=args.figure_scale,
        )  # fmt: skip
    except (FileExistsError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    log.info(
        "wrote %d article versions, %d figures (%d expected kept), %d objects, %.1f MB to %s in %.1f s",
        summary["article_versions"], summary["figures"], summary["kept"], summary["objects"],
        summary["bytes"] / 1e6, summary["root"], time.monotonic() - started,
    )  # fmt: skip
    log.info("figures by expected outcome: %s", summary["figures_by_expected"])
    log.info("articles by expected outcome: %s", summary["articles_by_expected"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
