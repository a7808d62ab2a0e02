"""Objects per second of one worker process against an endpoint with 50 ms of latency.

A local S3-compatible server (its own process, so it does not compete for our GIL) waits
50 ms before answering each GET of a 4 KiB object. One request at a time can do at most
1 / 0.05 = 20 objects/s; ``n`` requests in flight, at most ``n / 0.05``. The table shows,
for the HTTPS (requests) and S3 (boto3) sources, what the in-flight window of
``pmc15m.storage.inflight`` reaches at 1 (the baseline), 32 and 64 in flight, and what the Beam
stage does (``Batch`` + ``PooledSourceDoFn`` on the local runner): over the whole pipeline,
start-up and the batching shuffle included, and from its first request to its last answer.
Target: at least 80% of the ideal, i.e. >= 500 objects/s at 32 in flight.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from benchmarks.table import format_table
from pipelines.fetch import Batch, PooledSourceDoFn, batch_size
from pipelines.local_runner import LocalRunner
from pmc15m.sources.open import open_source
from pmc15m.sources.options import SourceOptions
from pmc15m.storage.inflight import InFlight

LATENCY = 0.05
BUCKET = "bench"
BODY = bytes(range(256)) * 16  # 4 KiB
ETAG = '"' + hashlib.md5(BODY, usedforsecurity=False).hexdigest() + '"'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on a delayed ACK (+40 ms)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        time.sleep(LATENCY)
        self.send_response(200)
        self.send_header("ETag", ETAG)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 64 clients connect at once


def _serve(port: multiprocessing.Value) -> None:  # type: ignore[valid-type]
    server = _Server(("127.0.0.1", 0), _Handler)
    port.value = server.server_address[1]
    server.serve_forever()


def _in_flight_rate(location: str, options: SourceOptions, n_objects: int) -> tuple[float, int]:
    """Seconds to read ``n_objects`` through the in-flight window, and how many read."""
    source = open_source(location, None, options)
    window = InFlight(source.read, options.concurrency)
    keys = [f"PMC{i}.1/f{i}.jpg" for i in range(n_objects)]
    source.read(keys[0])  # connect once before the clock starts
    start = time.perf_counter()
    done = 0
    for key in keys:
        done += len(window.submit(key))
    done += len(list(window.drain()))
    elapsed = time.perf_counter() - start
    window.close()
    return elapsed, done


_SPAN: dict[str, float] = {}  # first request and last answer of the Beam stage (same process)
_SPAN_LOCK = threading.Lock()


class _ReadFn(PooledSourceDoFn):
    def work(self, key: str) -> int:
        started = time.perf_counter()
        size = len(self.source.read(key))
        with _SPAN_LOCK:
            _SPAN["first"] = min(_SPAN.get("first", started), started)
            _SPAN["last"] = max(_SPAN.get("last", 0.0), time.perf_counter())
        return size

    def emit(self, size: int):
        yield size


def _beam_rates(location: str, options: SourceOptions, n_objects: int) -> tuple[float, float]:
    """Seconds of the whole pipeline (start-up included), and from first request to last answer."""
    keys = [f"PMC{i}.1/f{i}.jpg" for i in range(n_objects)]
    _SPAN.clear()
    start = time.perf_counter()
    with beam.Pipeline(runner=LocalRunner(), options=PipelineOptions()) as pipeline:
        _ = (
            pipeline
            | beam.Create(keys)
            | Batch(str, batch_size(options))
            | beam.ParDo(_ReadFn(location, None, options))
        )
    return time.perf_counter() - start, _SPAN["last"] - _SPAN["first"]


def run() -> str:
    port = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        while not port.value:
            time.sleep(0.01)
        endpoint = f"http://127.0.0.1:{port.value}"
        rows = _measure(endpoint)
    finally:
        server.terminate()
        server.join()
    return format_table(
        f"fetch: objects/s of one worker process, {LATENCY * 1000:.0f} ms latency per request",
        ["source", "path", "in flight", "objects", "s", "objects/s", "ideal/s", "of ideal", "x baseline"],
        rows,
    )


def _measure(endpoint: str) -> list[list[object]]:
    rows: list[list[object]] = []
    plans = [("https", f"{endpoint}/{BUCKET}"), ("s3", f"s3://{BUCKET}")]
    for name, location in plans:
        baseline = 0.0
        for in_flight, n_objects in ((1, 40), (32, 2000), (64, 3000)):
            options = SourceOptions(endpoint_url=endpoint, concurrency=in_flight)
            seconds, done = _in_flight_rate(location, options, n_objects)
            rate = done / seconds
            baseline = baseline or rate
            rows.append(_row(name, "InFlight", in_flight, done, seconds, rate, baseline))
        options = SourceOptions(endpoint_url=endpoint, concurrency=32)
        whole, reading = _beam_rates(location, options, 4000)
        rows.append(_row(name, "Beam pipeline", 32, 4000, whole, 4000 / whole, baseline))
        rows.append(_row(name, "Beam reads", 32, 4000, reading, 4000 / reading, baseline))
    return rows


def _row(name: str, path: str, in_flight: int, done: int, seconds: float, rate: float, base: float) -> list:
    ideal = in_flight / LATENCY
    return [name, path, in_flight, done, seconds, rate, ideal, f"{rate / ideal:.0%}", rate / base]


if __name__ == "__main__":
    from benchmarks import bench_fetch  # by module name: Beam pickles __main__ classes by value

    print(bench_fetch.run())
