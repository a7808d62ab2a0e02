"""``pmc15m report <out>``: (re)write a build's report/stats.json and report/report.html.

Every build writes its report already; this rebuilds it, e.g. after copying a dataset or
after upgrading pmc15m, without rerunning the pipeline.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pmc15m.core.errors import UserError
from pmc15m.storage import fs


def add_location_arguments(sub: argparse.ArgumentParser) -> None:
    """The build output argument and how to reach it, shared by inspect, report and publish."""
    sub.add_argument("output", help="the build's output folder or URL (s3://bucket/prefix)")
    sub.add_argument(
        "--output_s3_endpoint_url",
        help=f"S3-compatible endpoint of an s3:// output (MinIO, R2, moto); or env {fs.ENDPOINT_ENV}",
    )


def open_location(args: argparse.Namespace, extra: list[str]) -> None:
    """Refuse stray arguments, configure the file-system layer and check the build exists."""
    if extra:
        raise UserError(f"unrecognized arguments: {' '.join(extra)}")
    fs.configure(fs.FsOptions(s3_endpoint_url=args.output_s3_endpoint_url))
    fs.check_location(args.output)
    if not fs.isdir(args.output):
        raise UserError(f"no build output at {args.output}")


def register(commands: Any) -> None:
    sub = commands.add_parser(
        "report",
        help="(re)write report/stats.json and report/report.html of a build",
        description="Statistics and plots of a finished build, from its shards and rejects.",
    )
    add_location_arguments(sub)
    sub.set_defaults(handler=run_report_command)


def run_report_command(args: argparse.Namespace, extra: list[str]) -> int:
    from pmc15m.publish.report import write_report  # numpy, pyarrow, PIL: not for --help
    from pmc15m.shards.format import MANIFEST

    open_location(args, extra)
    if not fs.exists(fs.join(args.output, MANIFEST)):
        raise UserError(f"{args.output} holds no finished build (no {MANIFEST})")
    sys.stdout.write(f"wrote {write_report(args.output)}\n")
    return 0
