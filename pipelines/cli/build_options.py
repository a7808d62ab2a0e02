"""``pmc15m build``'s options and the ``BuildConfig`` and ``Selection`` they make.

Kept apart from the run (``pipelines.cli.build``) because the options are most of the
command's text: every knob of the output, with its help and default, in one place, and the
one function that turns them into the frozen config the pipeline is given.
"""

from __future__ import annotations

import argparse

from pmc15m.core.argtypes import (
    fraction,
    non_negative_int,
    percent,
    positive_float,
    positive_int,
    sample_fraction,
)
from pmc15m.core.config import (
    LICENSE_PRESETS,
    BuildConfig,
    DedupConfig,
    FilterConfig,
    ImageConfig,
    ParseConfig,
)
from pmc15m.core.errors import UserError
from pmc15m.rules.selection import (
    KNOWN_LICENSE_CODES,
    Selection,
    SelectionError,
    parse_licenses,
    read_pmcid_list,
)
from pmc15m.storage import fs


def _licenses(text: str) -> tuple[str, ...]:
    try:
        return parse_licenses(text)
    except SelectionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_build_arguments(sub: argparse.ArgumentParser) -> None:
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
        "an image that needs more runs alone (pmc15m.image.budget)",
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
    """Caption quality and deduplication (pmc15m.rules.filters and .dedup explain the defaults)."""
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
    from pmc15m.rules.dedup import check_config

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
