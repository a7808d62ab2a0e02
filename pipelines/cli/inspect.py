"""``pmc15m inspect <out>``: counts per split, a few samples, and an integrity check.

Exit status 0 when every tar, Parquet, stats file, ``sizes.json`` and the manifest agree,
1 with the list of problems when they do not, 2 for a bad argument or a missing output.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipelines.cli.report import add_location_arguments, open_location
from pmc15m.core.argtypes import non_negative_int


def register(commands: Any) -> None:
    sub = commands.add_parser(
        "inspect",
        help="counts, a few samples and an integrity check of a build output",
        description="Read every shard of a build and check that tars, Parquet files, _stats.json, "
        "sizes.json and manifest.json agree. Exits 1 and lists the problems when they do not.",
    )
    add_location_arguments(sub)
    sub.add_argument("--samples", type=non_negative_int, default=3, help="samples to print per split")
    sub.set_defaults(handler=run_inspect_command)


def run_inspect_command(args: argparse.Namespace, extra: list[str]) -> int:
    from pmc15m.shards.inspect import format_inspection, inspect_output

    open_location(args, extra)
    result = inspect_output(args.output, n_samples=args.samples)
    sys.stdout.write(format_inspection(result))
    return 0 if result.ok else 1
