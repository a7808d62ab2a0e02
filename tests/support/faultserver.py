"""An S3-compatible HTTP server for tests, on 127.0.0.1, that misbehaves on request.

It serves a dict of objects the way S3 does for what the sources use: ``GET`` of an
object (with ``ETag`` = MD5 and ``Content-Length``), ``ListObjectsV2``
(``?list-type=2&prefix=&delimiter=/``, paged with continuation tokens), and S3's XML
errors. Path style (``/<bucket>/<key>``) when ``bucket`` is given, else the bucket is the
server root (virtual-host style, like ``https://pmc-oa-opendata.s3.amazonaws.com``).

Faults are planned per key: a list of faults for the key's successive requests (then it
behaves), or a permanent one. Every request is counted per key, so tests can check that a
permanent 404 was asked once and that only the objects a build needs were fetched.
``assert_same_shards`` compares two builds of the same bucket read different ways.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from pmc15m.shards.manifest import read_manifest

# Faults for one request: the next request of the key may behave differently.
SLOWDOWN = "503"  # 503 SlowDown
SERVER_ERROR = "500"  # 500 InternalError
RESET = "reset"  # the connection is reset before any response
TRUNCATE = "truncate"  # full Content-Length announced, half the body sent, connection closed
CORRUPT = "corrupt"  # same length, bytes flipped, the ETag of the true bytes
SLOW = "slow"  # the response starts after ``slow_seconds``
TRANSIENT = (SLOWDOWN, SERVER_ERROR, RESET, TRUNCATE, CORRUPT, SLOW)

# Permanent faults: every request of the key.
MISSING = "missing"  # 404 NoSuchKey
FORBIDDEN = "forbidden"  # 403 AccessDenied
ALWAYS_503 = "always_503"  # throttled for good: retries run out
WRONG_OBJECT = "wrong_object"  # consistent bytes (and ETag) that differ from the metadata's MD5
PERMANENT = (MISSING, FORBIDDEN, ALWAYS_503, WRONG_OBJECT)

_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def load_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as an object, keyed by its relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# Parts of a build that must not depend on where (or how) the bucket was read.
DATA_DIRS = ("train", "validation", "test", "rejects")


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for d in DATA_DIRS
        for p in sorted((root / d).rglob("*"))
        if p.is_file()
    }


def assert_same_shards(local: Path, remote: Path) -> None:
    """Shards, rejects and manifest equal (the manifest names its source location)."""
    expected, got = _tree(local), _tree(remote)
    assert any(name.endswith(".tar") for name in expected), f"no shards in {local}: nothing compared"
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if expected[name] != got[name]] == []
    m1, m2 = read_manifest(str(local)), read_manifest(str(remote))
    assert m2.pop("source_location") != m1.pop("source_location")
    assert m1 == m2


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def _flip(data: bytes) -> bytes:
    return bytes(b ^ 0xFF for b in data[:64]) + data[64:] if data else b"\xff"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a planned reset or a client that timed out: not worth a traceback


class FaultServer:
    """A threaded server; use as a context manager. ``url`` is the bucket's base URL."""

    def __init__(
        self,
        objects: Mapping[str, bytes],
        bucket: str | None = None,
        *,
        page_size: int = 1000,
        latency: float = 0.0,
        slow_seconds: float = 1.0,
        can_list: bool = True,
    ) -> None:
        self.objects = dict(objects)
        self.bucket = bucket
        self.page_size = page_size
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.can_list = can_list
        self.plan: dict[str, list[str]] = {}
        # A burst: ``burst`` object requests in a row, from request number ``burst_after`` on,
        # get 503 SlowDown whatever their key (keys with planned faults excepted, and at most
        # three per key, so six attempts always get through).
        self.burst = 0
        self.burst_after = 0
        self._burst_hits: Counter[str] = Counter()
        self._object_requests = 0
        self.permanent: dict[str, str] = {}
        self.requests: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.endpoint}/{self.bucket}" if self.bucket else self.endpoint

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_fault(self, key: str) -> str | None:
        """Count a request of ``key`` and take the fault it gets (None: behave)."""
        with self._lock:
            self.requests[key] += 1
            fault = self.permanent.get(key)
            if fault is None and self.plan.get(key):
                fault = self.plan[key].pop(0)
            elif fault is None and key != "?list" and key not in self.plan:
                self._object_requests += 1
                in_burst = self.burst > 0 and self._object_requests > self.burst_after
                if in_burst and self._burst_hits[key] < 3:
                    self.burst -= 1
                    self._burst_hits[key] += 1
                    fault = SLOWDOWN
            if fault is not None:
                self.faults_served[fault] += 1
            return fault

    def list_page(self, prefix: str, delimiter: str, token: str) -> bytes:
        """A ListObjectsV2 page: objects and common prefixes after ``token``, sorted."""
        entries: dict[str, str] = {}
        for key in self.objects:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                name = prefix + rest.split(delimiter, 1)[0] + delimiter
                entries[name] = "prefix"
            else:
                entries[key] = "object"
        names = [n for n in sorted(entries) if n > token]
        page, more = names[: self.page_size], len(names) > self.page_size
        parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{_NS}">']
        parts.append(f"<Name>{escape(self.bucket or 'bucket')}</Name><Prefix>{escape(prefix)}</Prefix>")
        parts.append(f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{self.page_size}</MaxKeys>")
        parts.append(
            f"<Delimiter>{escape(delimiter)}</Delimiter><IsTruncated>{str(more).lower()}</IsTruncated>"
        )
        for name in page:
            if entries[name] == "prefix":
                parts.append(f"<CommonPrefixes><Prefix>{escape(name)}</Prefix></CommonPrefixes>")
            else:
                data = self.objects[name]
                parts.append(
                    f"<Contents><Key>{escape(name)}</Key><LastModified>2026-01-01T00:00:00.000Z"
                    f"</LastModified><ETag>{escape(_etag(data))}</ETag><Size>{len(data)}</Size>"
                    "<StorageClass>STANDARD</StorageClass></Contents>"
                )
        if more:
            parts.append(f"<NextContinuationToken>{escape(page[-1])}</NextContinuationToken>")
        parts.append("</ListBucketResult>")
        return "".join(parts).encode()


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait on a delayed ACK (+40 ms)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            if server.latency:
                time.sleep(server.latency)
            parts = urlsplit(self.path)
            path = unquote(parts.path).lstrip("/")
            if server.bucket:
                bucket, _, path = path.partition("/")
                if bucket != server.bucket:
                    return self._error(404, "NoSuchBucket")
            query = parse_qs(parts.query, keep_blank_values=True)
            if not path and "list-type" in query:
                return self._list(query)
            if not path:
                return self._error(403, "AccessDenied")
            self._object(path)

        def _list(self, query: dict[str, list[str]]) -> None:
            if not server.can_list:  # a static file mirror answers with its index page
                return self._send(200, b"<html><body>Index of /</body></html>", {"Content-Type": "text/html"})
            fault = server.next_fault("?list")
            if fault in (SLOWDOWN, ALWAYS_503):
                return self._error(503, "SlowDown")
            first = lambda name: query.get(name, [""])[0]  # noqa: E731
            body = server.list_page(first("prefix"), first("delimiter"), first("continuation-token"))
            self._send(200, body, {"Content-Type": "application/xml"})

        def _object(self, key: str) -> None:
            fault = server.next_fault(key)
            data = server.objects.get(key)
            if data is None or fault == MISSING:
                return self._error(404, "NoSuchKey")
            if fault == FORBIDDEN:
                return self._error(403, "AccessDenied")
            if fault in (SLOWDOWN, ALWAYS_503):
                return self._error(503, "SlowDown")
            if fault == SERVER_ERROR:
                return self._error(500, "InternalError")
            if fault == RESET:
                return self._reset()
            if fault == SLOW:
                time.sleep(server.slow_seconds)
            headers = {"ETag": _etag(data), "Content-Type": "application/octet-stream"}
            if fault == WRONG_OBJECT:
                data = _flip(data)
                headers["ETag"] = _etag(data)
            elif fault == CORRUPT:
                data = _flip(data)
            elif fault == TRUNCATE:
                return self._send(200, data[: len(data) // 2], headers, length=len(data), close=True)
            self._send(200, data, headers)

        def _error(self, status: int, code: str) -> None:
            body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()
            self._send(status, body, {"Content-Type": "application/xml"})

        def _reset(self) -> None:
            # SO_LINGER 0: close() sends RST, so the client sees a reset, not a clean EOF.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _send(
            self, status: int, body: bytes, headers: dict[str, str], length: int = -1, close: bool = False
        ) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(length if length >= 0 else len(body)))
                if close:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): nothing to tell it
            if close:
                self.close_connection = True

    return Handler
