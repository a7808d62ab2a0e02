"""Progress lines: rate-limited, with counts and recent rates, never one per element."""

from __future__ import annotations

import logging

import pytest

from pmc15m.storage import progress
from pmc15m.storage.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logger():
    log = logging.getLogger("pmc15m.storage.progress.test")
    log.setLevel(logging.INFO)
    return log


def test_one_line_per_interval_with_counts_and_rates(caplog, logger):
    clock = Clock()
    p = Progress(interval=10.0, clock=clock, logger=logger)
    with caplog.at_level(logging.INFO, logger=logger.name):
        for _ in range(500):  # 500 articles within the first interval: no line yet
            p.tick("articles")
            p.tick("figures", 3)
        assert caplog.records == []
        clock.now += 10.0
        p.tick("articles")
        clock.now += 4.0
        p.tick("images", 7)  # within the interval again: silent
        clock.now += 6.0
        p.tick("images", 13)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "10.0 s: articles 501 (+501, 50.1/s), figures 1,500 (+1,500, 150.0/s)" in lines[0]
    assert "20.0 s: articles 501, figures 1,500, images 20 (+20, 2.0/s)" in lines[1]
    assert p.counts() == {"articles": 501, "figures": 1500, "images": 20}


def test_silent_when_the_logger_is_quiet(caplog):
    quiet = logging.getLogger("pmc15m.storage.progress.quiet")
    quiet.setLevel(logging.WARNING)
    clock = Clock()
    p = Progress(interval=0.0, clock=clock, logger=quiet)
    p.tick("articles")
    clock.now += 1
    p.tick("articles")
    assert p.counts() == {"articles": 2}
    assert [r for r in caplog.records if r.name == quiet.name] == []


def test_interval_from_environment(monkeypatch):
    monkeypatch.setenv(progress.INTERVAL_ENV, "2.5")
    assert Progress().interval == 2.5
    monkeypatch.setenv(progress.INTERVAL_ENV, "soon")
    assert Progress().interval == progress.DEFAULT_INTERVAL


def test_module_counters_reset_between_builds():
    progress.reset()
    progress.tick("samples_written", 5)
    progress.tick("samples_written", 2)
    assert progress._progress().counts() == {"samples_written": 7}
    progress.reset()
    assert progress._progress().counts() == {}
