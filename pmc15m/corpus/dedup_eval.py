"""Precision and recall of duplicate detection against planted groups.

The mini corpus plants groups of duplicates and lists them in its ground truth
(``{"exact": [[key, ...], ...], "near": [...]}``); tests assert on these scores and
``benchmarks/bench_dedup.py`` reports them, so both score the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

Rows = dict[str, dict[str, Any]]


def output_rows(output: str | Path) -> tuple[Rows, Rows]:
    """The kept rows (all split shards) and the reject rows of a build, by key."""
    kept: Rows = {}
    rejected: Rows = {}
    for path in sorted(Path(output).glob("*/[0-9]*.parquet")):
        target = rejected if path.parent.name == "rejects" else kept
        target.update({row["key"]: row for row in pq.read_table(path).to_pylist()})
    return kept, rejected


def detection_scores(planted: dict[str, list[list[str]]], kept: Rows, rejected: Rows) -> dict[str, dict]:
    """Per kind: planted groups, recall (groups found) and precision (drops that are right).

    A group is found when its samples share one cluster, exactly one is kept, and the
    others are dropped as ``duplicate_<kind>``. A drop is right when the sample named in
    its ``duplicate_of`` is in the same planted group.
    """
    group_of = {key: (kind, n) for kind, groups in planted.items() for n, g in enumerate(groups) for key in g}
    scores = {}
    for kind, groups in planted.items():
        reason = f"duplicate_{kind}"
        found = sum(_found(group, reason, kept, rejected) for group in groups)
        claimed = [row for row in rejected.values() if row["reject_reason"] == reason]
        right = [
            row for row in claimed if group_of.get(row["key"], 0) == group_of.get(row["duplicate_of"], 1)
        ]
        scores[kind] = {
            "groups": len(groups),
            "precision": len(right) / len(claimed) if claimed else 1.0,
            "recall": found / len(groups) if groups else 1.0,
        }
    return scores


def _found(group: list[str], reason: str, kept: Rows, rejected: Rows) -> bool:
    rows = [kept.get(key) or rejected.get(key) for key in group]
    if any(row is None for row in rows):
        return False
    clusters = {row["cluster_id"] for row in rows if row is not None}
    dropped = [key for key in group if key not in kept]
    return (
        len(clusters) == 1
        and len(dropped) == len(group) - 1
        and all(rejected[key]["reject_reason"] == reason for key in dropped)
    )
