"""Which command-line flags Beam's pipeline options understand, and runner short names.

Beam itself only warns about (and drops) a flag it does not know, so a mistyped
``--direct_num_wokers`` would silently build with one worker; the CLI refuses it instead.
A bad value (``--direct_num_workers abc``) or an unknown ``--runner`` would only fail when
the pipeline is made, after the build has written to its output; ``check_beam_flags``
finds both while nothing is written yet. ``DirectRunner`` is read as
``pipelines.local_runner.LocalRunner``: Beam's own would first download the Prism runner
from GitHub (see that module).

A runner's own options (``--dask_client_address``) are registered only once its module
is imported, so that happens here before the check when the flags name that runner.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
from typing import NoReturn

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser

from pipelines.local_runner import DIRECT_RUNNER_NAMES, LOCAL_RUNNER_PATH

# Short runner names -> the runner the build runs: Beam knows the Dask runner only by its
# full path, and its DirectRunner would try to download Prism first (pipelines.local_runner).
RUNNER_PATHS = {
    "DaskRunner": "apache_beam.runners.dask.dask_runner.DaskRunner",
    "LocalRunner": LOCAL_RUNNER_PATH,
    **{name: LOCAL_RUNNER_PATH for name in DIRECT_RUNNER_NAMES},
}
# Flag prefixes whose options live in a runner module Beam does not import by itself.
_OPTION_MODULES = {"--dask_": "apache_beam.runners.dask.dask_runner"}


class BeamOptionsError(ValueError):
    """Beam flags that would fail (or be dropped) once the pipeline is made: a user error."""


def _short_name(name: str) -> str | None:
    """The ``RUNNER_PATHS`` key ``name`` means, read as Beam reads runner names: any case,
    ``Runner`` optional (``--runner direct`` is Beam's DirectRunner too)."""
    keys = {key.lower(): key for key in RUNNER_PATHS}
    return keys.get(name.lower()) or keys.get(name.lower() + "runner")


def resolve_runner(name: str) -> str:
    """The dotted path of the runner ``--runner name`` runs (as ``create_runner`` resolves
    it after ``expand_runner_name``); a name no runner has comes back as given."""
    short = _short_name(name)
    if short is not None:
        return RUNNER_PATHS[short]
    beam = {path.rsplit(".", 1)[-1].lower(): path for path in StandardOptions.ALL_KNOWN_RUNNERS}
    return beam.get(name.lower()) or beam.get(name.lower() + "runner") or name


def accepted_runners() -> list[str]:
    """The runner names ``--runner`` takes besides a dotted path, for error messages."""
    ours = sorted(RUNNER_PATHS, key=lambda name: (name != "LocalRunner", name))  # the default first
    return ours + [name for name in StandardOptions.KNOWN_RUNNER_NAMES if name not in RUNNER_PATHS]


def expand_runner_name(flags: list[str]) -> list[str]:
    """``--runner DaskRunner`` (or ``=DaskRunner``) -> the runner's full path; no
    ``--runner`` at all -> the local runner, as Beam defaults to its DirectRunner."""
    out = list(flags)
    for i, flag in enumerate(out):
        if flag.startswith("--runner=") and _short_name(flag[len("--runner=") :]):
            out[i] = "--runner=" + resolve_runner(flag[len("--runner=") :])
        elif flag == "--runner" and i + 1 < len(out) and _short_name(out[i + 1]):
            out[i + 1] = resolve_runner(out[i + 1])
    if not any(flag == "--runner" or flag.startswith("--runner=") for flag in out):
        out.insert(0, f"--runner={LOCAL_RUNNER_PATH}")
    return out


def _runner_value(flags: list[str]) -> str | None:
    """The ``--runner`` the flags name (the last one, as argparse keeps it); None if none."""
    value = None
    for i, flag in enumerate(flags):
        if flag.startswith("--runner="):
            value = flag[len("--runner=") :]
        elif flag == "--runner" and i + 1 < len(flags):
            value = flags[i + 1]
    return value


def check_runner(name: str) -> None:
    """Raise ``BeamOptionsError`` unless ``name`` is a runner Beam could make: a known name
    or the dotted path of an importable ``PipelineRunner`` subclass."""
    from apache_beam.runners.runner import PipelineRunner

    path = resolve_runner(name)
    if "." not in path:
        raise BeamOptionsError(
            f"unknown runner {name!r}: give one of {', '.join(accepted_runners())}, "
            "or the dotted path of a PipelineRunner subclass"
        )
    module, _, attribute = path.rpartition(".")
    try:
        runner = getattr(importlib.import_module(module), attribute)
    except Exception as exc:  # any failure to import it: the runner cannot be used here
        raise BeamOptionsError(f"runner {name!r} cannot be loaded: {type(exc).__name__}: {exc}") from None
    if not (isinstance(runner, type) and issubclass(runner, PipelineRunner)):
        raise BeamOptionsError(f"runner {name!r}: {path} is not a PipelineRunner subclass")


def _register_runner_options(flags: list[str]) -> None:
    wanted = {
        module for prefix, module in _OPTION_MODULES.items() if any(f.startswith(prefix) for f in flags)
    }
    wanted |= {path.rsplit(".", 1)[0] for path in RUNNER_PATHS.values() if any(path in f for f in flags)}
    for module in wanted:
        with contextlib.suppress(ImportError):  # then its flags are reported as unknown
            importlib.import_module(module)


class _CheckingParser(_BeamArgumentParser):
    """Beam's option parser, raising on a bad value where argparse would print and exit."""

    def error(self, message: str) -> NoReturn:
        raise BeamOptionsError(f"bad Beam option: {message}")


def _parse(flags: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Parse ``flags`` with every registered PipelineOptions class, as ``PipelineOptions``
    does when the pipeline is made; (values, flags no class declares)."""
    _register_runner_options(flags)
    parser = _CheckingParser(allow_abbrev=False)
    seen: dict[str, type] = {}
    for cls in PipelineOptions.__subclasses__():
        seen.setdefault(str(cls), cls)
    for cls in seen.values():
        cls._add_argparse_args(parser)
    values, unknown = parser.parse_known_args(flags)
    return values, [flag for flag in unknown if flag.startswith("-")]


def unknown_beam_flags(flags: list[str]) -> list[str]:
    """The flags in ``flags`` that no registered PipelineOptions class declares.

    Raises ``BeamOptionsError`` for a known flag with a value Beam would refuse.
    """
    return _parse(flags)[1]


def check_beam_flags(flags: list[str]) -> None:
    """Raise ``BeamOptionsError`` for anything in ``flags`` Beam would refuse or ignore:
    an unknown runner, an unknown flag, a value of the wrong type or out of its choices."""
    runner = _runner_value(flags)
    if runner is not None:
        check_runner(runner)  # first: importing it registers the runner's own options
    values, unknown = _parse(flags)
    if unknown:
        raise BeamOptionsError(f"unknown option(s): {' '.join(unknown)} (neither the command's nor Beam's)")
    workers = getattr(values, "direct_num_workers", 1)
    if isinstance(workers, int) and workers < 0:
        raise BeamOptionsError(f"--direct_num_workers must be 0 (one per CPU) or more, got {workers}")
