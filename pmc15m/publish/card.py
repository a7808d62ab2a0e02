"""The dataset card (``README.md``) a build is published with, and its validation.

The card is what the Hub and ``datasets.load_dataset`` read first, so it carries the
loading contract: ``configs`` point ``data_files`` at the *tars* of each split. Without
that, a folder holding as many ``.parquet`` as ``.tar`` files is loaded as Parquet
(metadata only, no images). The body carries what the source's terms ask of anyone who
redistributes PMC data: NLM acknowledged as the source, each article's own license and
citation kept with every sample, no claim of NLM endorsement, and only articles licensed
for redistribution included.

The card is a pure function of the manifest and the license counts, so building or
publishing the same build twice writes the same bytes. Every build writes it (without a
repository name); ``publish`` writes it again with one.
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from typing import Any

import pyarrow.parquet as pq
import yaml

from pmc15m.publish.card_features import dataset_info, feature_problems
from pmc15m.publish.card_text import body
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import format as fmt
from pmc15m.shards.schema import SAMPLE_SCHEMA_FILE, load_spec
from pmc15m.storage import fs

CARD_FILE = "README.md"
CONFIG_NAME = "default"  # the one config: each split's tars
TASK_CATEGORIES = ("zero-shot-image-classification", "image-to-text", "text-to-image")
PMC_COPYRIGHT = "https://pmc.ncbi.nlm.nih.gov/about/copyright/"
# PMC's license codes -> (Hub license id, deed URL). The Hub card's top-level license is
# "other" because samples carry different licenses; these are listed per code in the body.
CC_LICENSES: dict[str, tuple[str, str]] = {
    "CC0": ("cc0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC BY": ("cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC BY-SA": ("cc-by-sa-4.0", "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC BY-ND": ("cc-by-nd-4.0", "https://creativecommons.org/licenses/by-nd/4.0/"),
    "CC BY-NC": ("cc-by-nc-4.0", "https://creativecommons.org/licenses/by-nc/4.0/"),
    "CC BY-NC-SA": ("cc-by-nc-sa-4.0", "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
    "CC BY-NC-ND": ("cc-by-nc-nd-4.0", "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
}
_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
)


def size_category(n: int) -> str:
    return next((label for limit, label in _SIZE_CATEGORIES if n < limit), "100M<n<1B")


def published_splits(manifest: dict[str, Any]) -> list[str]:
    """Splits with at least one sample (an empty pattern would make the loader fail)."""
    return [s for s in SPLITS if manifest.get("splits", {}).get(s, {}).get("samples", 0) > 0]


def split_data_files(split: str, sizes: dict[str, int] | None) -> str | list[str]:
    """The split's tars for ``datasets``: ``split/*.tar``, or the non-empty ones by name.

    ``datasets`` infers the features from the first tar of a split, and fails on an empty
    one; an update leaves a shard empty when it retires all its samples (pmc15m.shards.compact).
    """
    if sizes is None or all(n > 0 for n in sizes.values()):
        return fmt.tars_glob(split)
    return [f"{split}/{name}" for name, n in sorted(sizes.items()) if n > 0]


def card_metadata(
    manifest: dict[str, Any],
    licenses: dict[str, int],
    pretty_name: str,
    sizes: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    """The YAML front matter: license, features, loading configs, task categories, size.

    ``sizes``: each split's ``sizes.json`` (None: every shard holds samples). The features
    (pmc15m.publish.card_features) spare ``datasets`` from guessing the types from the first samples.
    """
    samples = sum(s.get("samples", 0) for s in manifest.get("splits", {}).values())
    data_files = [
        {"split": s, "path": split_data_files(s, (sizes or {}).get(s))} for s in published_splits(manifest)
    ]
    configs = [{"config_name": CONFIG_NAME, "data_files": data_files}]
    return {
        "pretty_name": pretty_name,
        "license": "other",
        "license_name": "pmc-open-access-per-sample",
        "license_link": PMC_COPYRIGHT,
        "language": ["en"],
        "task_categories": list(TASK_CATEGORIES),
        "size_categories": [size_category(samples)],
        "tags": ["biomedical", "pubmed-central", "figure-caption", "clip", "webdataset"],
        "dataset_info": dataset_info([c["config_name"] for c in configs], manifest),
        "configs": configs,
        "pmc15m": {"build_id": manifest.get("build_id"), "licenses": dict(sorted(licenses.items()))},
    }


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _license_table(licenses: dict[str, int]) -> str:
    rows = []
    for code, n in sorted(licenses.items(), key=lambda kv: (-kv[1], kv[0])):
        hub_id, url = CC_LICENSES.get(code, ("other", PMC_COPYRIGHT))
        rows.append((code, f"{n:,}", f"[{hub_id}]({url})"))
    return _table(("license_code", "samples", "license"), rows)


def _tombstones_note(manifest: dict[str, Any]) -> str:
    """What updates retired: gone from the shards, kept on record in ``tombstones/``."""
    tombstoned = manifest.get("dataset", {}).get("tombstoned", 0)
    if not tombstoned:
        return ""
    return (
        f"**Retired samples: {tombstoned:,}.** Updates removed the samples of article versions "
        "that were retracted, superseded or changed after release: the shards holding them were "
        "rewritten without them, so every reader (`datasets`, `webdataset`, open_clip's "
        f"`{fmt.SIZES_JSON}`, `pyarrow`) sees only the live samples counted above. "
        f"`{fmt.TOMBSTONES_DIR}/*{fmt.PARQUET_SUFFIX}` records each one "
        "(`key`, `shard`, `reason`, `build_id`)."
    )


def _counts_section(manifest: dict[str, Any]) -> str:
    splits = manifest.get("splits", {})
    split_rows = [
        (s, f"{splits.get(s, {}).get('samples', 0):,}", splits.get(s, {}).get("shards", 0)) for s in SPLITS
    ]
    counts = manifest.get("counts", {})
    funnel_rows = [(k, f"{v:,}") for k, v in counts.items() if isinstance(v, int)]
    reasons = counts.get("rejected_by_reason", {})
    reason_rows = [(f"{lvl}: {r}", f"{n:,}") for lvl, by in reasons.items() for r, n in by.items()]
    parts = [
        _table(("split", "samples", "shards"), split_rows),
        _table(("build funnel", "count"), funnel_rows),
        _table(("dropped (level: reason)", "count"), reason_rows) if reason_rows else "",
        _tombstones_note(manifest),
    ]
    return "\n\n".join(part for part in parts if part)


def _fields_table() -> str:
    spec = load_spec(SAMPLE_SCHEMA_FILE)
    rows = [
        (f"`{c['name']}`", c["type"], c.get("description", "").replace("|", "/")) for c in spec["columns"]
    ]
    return _table(("field", "type", "description"), rows)


def _manifest_block(manifest: dict[str, Any]) -> str:
    public = {k: v for k, v in manifest.items() if k != "source_location"}  # a local path: not shared
    return "```json\n" + json.dumps(public, indent=2, sort_keys=True, ensure_ascii=False) + "\n```"


def render_card(
    manifest: dict[str, Any],
    licenses: dict[str, int],
    repo_id: str = "",
    pretty_name: str = "",
    sizes: dict[str, dict[str, int]] | None = None,
) -> str:
    """The whole ``README.md``: YAML front matter, then the body."""

    pretty_name = pretty_name or "PMC figure-caption pairs (pmc15m)"
    meta = card_metadata(manifest, licenses, pretty_name, sizes)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    sections = {
        "licenses": _license_table(licenses),
        "counts": _counts_section(manifest),
        "fields": _fields_table(),
        "manifest": _manifest_block(manifest),
    }
    return f"---\n{front}---\n\n" + body(manifest, licenses, repo_id, pretty_name, sections)


def license_counts(output: str) -> Counter:
    """Samples per ``license_code`` over every shard Parquet of every split."""
    counts: Counter = Counter()
    for split in SPLITS:
        directory = fs.join(output, split)
        for name in fs.listdir(directory):
            if fmt.is_parquet(name):
                with fs.open_read(fs.join(directory, name)) as handle:
                    column = pq.read_table(handle, columns=["license_code"]).column("license_code")
                counts.update(code or "(none)" for code in column.to_pylist())
    return counts


def read_sizes(output: str) -> dict[str, dict[str, int]]:
    """Each split's ``sizes.json`` (an empty dict for a split without one)."""
    sizes = {}
    for split in SPLITS:
        path = fs.join(output, split, fmt.SIZES_JSON)
        sizes[split] = json.loads(fs.read_bytes(path)) if fs.exists(path) else {}
    return sizes


def card_for(output: str, manifest: dict[str, Any], repo_id: str = "") -> tuple[str, Counter]:
    """The card of the build at ``output`` and the license counts it was made from."""
    licenses = license_counts(output)
    return render_card(manifest, dict(licenses), repo_id, sizes=read_sizes(output)), licenses


def write_card(output: str, manifest: dict[str, Any]) -> str:
    """Write the card for the build at ``output``; return its text.

    Every build and update writes it, so ``datasets.load_dataset(output)`` reads the tars
    (not the Parquet and JSON files beside them) before anything is published; ``publish``
    writes it again with the repository's name.
    """
    card, _ = card_for(output, manifest)
    fs.write_bytes(fs.join(output, CARD_FILE), card.encode("utf-8"))
    return card


def validate_card(text: str, files: list[str]) -> list[str]:
    """Problems with a card for a folder holding ``files`` (relative paths); [] when valid.

    Parses the front matter exactly as huggingface_hub does (``DatasetCard``), then checks
    what the Hub and ``load_dataset`` rely on: every config pattern matches files, every
    split with shards is loaded from its tars, and every config declares the schema's features.
    """
    from huggingface_hub import DatasetCard

    try:
        data = DatasetCard(text).data.to_dict()
    except Exception as exc:  # yaml errors and huggingface_hub's ValueError alike
        return [f"card metadata does not parse: {exc}"]
    problems = []
    if data.get("license") != "other" or not data.get("license_name"):
        problems.append("license must be 'other' with a license_name (samples carry their own licenses)")
    unknown = [t for t in data.get("task_categories", []) if t not in TASK_CATEGORIES]
    if unknown:
        problems.append(f"unexpected task categories {unknown}")
    configs = data.get("configs") or []
    if not configs:
        problems.append("no configs: the loader would read the Parquet metadata instead of the tars")
    covered = set()
    for config in configs:
        for entry in config.get("data_files", []):
            paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
            for path in paths:
                if not fnmatch.filter(files, path):
                    problems.append(f"config {config.get('config_name')}: {path} matches no file")
                if not path.endswith(fmt.TAR_SUFFIX):
                    problems.append(f"config {config.get('config_name')}: {path} is not the tars")
            covered.add(entry.get("split"))
    with_tars = {
        f.split("/", 1)[0] for f in files if f.endswith(fmt.TAR_SUFFIX) and f.split("/", 1)[0] in SPLITS
    }
    if with_tars - covered:
        problems.append(f"splits {sorted(with_tars - covered)} have tars the card does not load")
    return problems + feature_problems(data)
