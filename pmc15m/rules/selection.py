"""Which articles a build is asked for: a PMCID list, a stable sample, a limit, licenses.

Selection runs on the listing, before any metadata is fetched, so a trial build of 100
articles out of 8 million reads 100 metadata objects, not 8 million. Articles left out
here are *not* rejects (nobody asked for them, nothing is wrong with them): they get no
row in ``rejects/`` and are counted in the manifest funnel as ``articles_not_selected``.

Sampling and the limit both rank PMCIDs by one salted SHA-256 (``selection_rank``), so:

- the same articles are picked every time, on every runner, in any arrival order;
- a bigger ``sample_fraction`` picks a superset of a smaller one, and ``--limit N`` picks
  the N articles with the smallest rank, a superset of ``--limit M`` for M < N;
- the salt differs from the split salt, so a small sample is not biased towards the
  validation or test split (both hash the PMCID, each with its own salt).

The license gate itself stays in ``pmc15m.sources.metadata`` (the license lives in the metadata
JSON); this module parses the ``--licenses`` option into the allowlist it uses.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmc15m.core.config import LICENSE_PRESETS
from pmc15m.core.record import ArticleVersion

SELECTION_SALT = "pmc15m-select"
_RANK_SPACE = 2**64

# Why an article was not selected (funnel vocabulary, not reject reasons).
NOT_IN_PMCID_LIST = "not_in_pmcid_list"
NOT_SAMPLED = "not_sampled"
OVER_LIMIT = "over_limit"

# Every license code PMC uses, in a canonical order: the redistributable preset first, so
# an explicit list naming a preset's codes becomes that preset's tuple (same build id).
# "NO-CC CODE" is how the legacy oa_file_list.csv marks a package without a CC license.
KNOWN_LICENSE_CODES: tuple[str, ...] = (*LICENSE_PRESETS["redistributable"], "TDM", "NO-CC CODE")

_PMCID_LINE = re.compile(r"^(?:PMC)?(\d{1,12})$", re.IGNORECASE)


class SelectionError(ValueError):
    """A selection option is unusable (missing file, bad line, unknown code): a user error."""


def parse_licenses(text: str) -> tuple[str, ...]:
    """``--licenses``: a preset name, or comma-separated codes and presets (case-insensitive).

    Returns the allowlist in canonical order; ``()`` means no license gate (preset ``all``,
    which wins over anything listed with it). An unknown code is an error rather than an
    allowlist that silently matches nothing.
    """
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise SelectionError("give a preset or a comma-separated list of license codes")
    by_upper = {code.upper(): code for code in KNOWN_LICENSE_CODES}
    chosen: set[str] = set()
    everything = False
    for item in items:
        preset, code = item.lower(), " ".join(item.upper().split())
        if preset in LICENSE_PRESETS:
            chosen.update(LICENSE_PRESETS[preset] or KNOWN_LICENSE_CODES)
            everything = everything or preset == "all"
        elif code in by_upper:
            chosen.add(by_upper[code])
        else:
            raise SelectionError(
                f"unknown license code {item!r}; use a preset ({', '.join(LICENSE_PRESETS)}) "
                f"or codes from: {', '.join(KNOWN_LICENSE_CODES)}"
            )
    if everything:
        return ()
    return tuple(code for code in KNOWN_LICENSE_CODES if code in chosen)


def normalize_pmcid(text: str) -> str | None:
    """``PMC123``, ``pmc123`` or ``123`` -> ``PMC123``; anything else -> None."""
    match = _PMCID_LINE.match(text.strip())
    return f"PMC{int(match.group(1))}" if match else None


def parse_pmcid_list(text: str, name: str = "PMCID list") -> frozenset[str]:
    """The PMCIDs of a list: one per line, ``PMC`` optional, ``#`` comments and blanks ignored."""
    pmcids: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        pmcid = normalize_pmcid(entry)
        if pmcid is None:
            raise SelectionError(f"{name} line {number}: {entry[:60]!r} is not a PMCID (PMC123 or 123)")
        pmcids.add(pmcid)
    if not pmcids:
        raise SelectionError(f"{name} names no PMCID")
    return frozenset(pmcids)


def read_pmcid_list(path: str | Path) -> frozenset[str]:
    """Read a ``--pmcids`` file; ``SelectionError`` when it is missing, empty or malformed."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise SelectionError(f"--pmcids file not found: {path}") from exc
    except OSError as exc:
        raise SelectionError(f"--pmcids file unreadable: {path} ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SelectionError(f"--pmcids file {path} is not UTF-8 text") from exc
    return parse_pmcid_list(text, name=f"--pmcids file {path}")


def selection_rank(pmcid: str) -> int:
    """A stable 64-bit rank of ``pmcid`` in [0, 2**64): sampling and the limit both use it."""
    digest = hashlib.sha256(f"{SELECTION_SALT}\x00{pmcid}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def in_sample(pmcid: str, fraction: float) -> bool:
    """True when ``pmcid`` is in the stable sample of ``fraction``: nested as fraction grows."""
    return selection_rank(pmcid) < fraction * _RANK_SPACE


def rank_key(pmcid: str) -> tuple[int, str]:
    """The total order of the limit: rank, then the PMCID itself to break a (rare) tie."""
    return selection_rank(pmcid), pmcid


def limit_pmcids(pmcids: Iterable[str], limit: int) -> frozenset[str]:
    """The ``limit`` PMCIDs with the smallest ``rank_key``: what the pipeline's limit keeps."""
    return frozenset(p for _, p in heapq.nsmallest(limit, {rank_key(p) for p in pmcids}))


@dataclass(frozen=True, slots=True)
class Selection:
    """The articles a build is asked for; the default selects everything.

    ``pmcids`` and ``sample_fraction`` are per-article tests (``keep``); ``limit`` needs
    the whole listing and is applied by the pipeline with a Smallest-N combiner over
    ``rank_key`` (see ``pipelines.select``).
    """

    pmcids: frozenset[str] | None = None
    limit: int | None = None
    sample_fraction: float | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise SelectionError(f"limit must be a positive integer, got {self.limit}")
        if self.sample_fraction is not None and not 0.0 < self.sample_fraction <= 1.0:
            raise SelectionError(f"sample fraction must be in (0, 1], got {self.sample_fraction}")
        if self.pmcids is not None and not self.pmcids:
            raise SelectionError("an empty PMCID list would select nothing")

    @property
    def active(self) -> bool:
        """True when the selection leaves anything out (the default does not)."""
        return self.pmcids is not None or self.limit is not None or self.sample_fraction is not None

    def keep(self, version: ArticleVersion) -> str | None:
        """Why ``version`` is not selected, or None to keep it (the limit is not checked here)."""
        if self.pmcids is not None and version.pmcid not in self.pmcids:
            return NOT_IN_PMCID_LIST
        if self.sample_fraction is not None and not in_sample(version.pmcid, self.sample_fraction):
            return NOT_SAMPLED
        return None

    def describe(self) -> dict[str, Any]:
        """The selection for the manifest and the build id: small even for a huge PMCID list."""
        listed = None
        if self.pmcids is not None:
            digest = hashlib.sha256("\n".join(sorted(self.pmcids)).encode()).hexdigest()
            listed = {"count": len(self.pmcids), "sha256": digest}
        return {"pmcids": listed, "limit": self.limit, "sample_fraction": self.sample_fraction}
