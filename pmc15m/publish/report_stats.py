"""The build report's statistics (``report/stats.json``) of a finished build.

The statistics know no page: ``pmc15m.publish.report`` draws the page from them and writes both
files (``write_report``), ``pmc15m.publish.report_plots`` the plots; neither is imported here.

Computed after the manifest, from what was actually written (the shard Parquet files and
``rejects/``), so the report describes the dataset a user downloads, not what the pipeline
believed it wrote. Shards are read one at a time and folded into fixed-size histograms and
counters, so memory does not grow with the dataset (15M rows are fine).

The report is part of the output and must be byte-identical across rebuilds: no timestamps,
no output location, gallery chosen by a hash of the key, plots with their metadata stripped
(see pmc15m.publish.report_plots).

Caption length is given in two units: *words* (runs of non-space characters) and *tokens*,
a BERT-style pre-tokenisation count (each run of letters, each run of digits and each other
non-space character counts one). WordPiece splits rare words further, so real tokenizer
counts are somewhat higher; the tokens figure is a lower bound that needs no vocabulary.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pmc15m.core.record import is_article_key
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import format as fmt
from pmc15m.shards.index import read_tombstones
from pmc15m.storage import fs

STATS_FILE = "stats.json"  # in report/ (pmc15m.shards.format.REPORT_DIR)
HTML_FILE = "report.html"
GALLERY_SIZE = 12
TOKEN_PATTERN = r"\pL+|\pN+|[^\s\pL\pN]"
WORD_PATTERN = r"\S+"
TEXT_CONTEXT = 256  # PubMedBERT's context in BiomedCLIP: captions beyond it are truncated
DEFINITIONS = {
    "caption_words": "runs of non-space characters",
    "caption_tokens": "BERT-style pre-tokenisation: each run of letters, each run of digits and each "
    "other non-space character counts one; a lower bound on WordPiece tokens",
    "aspect_ratio": "source width / source height",
    "src_longest_side": "longest side of the source image in pixels, before resizing",
}
_SAMPLE_COLUMNS = (
    "key",
    "split",
    "caption",
    "width",
    "height",
    "src_width",
    "src_height",
    "license_code",
    "year",
    "journal",
    "cluster_size",
)


class IntHistogram:
    """Counts of non-negative integers (values above ``cap`` count at ``cap``), exact mean and max."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts = np.zeros(cap + 1, dtype=np.int64)
        self.total = 0
        self.n = 0
        self.max = 0

    def add(self, values: np.ndarray) -> None:
        values = values[values >= 0].astype(np.int64)
        if not values.size:
            return
        self.counts += np.bincount(np.minimum(values, self.cap), minlength=self.cap + 1)
        self.total += int(values.sum())
        self.n += int(values.size)
        self.max = max(self.max, int(values.max()))

    def percentile(self, q: float) -> int:
        """The smallest value with at least ``q`` percent of the counts at or below it."""
        cumulative = np.cumsum(self.counts)
        return int(np.searchsorted(cumulative, q / 100 * self.n, side="left"))

    def summary(self, scale: float = 1.0) -> dict[str, Any]:
        if not self.n:
            return {"n": 0}

        def scaled(value: int) -> int | float:
            return value if scale == 1.0 else round(value / scale, 2)

        out: dict[str, Any] = {"n": self.n, "mean": round(self.total / self.n / scale, 2)}
        for q in (10, 50, 90, 99):
            out[f"p{q}"] = scaled(self.percentile(q))
        out["max"] = scaled(self.max)
        return out

    def share_above(self, threshold: int) -> float:
        return round(float(self.counts[threshold + 1 :].sum()) / self.n, 4) if self.n else 0.0


@dataclass
class GalleryItem:
    """A sample picked for the gallery (lowest hash of the key: random, yet reproducible)."""

    rank: str
    key: str
    split: str
    shard: str  # path of the tar holding it
    caption: str
    width: int
    height: int
    license_code: str


@dataclass
class Collected:
    """Everything the report shows, folded shard by shard."""

    splits: Counter = field(default_factory=Counter)
    words: IntHistogram = field(default_factory=lambda: IntHistogram(2048))
    tokens: IntHistogram = field(default_factory=lambda: IntHistogram(4096))
    src_side: IntHistogram = field(default_factory=lambda: IntHistogram(20000))
    out_width: IntHistogram = field(default_factory=lambda: IntHistogram(20000))
    out_height: IntHistogram = field(default_factory=lambda: IntHistogram(20000))
    aspect_x100: IntHistogram = field(default_factory=lambda: IntHistogram(5000))
    licenses: Counter = field(default_factory=Counter)
    years: Counter = field(default_factory=Counter)
    journals: Counter = field(default_factory=Counter)
    cluster_sizes: Counter = field(default_factory=Counter)
    rejects: dict[str, Counter] = field(default_factory=lambda: {"article": Counter(), "figure": Counter()})
    duplicate_reasons: Counter = field(default_factory=Counter)  # reject reason of rows with duplicate_of
    tombstoned: Counter = field(default_factory=Counter)  # samples updates retired, by reason
    # heap of (reversed rank, reversed sequence number, item): the first two are unique, so
    # the heap never compares two items (a key can repeat across shards of an old output)
    gallery: list[tuple[str, int, GalleryItem]] = field(default_factory=list)
    seen: int = 0


def _ints(table: Any, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(0, dtype=np.int64)
    return table[name].fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _fold_text(acc: Collected, table: Any) -> None:
    captions = table["caption"]
    acc.words.add(pc.count_substring_regex(captions, WORD_PATTERN).fill_null(0).to_numpy())
    acc.tokens.add(pc.count_substring_regex(captions, TOKEN_PATTERN).fill_null(0).to_numpy())


def _fold_images(acc: Collected, table: Any) -> None:
    src_w, src_h = _ints(table, "src_width"), _ints(table, "src_height")
    acc.src_side.add(np.maximum(src_w, src_h))
    acc.out_width.add(_ints(table, "width"))
    acc.out_height.add(_ints(table, "height"))
    valid = (src_w > 0) & (src_h > 0)
    acc.aspect_x100.add(np.rint(src_w[valid] * 100.0 / src_h[valid]).astype(np.int64))


def _fold_counters(acc: Collected, table: Any) -> None:
    rows = table.select([c for c in _SAMPLE_COLUMNS if c in table.column_names]).to_pydict()
    acc.splits.update(rows.get("split", []))
    acc.licenses.update(code or "(none)" for code in rows.get("license_code", []))
    acc.years.update(str(y) if y is not None else "unknown" for y in rows.get("year", []))
    acc.journals.update(j or "(unknown)" for j in rows.get("journal", []))
    acc.cluster_sizes.update(s for s in rows.get("cluster_size", []) if s)


def _fold_gallery(acc: Collected, table: Any, tar_path: str, size: int) -> None:
    rows = table.select([c for c in _SAMPLE_COLUMNS if c in table.column_names]).to_pylist()
    for row in rows:
        rank = hashlib.sha256(row["key"].encode()).hexdigest()
        item = GalleryItem(
            rank,
            row["key"],
            row.get("split", ""),
            tar_path,
            row.get("caption", ""),
            row.get("width") or 0,
            row.get("height") or 0,
            row.get("license_code", ""),
        )
        acc.seen += 1
        entry = (_negate(rank), -acc.seen, item)
        if len(acc.gallery) < size:
            heapq.heappush(acc.gallery, entry)
        elif entry[:2] > acc.gallery[0][:2]:
            heapq.heapreplace(acc.gallery, entry)


def _negate(rank: str) -> str:
    """A key whose order is the reverse of ``rank``'s, so the heap keeps the lowest ranks."""
    return rank.translate(str.maketrans("0123456789abcdef", "fedcba9876543210"))


def shard_parquets(output: str) -> list[tuple[str, str]]:
    """``(split, parquet path)`` of every shard, in split then name order."""
    out = []
    for split in SPLITS:
        directory = fs.join(output, split)
        names = [n for n in fs.listdir(directory) if fmt.is_parquet(n)]
        out.extend((split, fs.join(directory, n)) for n in sorted(names))
    return out


def _read_table(path: str, columns: tuple[str, ...]) -> Any:
    with fs.open_read(path) as handle:
        present = set(pq.read_schema(handle).names)
        handle.seek(0)
        return pq.read_table(handle, columns=[c for c in columns if c in present])


def _fold_rejects(acc: Collected, output: str) -> None:
    directory = fs.join(output, fmt.REJECTS_DIR)
    for name in fs.listdir(directory):
        if not fmt.is_parquet(name):
            continue
        rows = _read_table(fs.join(directory, name), ("key", "reject_reason", "duplicate_of")).to_pydict()
        for key, reason in zip(rows["key"], rows["reject_reason"], strict=True):
            acc.rejects["article" if is_article_key(key) else "figure"][reason] += 1
        duplicate_of = rows.get("duplicate_of") or [""] * len(rows["key"])
        acc.duplicate_reasons.update(r for r, d in zip(rows["reject_reason"], duplicate_of, strict=True) if d)


def collect(output: str, gallery_size: int = GALLERY_SIZE) -> Collected:
    """Fold every shard and reject file of ``output`` into one ``Collected``."""
    acc = Collected()
    for _split, path in shard_parquets(output):
        table = _read_table(path, _SAMPLE_COLUMNS)
        _fold_text(acc, table)
        _fold_images(acc, table)
        _fold_counters(acc, table)
        _fold_gallery(acc, table, path.removesuffix(fmt.PARQUET_SUFFIX) + fmt.TAR_SUFFIX, gallery_size)
    _fold_rejects(acc, output)
    acc.tombstoned.update(row["reason"] for row in read_tombstones(output))
    return acc


def gallery_items(acc: Collected) -> list[GalleryItem]:
    return sorted((entry[2] for entry in acc.gallery), key=lambda item: (item.rank, item.shard))


def _sorted_counts(counter: Counter, limit: int | None = None) -> dict[str, int]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return {str(k): v for k, v in items[:limit]}


def build_stats(acc: Collected, manifest: dict[str, Any]) -> dict[str, Any]:
    """The ``stats.json`` document (no timestamps, no output location: deterministic)."""
    counts = manifest.get("counts", {})
    return {
        "build_id": manifest.get("build_id"),
        "code_version": manifest.get("code_version"),
        "funnel": {k: v for k, v in counts.items() if isinstance(v, int)},
        "splits": {split: acc.splits.get(split, 0) for split in SPLITS},
        "samples": sum(acc.splits.values()),
        # samples updates retired: in tombstones/, no longer in any shard (pmc15m.shards.compact)
        "tombstoned": {
            "total": sum(acc.tombstoned.values()),
            "by_reason": dict(sorted(acc.tombstoned.items())),
        },
        "rejects": {level: _sorted_counts(c) for level, c in acc.rejects.items()},
        "caption_words": acc.words.summary(),
        "caption_tokens": {
            **acc.tokens.summary(),
            f"share_over_{TEXT_CONTEXT}": acc.tokens.share_above(TEXT_CONTEXT),
        },
        "image": {
            "src_longest_side": acc.src_side.summary(),
            "width": acc.out_width.summary(),
            "height": acc.out_height.summary(),
            "aspect_ratio": acc.aspect_x100.summary(scale=100.0),
        },
        "licenses": _sorted_counts(acc.licenses),
        "years": dict(sorted(acc.years.items())),
        "journals": {"distinct": len(acc.journals), "top": _sorted_counts(acc.journals, 25)},
        "duplicates": {
            "kept_with_cluster": sum(acc.cluster_sizes.values()),
            "cluster_sizes": {str(k): v for k, v in sorted(acc.cluster_sizes.items())},
            "rejected_as_duplicate": sum(acc.duplicate_reasons.values()),
            "rejected_by_reason": _sorted_counts(acc.duplicate_reasons),
        },
        "gallery": [item.key for item in gallery_items(acc)],
        "definitions": DEFINITIONS,
    }
