"""``pmc15m build``: its options, the config they make, and the run (a new build, or with
``--update`` the refresh of one: both front ends are here, the pipelines in ``build``/``update``).

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

from pipelines.cli_sources import add_source_arguments, source_options_from_args
from pipelines.summary import format_summary, format_update
from pmc15m import fs, journal
from pmc15m.argtypes import (
    folder_problem,
    fraction,
    non_negative_int,
    percent,
    positive_float,
    positive_int,
    sample_fraction,
)
from pmc15m.config import LICENSE_PRESETS, BuildConfig, DedupConfig, FilterConfig, ImageConfig, ParseConfig
from pmc15m.errors import UserError
from pmc15m.selection import (
    KNOWN_LICENSE_CODES,
    Selection,
    SelectionError,
    parse_licenses,
    read_pmcid_list,
)
from pmc15m.sources.base import Source
from pmc15m.sources.errors import SourceError
from pmc15m.sources.options import SourceOptions

# Folders a previous build wrote; --overwrite removes exactly these, nothing else (not the
# card, README.md: a folder's README may be the user's own; every build writes it anew).
_OUTPUT_PARTS = ("train", "validation", "test", "rejects", "report", "index", "tombstones", "manifest.json")


def register(commands: Any) -> None:
    build = commands.add_parser(
        "build",
        help="build shards from a PMC-style bucket",
        description="Build webdataset tar + Parquet shards. Unknown --flags are Beam pipeline options "
        "(default: the local runner, Beam's FnApiRunner without DirectRunner's Prism download; "
        "see docs/runners.md).",
    )
    _add_build_arguments(build)
    add_source_arguments(build)
    build.set_defaults(handler=run_build_command)


def _licenses(text: str) -> tuple[str, ...]:
    try:
        return parse_licenses(text)
    except SelectionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_build_arguments(sub: argparse.ArgumentParser) -> None:
    d, img, flt = BuildConfig(), ImageConfig(), FilterConfig()
    sub.add_argument(
        "--source",
        required=True,
        help="the bucket: s3://pmc-oa-opendata, an https:// base URL (virtual-host or path style), "
        "a local directory laid out like the bucket, or a legacy oa_package mirror (with oa_file_list.csv)",
    )
    sub.add_argument(
        "--output",
        help="output directory or URL (s3://bucket/prefix, gs://...) for the dataset",
    )
    sub.add_argument(
        "--update",
        metavar="DIR",
        help="refresh the build in DIR in place: process only new and changed article versions, "
        "tombstone removed/superseded ones, add new shards (same options as that build; --output "
        "defaults to DIR)",
    )
    sub.add_argument(
        "--output_s3_endpoint_url",
        help=f"S3-compatible endpoint of an s3:// output (MinIO, R2, moto); or env {fs.ENDPOINT_ENV}",
    )
    sub.add_argument("--overwrite", action="store_true", help="replace the output of a previous build there")
    sub.add_argument(
        "--keep_work",
        action="store_true",
        help="keep <output>/_work/ (the resume journal) after the build; a killed build started "
        "again with the same arguments always resumes from it",
    )
    sub.add_argument("--inventory_date", help="pin an inventory report (2026-11-20T01-00Z); default: newest")
    sub.add_argument(
        "--licenses",
        type=_licenses,
        default="redistributable",  # argparse passes a string default through _licenses
        help=f"a preset ({', '.join(LICENSE_PRESETS)}) or comma-separated codes and presets "
        f"(codes: {', '.join(KNOWN_LICENSE_CODES)})",
    )
    sub.add_argument(
        "--pmcids",
        metavar="FILE",
        help="build only these articles: a file with one PMCID per line (PMC prefix optional, # comments)",
    )
    sub.add_argument(
        "--sample_fraction",
        type=sample_fraction,
        help="build a stable sample of this fraction of the articles (hash of the PMCID; a bigger "
        "fraction is a superset)",
    )
    sub.add_argument(
        "--limit",
        type=positive_int,
        help="build at most N articles: the N (selected) PMCIDs with the smallest hash, the same every run",
    )
    sub.add_argument(
        "--include_retracted", action="store_true", help="keep retracted articles (default: drop)"
    )
    sub.add_argument("--max_side", type=positive_int, default=img.max_side, help="target size in pixels")
    sub.add_argument(
        "--resize_mode",
        choices=("longest", "shortest", "none"),
        default=img.resize_mode,
        help="which side --max_side sets (never upscaled); none: keep the source size",
    )
    sub.add_argument(
        "--image_format", choices=("jpeg", "webp"), default=img.output_format, help="stored image format"
    )
    sub.add_argument("--quality", type=percent, default=img.quality, help="output JPEG/WebP quality, 1-100")
    sub.add_argument(
        "--max_pixels", type=positive_int, default=img.max_pixels, help="decompression-bomb limit"
    )
    sub.add_argument(
        "--decode_memory_mb",
        type=positive_int,
        default=img.decode_memory_mb,
        help="MiB of decoded images a worker process holds at once, over all its threads; "
        "an image that needs more runs alone (pmc15m.pixelbudget)",
    )
    sub.add_argument(
        "--max_xml_bytes", type=positive_int, default=ParseConfig().max_bytes, help="refuse bigger JATS"
    )
    sub.add_argument("--prepend_group_caption", action="store_true", help="fig-group caption first")
    sub.add_argument("--include_label", action="store_true", help="keep 'Figure 1' at the start of captions")
    sub.add_argument("--no_mentions", action="store_true", help="skip the body sentences citing each figure")
    sub.add_argument(
        "--min_caption_words",
        type=non_negative_int,
        default=flt.min_caption_words,
        help="drop samples whose caption has fewer words",
    )
    sub.add_argument(
        "--min_image_side",
        type=non_negative_int,
        default=flt.min_image_side,
        help="drop images whose shorter side has fewer source pixels",
    )
    sub.add_argument(
        "--max_aspect_ratio",
        type=positive_float,
        default=flt.max_aspect_ratio,
        help="drop images whose long side exceeds the short side this many times",
    )
    _add_quality_arguments(sub)
    sub.add_argument(
        "--shard_size", type=positive_int, default=d.shard_size, help="about this many samples per shard"
    )
    sub.add_argument(
        "--validation_fraction",
        type=fraction,
        default=d.validation_fraction,
        help="share of the articles in the validation split (by PMCID hash, stable across builds)",
    )
    sub.add_argument(
        "--test_fraction",
        type=fraction,
        default=d.test_fraction,
        help="share of the articles in the test split (by PMCID hash, stable across builds)",
    )


def _add_quality_arguments(sub: argparse.ArgumentParser) -> None:
    """Caption quality and deduplication (pmc15m.quality, pmc15m.dedup explain the defaults)."""
    flt, dd = FilterConfig(), DedupConfig()
    sub.add_argument(
        "--max_caption_words",
        type=positive_int,
        default=flt.max_caption_words,
        help="drop samples whose caption has more words",
    )
    sub.add_argument(
        "--max_caption_chars",
        type=positive_int,
        default=flt.max_caption_chars,
        help="drop samples whose caption has more characters (a few very long 'words' pass the word count)",
    )
    sub.add_argument(
        "--keep_stock_captions", action="store_true", help="keep captions that are a label or stock phrase"
    )
    sub.add_argument("--keep_non_english", action="store_true", help="keep captions judged not English")
    sub.add_argument("--no_dedup", action="store_true", help="keep duplicate and boilerplate images")
    sub.add_argument(
        "--near_distance",
        type=int,
        default=dd.near_distance,
        help="perceptual-hash Hamming distance of a near duplicate; -1: exact duplicates only",
    )
    sub.add_argument(
        "--near_bands", type=int, default=dd.near_bands, help="hash bands of the near search; 0: automatic"
    )
    sub.add_argument(
        "--boilerplate_articles",
        type=positive_int,
        default=dd.boilerplate_articles,
        help="drop an image found in more distinct articles than this",
    )


def _dedup_config(args: argparse.Namespace) -> DedupConfig:
    from pmc15m.dedup import check_config

    config = DedupConfig(
        enabled=not args.no_dedup,
        near_distance=args.near_distance,
        near_bands=args.near_bands,
        boilerplate_articles=args.boilerplate_articles,
    )
    try:
        check_config(config)
    except ValueError as exc:
        raise UserError(f"deduplication: {exc}") from exc
    return config


def config_from_args(args: argparse.Namespace) -> BuildConfig:
    if args.validation_fraction + args.test_fraction >= 1.0:
        raise UserError("--validation_fraction + --test_fraction must leave room for train")
    return BuildConfig(
        licenses=args.licenses,
        drop_retracted=not args.include_retracted,
        image=ImageConfig(
            max_side=args.max_side,
            resize_mode=args.resize_mode,
            output_format=args.image_format,
            quality=args.quality,
            max_pixels=args.max_pixels,
            decode_memory_mb=args.decode_memory_mb,
        ),
        filters=FilterConfig(
            min_caption_words=args.min_caption_words,
            min_image_side=args.min_image_side,
            max_aspect_ratio=args.max_aspect_ratio,
            max_caption_words=args.max_caption_words,
            max_caption_chars=args.max_caption_chars,
            drop_stock_captions=not args.keep_stock_captions,
            english_only=not args.keep_non_english,
        ),
        dedup=_dedup_config(args),
        parse=ParseConfig(
            max_bytes=args.max_xml_bytes,
            prepend_group_caption=args.prepend_group_caption,
            include_label=args.include_label,
            extract_mentions=not args.no_mentions,
        ),
        shard_size=args.shard_size,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
    )


def selection_from_args(args: argparse.Namespace) -> Selection:
    """The articles asked for; the PMCID file is read here, before any pipeline starts."""
    try:
        pmcids = read_pmcid_list(args.pmcids) if args.pmcids is not None else None
        return Selection(pmcids=pmcids, limit=args.limit, sample_fraction=args.sample_fraction)
    except SelectionError as exc:
        raise UserError(str(exc)) from exc


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
        # An interrupted build: its partial output is redone from the journal (pmc15m.journal).
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
