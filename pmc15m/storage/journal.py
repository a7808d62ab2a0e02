"""A crash-safe journal of per-element results, so a killed build resumes instead of restarting.

Why a journal written by the expensive stages themselves: a Beam runner (DirectRunner
above all) executes stage by stage and writes nothing before the shard-writing stage, so
a build killed at 90% has nothing on disk to resume from. Each stage that does costly
work (metadata + JATS per article, image fetch + decode per figure) records its results
here in small chunk files; a restarted build with the same build id (same config,
snapshot, selection and code) reads them back and skips the elements already done.

Layout: ``<output>/_work/<build_id>/<stage>/<group>/<random>.pkl``, each chunk a pickled
list of ``(key, result)`` written atomically through ``pmc15m.storage.fs`` (a crash leaves either
the whole chunk or none of it). A key present in two chunks (a chunk re-written by a
retried bundle, or two workers racing) is loaded once: results are keyed, so nothing
duplicates.

Why groups: a stage's journal of a full build holds every image (about a terabyte), so
no worker can load all of it to resume. The stages take their input in groups
(``pipelines.fetch.Batch``: a hash of the key over a count fixed by the input's size, so
the same groups on every attempt of the same build), and a group's results are journaled
under a name derived from its first key (``group_name``): resuming a group loads that
group's results only, a few hundred at most.

Trust: chunks are pickles written by this build under its own output location, the same
trust Beam already places in its pickled DoFns; never point a build at an output folder
someone else can write to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import threading
import time
import uuid
from typing import Any

from pmc15m.storage import fs

log = logging.getLogger(__name__)

WORK_DIR = "_work"
STARTED = "STARTED"
CHUNK_SUFFIX = ".pkl"
CHUNK_SIZE_ENV = "PMC15M_JOURNAL_CHUNK"
CHUNK_SECONDS_ENV = "PMC15M_JOURNAL_SECONDS"
MISSING = object()


def work_root(output: str) -> str:
    return fs.join(output, WORK_DIR)


def work_dir(output: str, build_id: str) -> str:
    """Where build ``build_id`` keeps its journal under ``output``."""
    return fs.join(output, WORK_DIR, build_id)


def mark_started(directory: str) -> None:
    """Mark the build in progress before anything else is written (see ``in_progress``)."""
    fs.makedirs(directory)
    fs.write_bytes(fs.join(directory, STARTED), b"")


def in_progress(output: str) -> bool:
    """True when ``output`` holds an unfinished build: its ``_work/`` is removed only last."""
    return fs.isdir(work_root(output)) and bool(fs.listdir(work_root(output)))


def remove_work(output: str) -> None:
    fs.rmtree(work_root(output))


def group_name(first_key: str) -> str:
    """The journal folder of the group whose first (smallest) key is ``first_key``."""
    return hashlib.sha256(first_key.encode()).hexdigest()[:16]


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class Journal:
    """Results of one stage, keyed; thread-safe ``record`` (the reads run on a pool).

    ``load`` reads what earlier attempts wrote; ``get`` returns a stored result or
    ``MISSING``; ``record`` buffers a new one and writes a chunk every ``chunk_size``
    results or ``chunk_seconds``; ``flush`` writes what is buffered (call it when a group
    or bundle ends so at most one chunk's worth of work is ever redone).
    """

    def __init__(
        self, directory: str, stage: str, chunk_size: int = 0, chunk_seconds: float = 0, group: str = ""
    ) -> None:
        self.directory = fs.join(directory, stage, group) if group else fs.join(directory, stage)
        self.chunk_size = max(1, int(chunk_size or _env_number(CHUNK_SIZE_ENV, 64)))
        self.chunk_seconds = chunk_seconds or _env_number(CHUNK_SECONDS_ENV, 10.0)
        self._done: dict[str, Any] = {}
        self._buffer: list[tuple[str, Any]] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self.reused = 0
        self.computed = 0
        self.chunks_written = 0

    def load(self) -> int:
        """Read every complete chunk; returns the number of distinct keys now known."""
        if not fs.isdir(self.directory):
            return 0
        for name in fs.listdir(self.directory):
            if name.startswith(".") or not name.endswith(CHUNK_SUFFIX):
                continue  # a temporary file a killed writer left behind
            for key, result in pickle.loads(fs.read_bytes(fs.join(self.directory, name))):
                self._done.setdefault(key, result)
        if self._done:
            log.info("journal %s: %d results from an earlier attempt", self.directory, len(self._done))
        return len(self._done)

    def __len__(self) -> int:
        return len(self._done)

    def get(self, key: str) -> Any:
        with self._lock:
            result = self._done.get(key, MISSING)
            if result is not MISSING:
                self.reused += 1
            return result

    def record(self, key: str, result: Any) -> None:
        # Not kept in ``_done``: a DoFn instance lives for many bundles on a distributed runner,
        # so keeping every new result (images included) would grow a worker's memory with the
        # whole build; a retried bundle recomputes instead (the chunk is already on disk).
        with self._lock:
            self.computed += 1
            self._buffer.append((key, result))
            due = time.monotonic() - self._last_flush >= self.chunk_seconds
            if len(self._buffer) >= self.chunk_size or due:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        chunk, self._buffer = self._buffer, []
        fs.makedirs(self.directory)
        name = f"{uuid.uuid4().hex}{CHUNK_SUFFIX}"
        fs.write_bytes(fs.join(self.directory, name), pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
        self.chunks_written += 1

    def take_counts(self) -> dict[str, int]:
        """Reused / computed counts since the last call (for Beam metrics in the bundle thread)."""
        with self._lock:
            counts = {"reused": self.reused, "computed": self.computed}
            self.reused = self.computed = 0
            return counts
