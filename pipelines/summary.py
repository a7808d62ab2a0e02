"""The human summary printed at the end of a build (and of an update), from its manifest."""

from __future__ import annotations

from typing import Any

from pmc15m.rules.splits import SPLITS
from pmc15m.shards.format import MANIFEST, REJECTS_DIR, TOMBSTONES_DIR


def format_summary(manifest: dict[str, Any], output: str, seconds: float) -> str:
    c = manifest["counts"]
    lines = [
        f"pmc15m build {manifest['build_id']} finished in {seconds:.1f} s",
        f"  articles listed          {c['articles_listed']:>9,}",
        f"  not selected             {c.get('articles_not_selected', 0):>9,}",
        f"  newest versions          {c['articles_newest_version']:>9,}",
        f"  passed metadata gate     {c['articles_passing_gate']:>9,}",
        f"  JATS parsed              {c['articles_parsed']:>9,}",
        f"  figures found            {c['figures_found']:>9,}",
        f"  samples kept             {c['samples_kept']:>9,}",
        f"  articles rejected        {c['articles_rejected']:>9,}",
        f"  figures rejected         {c['figures_rejected']:>9,}",
    ]
    for level, by_reason in c["rejected_by_reason"].items():
        for reason, n in by_reason.items():
            lines.append(f"    {level:<7} {reason:<24} {n:>7,}")
    for split in SPLITS:
        info = manifest["splits"].get(split, {"samples": 0, "shards": 0})
        lines.append(f"  {split:<10} {info['samples']:>9,} samples in {info['shards']} shard(s)")
    lines.append(f"  written to {output} ({REJECTS_DIR}/ {c['rejects_written']:,} rows, {MANIFEST})")
    return "\n".join(lines) + "\n"


def format_update(manifest: dict[str, Any]) -> str:
    """What an update changed, under the build summary: versions, retired samples, bytes."""
    u, dataset = manifest["update"], manifest["dataset"]
    retired = ", ".join(f"{n:,} {reason}" for reason, n in u["tombstones"].items()) or "none"
    return (
        f"  update of {manifest['previous_build_id']}: {u['versions_processed']:,} versions processed, "
        f"{u['versions_unchanged']:,} unchanged\n"
        f"  retired samples          {sum(u['tombstones'].values()):>9,} ({retired}; {TOMBSTONES_DIR}/)\n"
        f"  shards added             {len(u['shards_added']):>9,} ({u['samples_added']:,} samples)\n"
        f"  shards rewritten         {u['shards_rewritten']:>9,} ({u['bytes_rewritten']:,} bytes "
        "copy-on-write, without the retired samples)\n"
        f"  live dataset             {dataset['samples']:>9,} samples\n"
    )
