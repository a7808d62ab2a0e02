"""The object-store backends of pmc15m.storage.fs: ``s3://`` through boto3, other schemes through fsspec.

Both stage a complete file on local disk and upload it under its final name in one request
(a single PUT, or a multipart upload that becomes visible only when completed), so a reader
never sees half an object. Clients are made per process on first use, never at import, and
the endpoint override travels as ``FsOptions`` to every worker.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

Writer = Callable[[IO[bytes]], None]

TEMP_MARKER = ".tmp-"
ENDPOINT_ENV = "PMC15M_S3_ENDPOINT_URL"
_SPOOL_BYTES = 64 * 1024 * 1024  # remote reads larger than this spill to a local temp file


class FsError(ValueError):
    """A location the layer cannot serve (unknown scheme, missing backend, bad URL)."""


@dataclass(frozen=True, slots=True)
class FsOptions:
    """Settings every worker needs to reach the output (picklable: it travels to DoFns)."""

    s3_endpoint_url: str | None = None  # e.g. a MinIO, R2 or moto server


_options = FsOptions()
_lock = threading.Lock()
_s3_clients: dict[str | None, Any] = {}


def configure(options: FsOptions | None) -> None:
    """Set this process's options (called by the CLI and in every writing DoFn's setup)."""
    global _options
    _options = options or FsOptions()


def _s3_endpoint() -> str | None:
    """The configured endpoint, else the env override; None lets boto3 decide (AWS_ENDPOINT_URL_S3)."""
    return _options.s3_endpoint_url or os.environ.get(ENDPOINT_ENV) or None


def s3_client() -> Any:
    """One boto3 client per endpoint and process, made on first use (never at import)."""
    endpoint = _s3_endpoint()
    with _lock:
        client = _s3_clients.get(endpoint)
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"max_attempts": 8, "mode": "standard"})
            client = boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
            _s3_clients[endpoint] = client
        return client


def bucket_key(path: str) -> tuple[str, str]:
    rest = path.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise FsError(f"no bucket in {path!r}")
    return bucket, key.strip("/")


def status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None) or {}
    try:
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    except (TypeError, ValueError):
        return None


def write_file(temp: str, write: Writer) -> None:
    try:
        with open(temp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise


class RemoteBackend:
    """Shared by the object stores: stage locally, upload the complete file under its final name."""

    def makedirs(self, path: str) -> None:
        """Object stores have no directories: a key's prefix exists once a key does."""

    def stage(self, final: str, write: Writer) -> str:
        handle, temp = tempfile.mkstemp(prefix="pmc15m-stage-", suffix=TEMP_MARKER.rstrip("-"))
        os.close(handle)
        write_file(temp, write)
        return temp

    def commit(self, temp: str, final: str) -> None:
        self.upload(temp, final)
        os.remove(temp)

    def upload(self, local: str, final: str) -> None:
        raise NotImplementedError

    def isdir(self, path: str) -> bool:
        return bool(self.walk(path)[:1])

    def rmtree(self, path: str) -> None:
        for name in self.walk(path):
            self.remove(posixpath.join(path, name))


class S3Backend(RemoteBackend):
    """``s3://bucket/key`` through boto3 (ListObjectsV2, GetObject, upload_file, DeleteObjects)."""

    def _list(self, path: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
        bucket, key = bucket_key(path)
        prefix = f"{key}/" if key else ""
        kwargs = {"Bucket": bucket, "Prefix": prefix, **({"Delimiter": delimiter} if delimiter else {})}
        yield from s3_client().get_paginator("list_objects_v2").paginate(**kwargs)

    def isdir(self, path: str) -> bool:
        bucket, key = bucket_key(path)
        prefix = f"{key}/" if key else ""
        return s3_client().list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0

    def exists(self, path: str) -> bool:
        bucket, key = bucket_key(path)
        if not key:
            return self.isdir(path)
        try:
            s3_client().head_object(Bucket=bucket, Key=key)
            return True
        except Exception as exc:  # botocore's ClientError, 404 or 403
            if status(exc) not in (403, 404):
                raise
        return self.isdir(path)

    def listdir(self, path: str) -> list[str]:
        names = set()
        for page in self._list(path, delimiter="/"):
            names.update(o["Key"].rsplit("/", 1)[-1] for o in page.get("Contents", []))
            names.update(p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for p in page.get("CommonPrefixes", []))
        return sorted(names)

    def walk(self, path: str) -> list[str]:
        _, key = bucket_key(path)
        cut = len(key) + 1 if key else 0
        return sorted(o["Key"][cut:] for page in self._list(path) for o in page.get("Contents", []))

    def remove(self, path: str) -> None:
        bucket, key = bucket_key(path)
        s3_client().delete_object(Bucket=bucket, Key=key)

    def rmtree(self, path: str) -> None:
        bucket, key = bucket_key(path)
        keys = [posixpath.join(key, name) if key else name for name in self.walk(path)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            s3_client().delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})

    def open_read(self, path: str) -> IO[bytes]:
        bucket, key = bucket_key(path)
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        s3_client().download_fileobj(bucket, key, spool)
        spool.seek(0)
        return spool  # type: ignore[return-value]

    def size(self, path: str) -> int:
        bucket, key = bucket_key(path)
        return int(s3_client().head_object(Bucket=bucket, Key=key)["ContentLength"])

    def upload(self, local: str, final: str) -> None:
        bucket, key = bucket_key(final)
        s3_client().upload_file(local, bucket, key)  # one PUT, or a multipart upload completed at once


class FsspecBackend(RemoteBackend):
    """Any scheme fsspec knows (gs://, az://, memory:// ...); the backend package must be installed."""

    def __init__(self, protocol: str) -> None:
        import fsspec

        try:
            self.fs = fsspec.filesystem(protocol)
        except ImportError as exc:
            raise FsError(f"{protocol}:// needs its fsspec backend installed ({exc})") from None
        except ValueError as exc:
            raise FsError(f"unsupported location scheme {protocol}:// ({exc})") from None

    def makedirs(self, path: str) -> None:
        self.fs.makedirs(path, exist_ok=True)

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(path))

    def isdir(self, path: str) -> bool:
        return bool(self.fs.isdir(path))

    def listdir(self, path: str) -> list[str]:
        if not self.fs.isdir(path):
            return []
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(path, detail=False))

    def walk(self, path: str) -> list[str]:
        root = self.fs._strip_protocol(path).rstrip("/")
        return sorted(posixpath.relpath(self.fs._strip_protocol(p), root) for p in self.fs.find(path))

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def rmtree(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path, recursive=True)

    def open_read(self, path: str) -> IO[bytes]:
        return self.fs.open(path, "rb")

    def size(self, path: str) -> int:
        return int(self.fs.size(path))

    def upload(self, local: str, final: str) -> None:
        self.fs.put_file(local, final)
