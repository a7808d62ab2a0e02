"""Network faults survived: retries, budgets, in-flight reads, and a whole build through them.

The fault server (tests/support/faultserver.py) misbehaves on plan: bursts of 503 SlowDown, 500s,
connection resets, truncated bodies, damaged bytes, slow answers, and objects that are
missing, forbidden, throttled for good or different from their metadata's MD5.
"""

from __future__ import annotations

import hashlib
import tarfile
import threading
import time
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that
from support.faultserver import (  # tests/ is on sys.path
    ALWAYS_503,
    FORBIDDEN,
    MISSING,
    RESET,
    SLOW,
    SLOWDOWN,
    TRANSIENT,
    WRONG_OBJECT,
    FaultServer,
    load_tree,
)

from pipelines.cli.main import main
from pipelines.fetch import Batch, PooledSourceDoFn
from pipelines.local_runner import LocalRunner
from pmc15m.sources.errors import ChecksumMismatch, FetchFailed, ObjectMissing
from pmc15m.sources.inventory import BUCKET
from pmc15m.sources.metadata import parse_metadata
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.sources.retry import FetchStats, Retrier, RetryBudget, RetryPolicy, TransientError
from pmc15m.storage.inflight import InFlight

FAST = dict(backoff=0.001, max_backoff=0.005, read_timeout=0.4, connect_timeout=0.4)


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


# --- the retry policy and the in-flight window, without a network --------------------------


def test_backoff_is_full_jitter_within_the_exponential_cap():
    import random

    policy, rng = RetryPolicy(base_delay=0.1, max_delay=1.0), random.Random(1)
    for retry in range(8):
        cap = min(1.0, 0.1 * 2**retry)
        delays = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays)
        assert max(delays) > 0.8 * cap  # jitter spans the whole range, not a fixed step


def test_retries_until_success_then_gives_up_by_kind():
    stats_sleeps: list[float] = []
    retrier = Retrier(
        RetryPolicy(attempts=4), RetryBudget(100, 1), FetchStats(), sleep=stats_sleeps.append, seed=0
    )
    answers = iter([TransientError("throttled", "503"), TransientError("timeout", "slow"), b"data"])

    def attempt() -> bytes:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retrier.call("k", attempt) == b"data"
    assert len(stats_sleeps) == 2
    assert retrier.stats.drain() == {"requests": 3, "retry_throttled": 1, "retry_timeout": 1, "ok": 1}

    def always_reset() -> bytes:
        raise TransientError("connection", "reset")

    with pytest.raises(FetchFailed) as failed:
        retrier.call("k2", always_reset)
    assert failed.value.kind == "connection"
    assert retrier.stats.drain() == {"requests": 4, "retry_connection": 3, "failed": 1}

    with pytest.raises(ChecksumMismatch):
        retrier.call("k3", lambda: b"wrong", md5=_md5(b"right"))
    assert retrier.stats.drain()["checksum_mismatch"] == 1

    def missing() -> bytes:
        raise ObjectMissing("404")

    with pytest.raises(ObjectMissing):
        retrier.call("k4", missing)
    assert retrier.stats.drain() == {"requests": 1, "missing": 1}  # permanent: asked once


def test_worker_budget_stops_retrying_a_dead_endpoint_and_refills_on_success():
    budget = RetryBudget(capacity=3, refill=0.5)
    retrier = Retrier(RetryPolicy(attempts=10), budget, FetchStats(), sleep=lambda s: None)

    def dead() -> bytes:
        raise TransientError("server_error", "500")

    with pytest.raises(FetchFailed):
        retrier.call("a", dead)
    assert retrier.stats.drain() == {
        "requests": 4,
        "retry_server_error": 3,
        "budget_exhausted": 1,
        "failed": 1,
    }
    with pytest.raises(FetchFailed):
        retrier.call("b", dead)  # no retries left: fails at once
    assert retrier.stats.drain()["requests"] == 1
    for _ in range(2):
        retrier.call("ok", lambda: b"x")
    assert budget.tokens == 1.0


def test_in_flight_window_bounds_concurrency_and_returns_everything():
    running, peak, lock = 0, 0, threading.Lock()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.002 * (n % 3))
        with lock:
            running -= 1
        return n * n

    window = InFlight(work, size=4)
    results = []
    for n in range(50):
        results += window.submit(n, tag=n)
        assert len(window) < window.window
    results += list(window.drain())
    window.close()
    assert sorted(results) == [(n, n * n) for n in range(50)]
    assert peak == 4


def test_in_flight_raises_a_bug_in_the_callers_thread():
    window = InFlight(lambda n: 1 // n, size=2)
    window.submit(1)
    window.submit(0)
    with pytest.raises(ZeroDivisionError):
        list(window.drain())
    window.close()


# --- each fault against both remote sources -------------------------------------------------


@pytest.fixture(scope="module")
def corpus_objects(mini_corpus) -> dict[str, bytes]:
    return load_tree(mini_corpus)


@pytest.fixture(scope="module", params=["s3", "https"])
def faulty_source(request, corpus_objects):
    """A fault server (path style) and a source of the given kind reading from it."""
    with FaultServer(corpus_objects, BUCKET, slow_seconds=0.8) as server:
        options = SourceOptions(endpoint_url=server.endpoint, **FAST)
        location = f"s3://{BUCKET}" if request.param == "s3" else server.url
        yield server, open_source(location, None, options)


@pytest.fixture
def faulty(faulty_source):
    """The module's server and source, with no faults planned and nothing counted yet."""
    server, source = faulty_source
    server.plan.clear()
    server.permanent.clear()
    server.requests.clear()
    source.take_counts()
    return server, source


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_transient_fault_is_retried_until_the_object_reads(faulty, corpus_objects, fault):
    server, source = faulty
    key = next(k for k in sorted(corpus_objects) if k.endswith(".xml"))
    server.plan[key] = [fault, fault]
    assert source.read_verified(key, _md5(corpus_objects[key])) == corpus_objects[key]
    assert server.requests[key] == 3
    counts = source.take_counts()
    assert counts["fetch_requests"] == 3 and counts["fetch_ok"] == 1
    assert sum(n for name, n in counts.items() if name.startswith("fetch_retry_")) == 2


@pytest.mark.parametrize(
    ("fault", "error", "requests"),
    [
        (MISSING, ObjectMissing, 1),
        (FORBIDDEN, ObjectMissing, 1),
        (ALWAYS_503, FetchFailed, 6),
        (WRONG_OBJECT, ChecksumMismatch, 6),
    ],
)
def test_a_permanent_fault_ends_in_the_right_exception(faulty, corpus_objects, fault, error, requests):
    server, source = faulty
    key = next(k for k in sorted(corpus_objects) if k.endswith(".jpg"))
    server.permanent[key] = fault
    with pytest.raises(error) as raised:
        source.read_verified(key, _md5(corpus_objects[key]))
    assert type(raised.value) is error
    assert server.requests[key] == requests


# --- Beam: outputs and counters of a pooled DoFn --------------------------------------------


class _ReadFn(PooledSourceDoFn):
    def work(self, key: str) -> tuple[str, str]:
        try:
            return key, _md5(self.source.read(key))
        except ObjectMissing as exc:
            return key, type(exc).__name__

    def emit(self, result: tuple[str, str]):
        yield result


def test_pooled_dofn_emits_every_result_and_counts_retries(corpus_objects):
    keys = sorted(k for k in corpus_objects if k.startswith("metadata/"))
    with FaultServer(corpus_objects, BUCKET) as server:
        server.burst = 15
        server.plan[keys[0]] = [RESET]
        server.permanent[keys[1]] = MISSING
        options = SourceOptions(endpoint_url=server.endpoint, concurrency=8, **FAST)
        pipeline = beam.Pipeline(runner=LocalRunner(), options=PipelineOptions())
        got = (
            pipeline
            | beam.Create(keys)
            | Batch(str, 16)
            | beam.ParDo(_ReadFn(f"s3://{BUCKET}", None, options))
            | beam.combiners.ToList()
        )
        expected = {k: _md5(corpus_objects[k]) for k in keys} | {keys[1]: "ObjectMissing"}
        assert_that(got, lambda lists: _check(dict(lists[0]) == expected, "outputs differ from the objects"))
        result = pipeline.run()
        result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter())["counters"]}
    assert counters["fetch_retry_throttled"] == 15
    assert counters["fetch_retry_connection"] == 1
    assert counters["fetch_missing"] == 1
    assert counters["fetch_ok"] == len(keys) - 1


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise AssertionError(message)


# --- a whole build through faults -----------------------------------------------------------


def _tar_members(out: Path) -> dict[str, bytes]:
    members = {}
    for path in sorted(out.glob("*/[0-9]*.tar")):
        with tarfile.open(path) as tar:
            for info in tar.getmembers():
                members[f"{path.parent.name}/{info.name}"] = tar.extractfile(info).read()
    return members


def _rows(out: Path, rejects: bool) -> dict[str, dict]:
    paths = (out / "rejects").glob("*.parquet") if rejects else out.glob("[!r]*/[0-9]*.parquet")
    return {row["key"]: row for path in sorted(paths) for row in pq.read_table(path).to_pylist()}


def _plan_faults(
    server: FaultServer, objects: dict[str, bytes], kept: dict[str, dict], rejects: dict[str, dict]
) -> dict[str, str]:
    """Plant permanent faults on seven articles; return the expected reject reason by key.

    The articles chosen have no figure in a duplicate cluster: removing one copy of a
    duplicate would rightly promote another, which is dedup's business, not this test's.
    """
    in_cluster = {
        _article_of(key)
        for key, row in (kept | rejects).items()
        if (row.get("cluster_size") or 0) > 1 or row.get("duplicate_of")
    }
    by_article: dict[tuple[str, int], list[dict]] = {}
    for row in kept.values():
        if _article_of(row["key"]) not in in_cluster:
            by_article.setdefault((row["pmcid"], row["version"]), []).append(row)
    articles = sorted(by_article)[:7]
    expected = {}
    for (pmcid, version), fault, reason in zip(
        articles[:4],
        (MISSING, FORBIDDEN, WRONG_OBJECT, ALWAYS_503),
        ("missing_object", "missing_object", "checksum_mismatch", "fetch_failed"),
        strict=True,
    ):
        row = by_article[(pmcid, version)][0]
        server.permanent[row["source_key"]] = fault
        expected[row["key"]] = reason
    for (pmcid, version), fault, reason, what in zip(
        articles[4:],
        (MISSING, WRONG_OBJECT, FORBIDDEN),
        ("missing_object", "checksum_mismatch", "missing_object"),
        ("xml", "xml", "metadata"),
        strict=True,
    ):
        metadata_key = f"metadata/{pmcid}.{version}.json"
        key = parse_metadata(objects[metadata_key]).xml_key if what == "xml" else metadata_key
        server.permanent[key] = fault
        expected[f"{pmcid}_{version}_article"] = reason
    return expected


def _plan_transients(server: FaultServer, objects: dict[str, bytes]) -> None:
    """One or two transient faults on about half the objects, by a hash of the key."""
    slow_left = 4
    for key in sorted(objects):
        h = int(hashlib.sha256(key.encode()).hexdigest(), 16)
        if h % 2:
            continue
        faults = [TRANSIENT[(h >> 8) % len(TRANSIENT)], TRANSIENT[(h >> 16) % len(TRANSIENT)]][
            : 1 + (h >> 24) % 2
        ]
        if SLOW in faults:
            if slow_left == 0:
                faults = [f for f in faults if f != SLOW] or [SLOWDOWN]
            slow_left -= SLOW in faults
        server.plan[key] = faults
    server.plan["?list"] = [SLOWDOWN]
    server.burst, server.burst_after = 40, 80  # while metadata and JATS are read, many in flight


def test_build_survives_faults_and_loses_only_what_they_removed_for_good(
    corpus_objects, demo_build, tmp_path
):
    clean_kept, clean_rejects = _rows(demo_build, False), _rows(demo_build, True)
    out = tmp_path / "faulty-build"
    with FaultServer(corpus_objects, BUCKET, slow_seconds=1.0) as server:
        expected = _plan_faults(server, corpus_objects, clean_kept, clean_rejects)
        _plan_transients(server, corpus_objects)
        argv = ["build", "--source", f"s3://{BUCKET}", "--s3_endpoint_url", server.endpoint]
        argv += ["--output", str(out), "--fetch_timeout", "0.5", "--fetch_backoff", "0.002"]
        assert main(argv) == 0
    assert set(server.faults_served) >= {*TRANSIENT, MISSING, FORBIDDEN, WRONG_OBJECT, ALWAYS_503}
    kept, rejects = _rows(out, False), _rows(out, True)

    # The new rejects are exactly the planted permanent faults, with their reasons.
    new = {key: row["reject_reason"] for key, row in rejects.items() if key not in clean_rejects}
    assert new == expected
    # Articles whose metadata or JATS was lost take all their figures with them; every other
    # figure ends as before, in a shard or in rejects, byte for byte.
    lost_articles = {_article_of(key) for key in expected if key.endswith("_article")}
    removed = {k for k in clean_kept | clean_rejects if _article_of(k) in lost_articles} | set(expected)
    assert set(kept) == set(clean_kept) - removed
    assert all(kept[k] == clean_kept[k] for k in kept)
    assert {k: r for k, r in rejects.items() if k in clean_rejects} == {
        k: r for k, r in clean_rejects.items() if k not in removed
    }
    clean_members, members = _tar_members(demo_build), _tar_members(out)
    survivors = {
        name: data for name, data in clean_members.items() if name.split("/")[1].split(".")[0] not in removed
    }
    assert members == survivors
    detail = rejects[next(k for k, r in expected.items() if r == "fetch_failed")]["reject_detail"]
    assert detail.endswith("(throttled)")


def _article_of(key: str) -> str:
    """``PMC1_2_F3`` -> ``PMC1_2``; article reject keys map to themselves."""
    pmcid, version, _ = key.split("_", 2)
    return f"{pmcid}_{version}"
