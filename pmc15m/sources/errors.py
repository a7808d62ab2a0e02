"""Why a source, or one of its objects, cannot be read.

Two kinds, handled at opposite ends: ``SourceError`` stops the command before anything is
written (it is a ``UserError``: one line, exit 2), while ``ObjectMissing`` and its subclasses
reject one object and the build goes on. Kept apart from ``base`` so the inventory, the
metadata reader, the retry loop and every concrete source can raise them without importing
the interface (which reads through the inventory and metadata modules).

May import: ``pmc15m.core.errors`` only.
"""

from __future__ import annotations

from pmc15m.core.errors import UserError


class SourceError(UserError):
    """A source cannot be used at all (bad location, no inventory): a user-facing error."""


class ObjectMissing(Exception):
    """One object cannot be read: counted as a rejection, never fatal to the build.

    Raised as such, the store said the object is not there or not ours to read (404, 403,
    no such file): permanent, never retried, rejected as ``missing_object``. The two
    subclasses below are the other ways a read ends without bytes.
    """


class FetchFailed(ObjectMissing):
    """Transient failures (throttling, 5xx, timeouts, resets) outlasted the retries."""

    def __init__(self, key: str, kind: str, detail: str = "") -> None:
        super().__init__(detail or f"{kind}: {key}")
        self.key = key
        self.kind = kind


class ChecksumMismatch(ObjectMissing):
    """Every read of the object gave bytes that differ from the MD5 the metadata names."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
