"""The local runner: Beam's DirectRunner for a batch pipeline, without its Prism attempt.

Beam 2.77's ``DirectRunner`` first tries ``PrismRunner``, whose Go binary it downloads
from GitHub at run time (``runners/direct/direct_runner.py``). Offline the download fails
and it falls back to the ``FnApiRunner``; online it fetches an executable and runs the
build on it, where ``--direct_num_workers`` and ``--direct_running_mode`` mean nothing.
Neither is acceptable for a build that must not download anything at run time, so the
command line, ``pipelines.build`` and the tests run ``LocalRunner``: the ``FnApiRunner``
set up exactly as DirectRunner sets it up on its fallback path, with the pipeline options
handed to the SDK workers (a ``multi_processing`` worker reads them from there).

``DirectRunner`` and ``SwitchingDirectRunner`` named in Beam flags are read as this runner
(``pipelines.beam_options.expand_runner_name``); it runs what DirectRunner's fallback
runs: batch pipelines with no TestStream and no real-time timers, which the build is.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import Pipeline
from apache_beam.portability.api import beam_provision_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle
from apache_beam.runners.runner import PipelineResult, PipelineRunner

# The dotted path Beam's ``--runner`` flag takes (``create_runner`` imports it).
LOCAL_RUNNER_PATH = "pipelines.local_runner.LocalRunner"
# Beam's names for its own local runner that try Prism first.
DIRECT_RUNNER_NAMES = frozenset({"DirectRunner", "SwitchingDirectRunner"})


class LocalRunner(PipelineRunner):
    """Runs a pipeline on Beam's ``FnApiRunner`` in this process or its worker processes."""

    def run_pipeline(self, pipeline: Pipeline, options: PipelineOptions) -> PipelineResult:
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        info = beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
        provision = fn_runner.ExtendedProvisionInfo(info)
        return fn_runner.FnApiRunner(provision_info=provision).run_pipeline(pipeline, options)
