"""Which command-line flags Beam's pipeline options understand, and runner short names.

Beam itself only warns about (and drops) a flag it does not know, so a mistyped
``--direct_num_wokers`` would silently build with one worker; the CLI refuses it instead.
``DirectRunner`` is read as ``pipelines.local_runner.LocalRunner``: Beam's own would first
download the Prism runner from GitHub (see that module).

A runner's own options (``--dask_client_address``) are registered only once its module
is imported, so that happens here before the check when the flags name that runner.
"""

from __future__ import annotations

import contextlib
import importlib

from apache_beam.options.pipeline_options import PipelineOptions

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


def expand_runner_name(flags: list[str]) -> list[str]:
    """``--runner DaskRunner`` (or ``=DaskRunner``) -> the runner's full path; no
    ``--runner`` at all -> the local runner, as Beam defaults to its DirectRunner."""
    out = list(flags)
    for i, flag in enumerate(out):
        if flag.startswith("--runner=") and flag[len("--runner=") :] in RUNNER_PATHS:
            out[i] = "--runner=" + RUNNER_PATHS[flag[len("--runner=") :]]
        elif flag == "--runner" and i + 1 < len(out) and out[i + 1] in RUNNER_PATHS:
            out[i + 1] = RUNNER_PATHS[out[i + 1]]
    if not any(flag == "--runner" or flag.startswith("--runner=") for flag in out):
        out.insert(0, f"--runner={LOCAL_RUNNER_PATH}")
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
