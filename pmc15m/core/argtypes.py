"""Argument types and the parser class shared by every ``pmc15m`` subcommand.

One definition of "a positive integer" and "a fraction" keeps the one-line errors the same
for ``build``, ``train`` and the rest; argparse turns ``ArgumentTypeError`` into exit code 2.
The path types check what a command will later read or write, so that a mistyped path is
refused while parsing, before any command has written anything.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any, NoReturn


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help where X tells the reader something.

    argparse's ``ArgumentDefaultsHelpFormatter`` also prints ``default: None`` and
    ``default: False`` for flags and optional values, which says nothing; help that already
    explains its default in words ("default: from sizes.json") is left as written.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if shows_default(action):
            return f"{text} (default: %(default)s)"
        return text


def shows_default(action: argparse.Action) -> bool:
    """Whether ``DefaultsHelpFormatter`` adds the default of ``action`` to its help."""
    default = action.default
    if not action.option_strings or default is None or default is False or default is argparse.SUPPRESS:
        return False  # identity: 0 == False, and a default of 0 does tell the reader something
    if default in ("", ()):
        return False
    text = action.help or ""
    return "%(default)" not in text and "default" not in text.lower()


class CliParser(argparse.ArgumentParser):
    """The parser of ``pmc15m`` and of each subcommand: defaults in ``--help``, one-line errors.

    argparse prints the whole usage (dozens of lines for ``build``) above an error, which
    buries the one line that matters; here every mistake is that line alone, worded like
    the errors the commands raise themselves (``pmc15m: error: ...``), exit code 2.
    Subcommand parsers are made with the parent's class, so they inherit both.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"pmc15m: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def float_between(low: float, high: float) -> Callable[[str], float]:
    """A type for a number from ``low`` to ``high``, both included, where a command has
    limits of its own (``make-corpus --figure_scale``) and would refuse others later."""

    def number(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {text}")
        return value

    return number


def percent(text: str) -> int:
    """An encoder quality: 1 to 100, as JPEG and WebP take it."""
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be from 1 to 100, got {text}")
    return value


def fraction(text: str) -> float:
    """A share that may be zero but never the whole: [0, 1)."""
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def sample_fraction(text: str) -> float:
    """A share that may be everything but never nothing: (0, 1]."""
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def folder_problem(path: str) -> str | None:
    """Why a local folder could not be made or written at ``path``; None when it can.

    ``os.makedirs`` would otherwise fail half way (``FileExistsError`` for a file in the
    way) after other folders of the same command were made.
    """
    if os.path.lexists(path) and not os.path.isdir(path):
        return f"{path} exists and is not a folder"
    ancestor = os.path.abspath(path)
    while not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        return f"cannot make {path}: {ancestor} is not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot write in {ancestor} (permission denied)"
    return None


def folder_to_write(text: str) -> str:
    """A local folder that exists or can be made, and can be written."""
    problem = folder_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def file_to_write(text: str) -> str:
    """A local file that can be (over)written: its folder exists, it is not a folder."""
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.lexists(folder) else "does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {text}: {folder} {what}")
    if not os.access(folder, os.W_OK | os.X_OK) or (os.path.exists(text) and not os.access(text, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text} (permission denied)")
    return text


def existing_folder(text: str) -> str:
    """A local folder that is there to be read."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    if not os.access(text, os.R_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text} (permission denied)")
    return text


def shard_pattern(text: str) -> str:
    """Webdataset shards (``out/train/{00000..00009}.tar``, ``::`` joins patterns); the local
    ones must exist. URLs, ``pipe:`` commands and ``$WDS_`` variables are taken as given."""
    from braceexpand import braceexpand

    local = [p for p in text.split("::") if "://" not in p and not p.startswith("pipe:") and "$" not in p]
    shards = [shard for pattern in local for shard in braceexpand(pattern)]
    missing = [shard for shard in shards if not os.path.isfile(shard)]
    if missing and os.path.isdir(missing[0]):
        example = os.path.join(missing[0], "{00000..00009}.tar")
        raise argparse.ArgumentTypeError(f"{missing[0]} is a folder: name its shards, e.g. '{example}'")
    if missing:
        more = f" ({len(missing)} of {len(shards)} missing)" if len(shards) > 1 else ""
        raise argparse.ArgumentTypeError(f"no shard file {missing[0]}{more}")
    return text
