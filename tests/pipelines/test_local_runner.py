"""The local runner: DirectRunner's batch path, never its run-time download of Prism.

``conftest.prism_refused`` fails any test whose pipeline tries Prism; the first test here
shows that Beam's own DirectRunner does try it, which is why ``LocalRunner`` exists.
"""

from __future__ import annotations

import logging

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from pipelines.beam_options import expand_runner_name
from pipelines.local_runner import LOCAL_RUNNER_PATH


def _squares(options: PipelineOptions) -> None:
    with beam.Pipeline(options=options) as pipeline:
        squares = pipeline | beam.Create([1, 2, 3]) | beam.Map(lambda n: n * n)
        assert_that(squares, equal_to([1, 4, 9]))


def test_beams_direct_runner_tries_prism_first(prism_refused):
    _squares(PipelineOptions(["--runner=DirectRunner"]))  # falls back after the refusal
    assert prism_refused == ["PrismRunner"]
    prism_refused.clear()  # seen: this test is about that attempt


@pytest.mark.parametrize("flags", [[], ["--runner=DirectRunner"], ["--runner", "SwitchingDirectRunner"]])
def test_direct_runner_names_run_on_the_local_runner(flags, prism_refused):
    expanded = expand_runner_name(flags)
    assert LOCAL_RUNNER_PATH in " ".join(expanded)
    _squares(PipelineOptions(expanded))
    assert prism_refused == []


def test_other_runners_are_left_as_named():
    flags = ["--runner", "PortableRunner", "--job_endpoint", "localhost:8099"]
    assert expand_runner_name(flags) == flags


def test_worker_processes_get_the_pipeline_options(caplog):
    """A multi_processing worker reads the options from the provision info LocalRunner fills
    in, as DirectRunner's fallback does; the bare FnApiRunner would hand it none. Each
    worker logs what it read, and the runner relays worker logs to this process."""
    flags = [f"--runner={LOCAL_RUNNER_PATH}", "--direct_num_workers=2"]
    flags.append("--direct_running_mode=multi_processing")
    with caplog.at_level(logging.INFO):
        _squares(PipelineOptions(flags))
    relayed = [r.getMessage().replace("\\", "") for r in caplog.records]  # quotes come escaped
    worker_options = [message for message in relayed if "Pipeline_options:" in message]
    assert len(worker_options) == 2, "each of the two workers logs the options it read"
    assert all("'direct_num_workers': 2" in message for message in worker_options), worker_options
