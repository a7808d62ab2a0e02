"""One file-system layer for everything the build writes and reads back: local paths,
``s3://`` through boto3, and any other scheme (``gs://``, ``memory://`` ...) through fsspec.

Why boto3 for S3 and not fsspec's s3fs: s3fs pins aiobotocore, whose pins of botocore send
pip into a long backtrack against the boto3 the sources already need. Other schemes go through
fsspec, and a missing backend (gcsfs for ``gs://``) is a clear one-line error, not a crash.

Atomicity: a local file is written to a hidden temporary sibling and renamed into place. An
object store has no rename, but a single PUT (or a completed multipart upload) of the final
key is atomic, so a remote file is staged to a local temporary file and uploaded under its
final name only when complete: a reader never sees half an object.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import threading
import uuid
from typing import IO

from pmc15m.storage.objectstore import (
    ENDPOINT_ENV,
    TEMP_MARKER,
    FsError,
    FsOptions,
    FsspecBackend,
    S3Backend,
    Writer,
    bucket_key,
    configure,
    s3_client,
    write_file,
)

# ENDPOINT_ENV, FsError, FsOptions, configure and s3_client are part of this module's API.
__all__ = [
    "ENDPOINT_ENV",
    "TEMP_MARKER",
    "FsError",
    "FsOptions",
    "check_location",
    "commit",
    "configure",
    "discard",
    "exists",
    "is_local",
    "isdir",
    "join",
    "listdir",
    "local_path",
    "makedirs",
    "open_read",
    "read_bytes",
    "remove",
    "rmtree",
    "s3_client",
    "scheme",
    "size",
    "stage",
    "walk",
    "write_bytes",
]
_lock = threading.Lock()


# ---------------------------------------------------------------- path helpers


def scheme(path: str) -> str:
    """``""`` for a local path (``file://`` included), else the URL scheme (``s3``, ``gs`` ...)."""
    head, sep, _ = path.partition("://")
    if not sep or head == "file" or "/" in head:
        return ""
    return head.lower()


def is_local(path: str) -> bool:
    return scheme(path) == ""


def local_path(path: str) -> str:
    return path[len("file://") :] if path.startswith("file://") else path


def join(base: str, *parts: str) -> str:
    """Join with ``/`` for URLs and the OS separator for local paths."""
    return os.path.join(base, *parts) if is_local(base) else posixpath.join(base, *parts)


# ---------------------------------------------------------------- backends


class _Local:
    """Plain files; staging is a hidden sibling renamed into place."""

    def makedirs(self, path: str) -> None:
        os.makedirs(local_path(path), exist_ok=True)

    def exists(self, path: str) -> bool:
        return os.path.exists(local_path(path))

    def isdir(self, path: str) -> bool:
        return os.path.isdir(local_path(path))

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(local_path(path))) if self.isdir(path) else []

    def walk(self, path: str) -> list[str]:
        root = local_path(path)
        out = []
        for directory, _dirs, files in os.walk(root):
            out.extend(os.path.relpath(os.path.join(directory, f), root).replace(os.sep, "/") for f in files)
        return sorted(out)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(local_path(path))

    def rmtree(self, path: str) -> None:
        shutil.rmtree(local_path(path), ignore_errors=True)

    def open_read(self, path: str) -> IO[bytes]:
        return open(local_path(path), "rb")

    def size(self, path: str) -> int:
        return os.path.getsize(local_path(path))

    def stage(self, final: str, write: Writer) -> str:
        directory, base = os.path.split(local_path(final))
        temp = os.path.join(directory, f".{base}{TEMP_MARKER}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        write_file(temp, write)
        return temp

    def commit(self, temp: str, final: str) -> None:
        os.replace(temp, local_path(final))


_LOCAL = _Local()
_S3_BACKEND = S3Backend()
_fsspec_backends: dict[str, FsspecBackend] = {}


def _backend(path: str) -> _Local | S3Backend | FsspecBackend:
    kind = scheme(path)
    if kind == "":
        return _LOCAL
    if kind in ("s3", "s3a"):
        return _S3_BACKEND
    with _lock:
        if kind not in _fsspec_backends:
            _fsspec_backends[kind] = FsspecBackend(kind)
        return _fsspec_backends[kind]


# ---------------------------------------------------------------- public API


def check_location(path: str) -> None:
    """Raise FsError now if ``path``'s scheme has no backend (so the CLI fails before building)."""
    backend = _backend(path)
    if isinstance(backend, S3Backend):
        bucket, _ = bucket_key(path)
        try:
            s3_client().head_bucket(Bucket=bucket)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError
            raise FsError(f"cannot use bucket {bucket!r}: {exc}") from None


def makedirs(path: str) -> None:
    _backend(path).makedirs(path)


def exists(path: str) -> bool:
    return _backend(path).exists(path)


def isdir(path: str) -> bool:
    return _backend(path).isdir(path)


def listdir(path: str) -> list[str]:
    """Sorted names of the files and sub-folders directly under ``path`` ([] if none)."""
    return _backend(path).listdir(path)


def walk(path: str) -> list[str]:
    """Sorted ``/``-separated paths, relative to ``path``, of every file below it."""
    return _backend(path).walk(path)


def remove(path: str) -> None:
    _backend(path).remove(path)


def rmtree(path: str) -> None:
    _backend(path).rmtree(path)


def open_read(path: str) -> IO[bytes]:
    """A seekable binary file to read (remote objects are downloaded first)."""
    return _backend(path).open_read(path)


def read_bytes(path: str) -> bytes:
    with open_read(path) as handle:
        return handle.read()


def size(path: str) -> int:
    return _backend(path).size(path)


def stage(final: str, write: Writer) -> str:
    """Write a complete temporary file for ``final`` and return its local path."""
    return _backend(final).stage(final, write)


def commit(temp: str, final: str) -> None:
    """Make the staged ``temp`` appear as ``final`` in one atomic step."""
    _backend(final).commit(temp, final)


def discard(temp: str) -> None:
    """Remove a staged temporary file (always local); missing is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(temp)


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    temp = stage(path, lambda handle: handle.write(data))
    try:
        commit(temp, path)
    finally:
        discard(temp)
