"""The ``pmc15m`` command line: ``build`` a dataset, ``make-corpus`` for the mini corpus.

Options the build does not know are handed to Beam (``--runner``, ``--direct_num_workers``
...); a flag that neither knows is an error, not a silently ignored typo.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shutil
import sys
import time
from typing import Any

from pmc15m.config import LICENSE_PRESETS, BuildConfig, FilterConfig, ImageConfig
from pmc15m.sources.base import SourceError

log = logging.getLogger("pmc15m")

# Modules with a ``register(commands)`` adding one subcommand each (kept light to import).
_SUBCOMMAND_MODULES: tuple[str, ...] = ()

# Folders a previous build wrote; --overwrite removes exactly these, nothing else.
_OUTPUT_PARTS = ("train", "validation", "test", "rejects", "report", "manifest.json")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _licenses(text: str) -> tuple[str, ...]:
    if text in LICENSE_PRESETS:
        return LICENSE_PRESETS[text]
    codes = tuple(code.strip() for code in text.split(",") if code.strip())
    if not codes:
        raise argparse.ArgumentTypeError("give a preset or a comma-separated list of license codes")
    return codes


def _add_build_arguments(sub: argparse.ArgumentParser) -> None:
    d, img, flt = BuildConfig(), ImageConfig(), FilterConfig()
    sub.add_argument(
        "--source", required=True, help="bucket location: a local directory laid out like the bucket"
    )
    sub.add_argument("--output", required=True, help="output directory for shards, rejects and manifest")
    sub.add_argument("--overwrite", action="store_true", help="replace the output of a previous build there")
    sub.add_argument("--inventory_date", help="pin an inventory report (2026-11-20T01-00Z); default: newest")
    sub.add_argument(
        "--licenses",
        type=_licenses,
        default=d.licenses,
        help=f"a preset ({', '.join(LICENSE_PRESETS)}) or comma-separated codes; default: redistributable",
    )
    sub.add_argument(
        "--include_retracted", action="store_true", help="keep retracted articles (default: drop)"
    )
    sub.add_argument("--max_side", type=_positive_int, default=img.max_side, help="target size in pixels")
    sub.add_argument("--resize_mode", choices=("longest", "shortest", "none"), default=img.resize_mode)
    sub.add_argument("--image_format", choices=("jpeg", "webp"), default=img.output_format)
    sub.add_argument("--quality", type=_positive_int, default=img.quality, help="output JPEG/WebP quality")
    sub.add_argument(
        "--max_pixels", type=_positive_int, default=img.max_pixels, help="decompression-bomb limit"
    )
    sub.add_argument("--min_caption_words", type=int, default=flt.min_caption_words)
    sub.add_argument("--min_image_side", type=int, default=flt.min_image_side, help="source pixels")
    sub.add_argument("--max_aspect_ratio", type=float, default=flt.max_aspect_ratio)
    sub.add_argument(
        "--shard_size", type=_positive_int, default=d.shard_size, help="samples per shard (about)"
    )
    sub.add_argument("--validation_fraction", type=_fraction, default=d.validation_fraction)
    sub.add_argument("--test_fraction", type=_fraction, default=d.test_fraction)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmc15m",
        description="Build CLIP-ready figure-caption datasets from PubMed Central open access.",
    )
    parser.add_argument("--log_level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build",
        help="build shards from a PMC-style bucket",
        description="Build webdataset tar + Parquet shards. Unknown --flags are Beam pipeline options "
        "(default --runner DirectRunner).",
    )
    _add_build_arguments(build)
    corpus = commands.add_parser(
        "make-corpus", help="write the embedded mini corpus (a bucket-like directory)"
    )
    corpus.add_argument("--output", required=True, help="directory to write the corpus into")
    corpus.add_argument("--seed", type=int, default=0)
    corpus.add_argument("--articles", type=_positive_int, default=60, help="number of articles")
    corpus.set_defaults(handler=run_corpus_command)
    build.set_defaults(handler=run_build_command)
    # Further subcommands live in their own modules, each with a ``register(commands)`` that
    # adds its parser and sets ``handler`` to a ``(args, extra) -> int`` function.
    for module in _SUBCOMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def config_from_args(args: argparse.Namespace) -> BuildConfig:
    if args.validation_fraction + args.test_fraction >= 1.0:
        raise SourceError("--validation_fraction + --test_fraction must leave room for train")
    return BuildConfig(
        licenses=args.licenses,
        drop_retracted=not args.include_retracted,
        image=ImageConfig(
            max_side=args.max_side,
            resize_mode=args.resize_mode,
            output_format=args.image_format,
            quality=args.quality,
            max_pixels=args.max_pixels,
        ),
        filters=FilterConfig(
            min_caption_words=args.min_caption_words,
            min_image_side=args.min_image_side,
            max_aspect_ratio=args.max_aspect_ratio,
        ),
        shard_size=args.shard_size,
        validation_fraction=args.validation_fraction,
        test_fraction=args.test_fraction,
    )


def beam_arguments(extra: list[str]) -> list[str]:
    """Check the leftover flags are Beam options, and name the local runner by default."""
    from pipelines.beam_options import unknown_beam_flags

    unknown = unknown_beam_flags(extra)
    if unknown:
        raise SourceError(f"unknown option(s): {' '.join(unknown)} (see pmc15m build --help)")
    if not any(a == "--runner" or a.startswith("--runner=") for a in extra):
        extra = ["--runner=DirectRunner", *extra]
    return extra


def prepare_output(output: str, overwrite: bool) -> None:
    existing = [p for p in _OUTPUT_PARTS if os.path.exists(os.path.join(output, p))]
    if existing and not overwrite:
        raise SourceError(
            f"{output} already holds a build ({', '.join(existing)}); pass --overwrite to replace it"
        )
    for part in existing:
        path = os.path.join(output, part)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    os.makedirs(output, exist_ok=True)


def run_build_command(args: argparse.Namespace, extra: list[str]) -> int:
    from pipelines.build import run_build
    from pipelines.summary import format_summary

    config = config_from_args(args)
    beam_args = beam_arguments(extra)
    prepare_output(args.output, args.overwrite)
    started = time.monotonic()
    manifest = run_build(args.source, args.output, config, beam_args, inventory_date=args.inventory_date)
    sys.stdout.write(format_summary(manifest, args.output, time.monotonic() - started))
    return 0


def run_corpus_command(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise SourceError(f"unrecognized arguments: {' '.join(extra)}")
    from pmc15m.corpus.generator import main as corpus_main

    return corpus_main(["--output", args.output, "--seed", str(args.seed), "--articles", str(args.articles)])


class _QuietOptionalDeps(logging.Filter):
    """Drops Beam's import-time warning about Google Cloud client libraries we never use."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietOptionalDeps())


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    _configure_logging(args.log_level)
    try:
        return args.handler(args, extra)
    except SourceError as exc:
        parser.exit(2, f"pmc15m: error: {exc}\n")
    return 1


def entry(argv: list[str] | None = None) -> Any:
    sys.exit(main(argv))
