"""The build manifest, ``sizes.json`` files and the funnel of counts.

The manifest holds no wall-clock time: it is part of the output, and the same input and
configuration must give the same bytes. It is written last, so its presence says the
build finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from pmc15m import __version__
from pmc15m.core.config import BuildConfig
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import format as fmt
from pmc15m.shards.writers import write_json_atomic
from pmc15m.storage import fs


def make_build_id(
    config: BuildConfig, snapshot: dict[str, str], selection: dict[str, Any] | None = None
) -> str:
    """A build id that changes exactly when the configuration, the snapshot, the article
    selection or the code does (selecting everything adds nothing, so full builds keep
    their id)."""
    parts: dict[str, Any] = {"config": config.digest(), "source": snapshot, "code": __version__}
    if selection and any(v is not None for v in selection.values()):
        parts["selection"] = selection
    blob = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def manifest_header(
    config: BuildConfig, snapshot: dict[str, str], selection: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``selection`` is ``pmc15m.rules.selection.Selection.describe()`` (a digest of a PMCID list)."""
    header = {
        "build_id": make_build_id(config, snapshot, selection),
        "code_version": __version__,
        "config": config.to_dict(),
        "source": snapshot,
    }
    if selection is not None:
        header["selection"] = selection
    return header


def funnel(counts: dict[str, int], kept: int) -> dict[str, Any]:
    """Article and figure counts from the stage counts and the rejects by level:reason."""
    rejected: dict[str, dict[str, int]] = {"article": {}, "figure": {}}
    for name, n in counts.items():
        if ":" in name:
            level, reason = name.split(":", 1)
            rejected[level][reason] = n
    figure_rejects = sum(rejected["figure"].values())
    return {
        "articles_listed": counts.get("listed", 0),
        # versions the selection (--pmcids, --sample_fraction, --limit) left out: not rejects
        "articles_not_selected": counts.get("not_selected", 0),
        "articles_newest_version": counts.get("selected", 0),
        "articles_passing_gate": counts.get("gated", 0),
        "articles_parsed": counts.get("parsed", 0),
        "figures_found": kept + figure_rejects,
        "samples_kept": kept,
        "articles_rejected": sum(rejected["article"].values()),
        "figures_rejected": figure_rejects,
        "rejected_by_reason": {level: dict(sorted(r.items())) for level, r in rejected.items()},
    }


def finish_build(
    shard_stats: list[dict[str, Any]],
    output: str,
    header: dict[str, Any],
    counts: dict[str, int],
    rejects_written: int,
    previous_sizes: dict[str, dict[str, int]] | None = None,
) -> str:
    """Write every split's ``sizes.json`` and then ``manifest.json``; return the manifest path.

    An empty split still gets its folder and an empty ``sizes.json``, so a consumer that
    globs ``validation/`` on a small build finds a valid, empty split rather than nothing.
    ``previous_sizes``: an update's released shards, merged with its new ones.
    """
    previous = previous_sizes or {}
    splits: dict[str, dict[str, int]] = {split: dict(previous.get(split, {})) for split in SPLITS}
    for stat in shard_stats:
        splits[stat["split"]][fmt.tar_name(stat["name"])] = stat["count"]
    for split, sizes in splits.items():
        write_json_atomic(os.path.join(output, split, fmt.SIZES_JSON), dict(sorted(sizes.items())))
    kept = sum(stat["count"] for stat in shard_stats)  # this build's (an update's new shards)
    doc = dict(header)
    doc["counts"] = funnel(counts, kept)
    doc["counts"]["rejects_written"] = rejects_written
    doc["splits"] = {
        split: {"samples": sum(sizes.values()), "shards": len(sizes)} for split, sizes in splits.items()
    }
    path = os.path.join(output, fmt.MANIFEST)
    write_json_atomic(path, doc)
    return path


def read_manifest(output: str) -> dict[str, Any]:
    """The manifest of the build at ``output`` (a local path or any pmc15m.storage.fs URL)."""
    return json.loads(fs.read_bytes(fs.join(output, fmt.MANIFEST)).decode("utf-8"))
