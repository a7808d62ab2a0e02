"""``make bench``: run every benchmark and print its table.

``python -m benchmarks.run [--only NAME ...]``; names: see SUITES.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

SUITES = {
    "parse": "benchmarks.bench_parse",
    "images": "benchmarks.bench_images",
    "memory": "benchmarks.bench_memory",
    "build": "benchmarks.bench_build",
    "dedup": "benchmarks.bench_dedup",
    "fetch": "benchmarks.bench_fetch",
    "publish": "benchmarks.bench_publish",
    "update": "benchmarks.bench_update",
    "train": "benchmarks.bench_train",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="run only these suites")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for name in args.only or list(SUITES):
        module = importlib.import_module(SUITES[name])
        sys.stdout.write(module.run() + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
