"""``pmc15m build``: the run (a new build, or with ``--update`` the refresh of one: both
front ends are here, the pipelines in ``build``/``update``); its options and the config they
make are in ``pipelines.cli.build_options``.

Options the build does not know are handed to Beam (``--runner``, ``--direct_num_workers``
...); a flag that neither knows is an error, not a silently ignored typo. Every argument
(values, Beam's runner and options, the output, the source and its inventory) is checked
before the first write, so a mistake leaves the disk as it was: no empty output folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any

from pipelines.cli.build_options import add_build_arguments, config_from_args, selection_from_args
from pipelines.cli.sources import add_source_arguments, source_options_from_args
from pipelines.summary import format_summary, format_update
from pmc15m.core.argtypes import (
    folder_problem,
)
from pmc15m.core.config import (
    BuildConfig,
)
from pmc15m.core.errors import UserError
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import format as fmt
from pmc15m.sources.base import Source
from pmc15m.sources.errors import SourceError
from pmc15m.sources.options import SourceOptions
from pmc15m.storage import fs, journal

# Folders a previous build wrote; --overwrite removes exactly these, nothing else (not the
# card, README.md: a folder's README may be the user's own; every build writes it anew).
_OUTPUT_PARTS = (
    *SPLITS,
    fmt.REJECTS_DIR,
    fmt.REPORT_DIR,
    fmt.INDEX_DIR,
    fmt.TOMBSTONES_DIR,
    fmt.MANIFEST,
)


def register(commands: Any) -> None:
    build = commands.add_parser(
        "build",
        help="build shards from a PMC-style bucket",
        description="Build webdataset tar + Parquet shards. Unknown --flags are Beam pipeline options "
        "(default: the local runner, Beam's FnApiRunner without DirectRunner's Prism download; "
        "see docs/runners.md).",
    )
    add_build_arguments(build)
    add_source_arguments(build)
    build.set_defaults(handler=run_build_command)


def beam_arguments(extra: list[str]) -> list[str]:
    """Check the leftover flags are Beam options Beam accepts (runner, names, values), so a
    mistake fails now and not when the pipeline is made; the local runner unless named."""
    from pipelines.beam_options import BeamOptionsError, check_beam_flags, expand_runner_name

    extra = expand_runner_name(extra)  # --runner DaskRunner -> its full path; none: LocalRunner
    try:
        check_beam_flags(extra)
    except BeamOptionsError as exc:
        raise UserError(str(exc)) from None
    return extra


def open_checked_source(location: str, inventory_date: str | None, options: SourceOptions) -> Source:
    """Open the source and find its inventory, to fail on a bad ``--source`` or
    ``--inventory_date`` before the output is touched; the build reads it from there."""
    from pmc15m.sources.open import open_source  # boto3, requests, lxml: not for --help

    if fs.is_local(location):
        path = fs.local_path(location)
        if not os.path.exists(path):
            raise SourceError(f"source directory does not exist: {location}")
        if not os.path.isdir(path):
            raise SourceError(f"source is not a directory: {location}")
        if not os.access(path, os.R_OK | os.X_OK):
            raise SourceError(f"source directory is not readable: {location}")
    try:
        source = open_source(location, inventory_date, options)
        source.inventory_parts()  # found once: the source keeps what it read
    except OSError as exc:  # a local inventory that cannot be read
        raise SourceError(f"cannot read the source {location}: {exc}") from exc
    return source


def check_output(output: str, overwrite: bool) -> list[str]:
    """The parts of a previous build at ``output`` that the build replaces; raises when
    the output cannot be used. Writes nothing."""
    fs.check_location(output)
    if fs.is_local(output):
        problem = folder_problem(fs.local_path(output))
        if problem is not None:
            raise UserError(f"--output: {problem}")
    existing = [p for p in _OUTPUT_PARTS if fs.exists(fs.join(output, p))]
    if existing and journal.in_progress(output):
        # An interrupted build: its partial output is redone from the journal (pmc15m.storage.journal).
        logging.getLogger(__name__).warning("resuming the unfinished build in %s", output)
    elif existing and not overwrite:
        raise UserError(
            f"{output} already holds a build ({', '.join(existing)}); pass --overwrite to replace it"
        )
    return existing


def clear_output(output: str, existing: list[str]) -> None:
    """The build's first write: remove the ``existing`` parts of a previous build, make the folder."""
    for part in existing:
        path = fs.join(output, part)
        fs.rmtree(path) if fs.isdir(path) else fs.remove(path)
    fs.makedirs(output)


def prepare_output(output: str, overwrite: bool) -> None:
    """``check_output`` then ``clear_output``: for callers with nothing else to check between."""
    clear_output(output, check_output(output, overwrite))


def _check_update_dir(directory: str) -> None:
    """A local ``--update`` folder must be there: the update stages its base inside it."""
    if fs.is_local(directory) and not os.path.isdir(fs.local_path(directory)):
        what = "is not a folder" if os.path.exists(fs.local_path(directory)) else "does not exist"
        raise UserError(f"--update: {directory} {what}")


def run_build_command(args: argparse.Namespace, extra: list[str]) -> int:
    """Every argument is checked (values, Beam flags, output, source) before the first write."""
    from pipelines.build import run_build  # Beam loads with it: only when a build runs

    config = config_from_args(args)
    selection = selection_from_args(args)
    source_options = source_options_from_args(args)
    beam_args = beam_arguments(extra)
    fs_options = fs.FsOptions(s3_endpoint_url=args.output_s3_endpoint_url)
    fs.configure(fs_options)
    if args.update is not None or args.output is None:
        source = None
        if args.update is not None:
            _check_update_dir(args.update)
            source = open_checked_source(args.source, args.inventory_date, source_options)
        return run_update_command(args, config, beam_args, source_options, fs_options, source)
    existing = check_output(args.output, args.overwrite)
    source = open_checked_source(args.source, args.inventory_date, source_options)
    clear_output(args.output, existing)
    started = time.monotonic()
    manifest = run_build(
        args.source,
        args.output,
        config,
        beam_args,
        inventory_date=args.inventory_date,
        fs_options=fs_options,
        selection=selection,
        source_options=source_options,
        keep_work=args.keep_work,
        source=source,
    )
    sys.stdout.write(format_summary(manifest, args.output, time.monotonic() - started))
    return 0


def _check_update_arguments(args: argparse.Namespace) -> None:
    """``--update`` refreshes one build in place: no second output, nothing to select."""
    if args.update is None:
        raise UserError("give --output DIR (a new build) or --update DIR (refresh a build)")
    if args.output is not None and args.output.rstrip("/") != args.update.rstrip("/"):
        raise UserError(
            "--update writes into the build it refreshes: leave --output out or give the same DIR"
        )
    if args.overwrite or args.pmcids or args.limit or args.sample_fraction:
        raise UserError("--update takes no --overwrite, --pmcids, --limit or --sample_fraction")


def run_update_command(
    args: argparse.Namespace,
    config: BuildConfig,
    beam_args: list[str],
    source_options: SourceOptions | None,
    fs_options: fs.FsOptions,
    source: Source | None = None,
) -> int:
    """The ``--update`` branch of ``pmc15m build``: checks, run, summary."""
    from pipelines.update import run_update  # Beam loads with it: only when an update runs

    _check_update_arguments(args)
    fs.check_location(args.update)
    started = time.monotonic()
    manifest = run_update(
        args.source,
        args.update,
        config,
        beam_args,
        inventory_date=args.inventory_date,
        fs_options=fs_options,
        source_options=source_options,
        keep_work=args.keep_work,
        source=source,
    )
    if manifest.get("up_to_date"):
        sys.stdout.write(
            f"pmc15m build --update: {args.update} is up to date (nothing new, changed or removed)\n"
        )
        return 0
    sys.stdout.write(format_summary(manifest, args.update, time.monotonic() - started))
    sys.stdout.write(format_update(manifest))
    return 0
