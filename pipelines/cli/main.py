"""The ``pmc15m`` command line: one parser, subcommands registered by their own modules.

``build`` lives in ``pipelines.cli.build``; ``make-corpus`` is here because it is tiny; the
rest (inspect, publish, report, train ...) add themselves through ``register(commands)``,
each setting ``handler`` to an ``(args, extra) -> int`` function. Modules are imported
lightly (no torch, no Beam at import) so ``pmc15m --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any

from pmc15m.core.argtypes import CliParser, float_between, folder_to_write, non_negative_int, positive_int
from pmc15m.core.errors import UserError
from pmc15m.storage import fs, progress

log = logging.getLogger("pmc15m")

# Modules with a ``register(commands)`` adding one subcommand each, in ``--help`` order.
_SUBCOMMAND_MODULES: tuple[str, ...] = (
    "pipelines.cli.build",
    "pipelines.cli.inspect",
    "pipelines.cli.publish",
    "pipelines.cli.report",
    "pmc15m.train.cli",
)


def make_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="pmc15m",
        description="Build CLIP-ready figure-caption datasets from PubMed Central open access.",
    )
    parser.add_argument(
        "--log_level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="messages shown on stderr; ERROR also hides the build's progress",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in _SUBCOMMAND_MODULES:
        importlib.import_module(module).register(commands)
    corpus = commands.add_parser(
        "make-corpus", help="write the embedded mini corpus (a bucket-like directory)"
    )
    corpus.add_argument(
        "--output", type=folder_to_write, required=True, help="directory to write the corpus into"
    )
    corpus.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    corpus.add_argument("--articles", type=positive_int, default=60, help="number of articles (default 60)")
    corpus.add_argument(
        "--figure_scale",
        type=float_between(0.25, 8),  # the generator's limits
        default=1.0,
        help="multiply typical figure sizes (default 1; 2.5 is PMC-like)",
    )
    corpus.add_argument(
        "--state",
        type=int,
        choices=(1, 2),
        default=1,
        help="1: the corpus as generated; 2: the same corpus a day later (articles added, removed, "
        "superseded, changed; a newer inventory report) to try build --update on, made in place "
        "from state 1 of the same options, or from scratch (default 1)",
    )
    corpus.set_defaults(handler=run_corpus_command)
    return parser


def run_corpus_command(args: argparse.Namespace, extra: list[str]) -> int:
    """Writes the corpus; the generator's refusals (an output that is not new or empty, an
    option out of range) are user errors, printed as one line like every other."""
    if extra:
        raise UserError(f"unrecognized arguments: {' '.join(extra)}")
    if args.state == 2:
        from pmc15m.corpus.changes import make_state2

        changes = make_state2(
            args.output, seed=args.seed, n_articles=args.articles, figure_scale=args.figure_scale
        )
        sys.stdout.write(changes.summary(args.output))
        return 0
    from pmc15m.corpus.generator import generate_corpus

    try:
        summary = generate_corpus(
            args.output, seed=args.seed, n_articles=args.articles, figure_scale=args.figure_scale
        )
    except (FileExistsError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    log.info(
        "wrote %d article versions, %d figures (%d expected kept), %d objects, %.1f MB to %s",
        summary["article_versions"], summary["figures"], summary["kept"], summary["objects"],
        summary["bytes"] / 1e6, summary["root"],
    )  # fmt: skip
    return 0


class _QuietOptionalDeps(logging.Filter):
    """Drops Beam's import-time warning about Google Cloud client libraries we never use."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietOptionalDeps())
    progress.show_on_stderr(level != "ERROR")  # build progress is on by default


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    _configure_logging(args.log_level)
    try:
        return args.handler(args, extra)
    except (UserError, fs.FsError) as exc:  # a SourceError is a UserError too
        parser.exit(2, f"pmc15m: error: {exc}\n")
    return 1


def entry(argv: list[str] | None = None) -> Any:
    sys.exit(main(argv))
