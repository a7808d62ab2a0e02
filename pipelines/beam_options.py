"""Which command-line flags Beam's pipeline options understand, and runner short names.

Beam itself only warns about (and drops) a flag it does not know, so a mistyped
``--direct_num_wokers`` would silently build with one worker; the CLI refuses it instead.
A runner's own options (``--dask_client_address``) are registered only once its module
is imported, so that happens here before the check when the flags name that runner.
"""

from __future__ import annotations

import contextlib
import importlib

from apache_beam.options.pipeline_options import PipelineOptions

# Runners Beam knows only by their full path; the CLI also accepts the short name.
RUNNER_PATHS = {"DaskRunner": "apache_beam.runners.dask.dask_runner.DaskRunner"}
# Flag prefixes whose options live in a runner module Beam does not import by itself.
_OPTION_MODULES = {"--dask_": "apache_beam.runners.dask.dask_runner"}


def expand_runner_name(flags: list[str]) -> list[str]:
    """``--runner DaskRunner`` (or ``=DaskRunner``) -> the runner's full path."""
    out = list(flags)
    for i, flag in enumerate(out):
        if flag.startswith("--runner=") and flag[len("--runner=") :] in RUNNER_PATHS:
            out[i] = "--runner=" + RUNNER_PATHS[flag[len("--runner=") :]]
        elif flag == "--runner" and i + 1 < len(out) and out[i + 1] in RUNNER_PATHS:
            out[i + 1] = RUNNER_PATHS[out[i + 1]]
    return out


def _register_runner_options(flags: list[str]) -> None:
    wanted = {
        module for prefix, module in _OPTION_MODULES.items() if any(f.startswith(prefix) for f in flags)
    }
    wanted |= {path.rsplit(".", 1)[0] for path in RUNNER_PATHS.values() if any(path in f for f in flags)}
    for module in wanted:
        with contextlib.suppress(ImportError):  # then its flags are reported as unknown
            importlib.import_module(module)


def unknown_beam_flags(flags: list[str]) -> list[str]:
    """The flags in ``flags`` that no registered PipelineOptions class declares."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    _register_runner_options(flags)
    parser = _BeamArgumentParser(allow_abbrev=False)
    seen: dict[str, type] = {}
    for cls in PipelineOptions.__subclasses__():
        seen.setdefault(str(cls), cls)
    for cls in seen.values():
        cls._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(flags)
    return [flag for flag in unknown if flag.startswith("-")]
