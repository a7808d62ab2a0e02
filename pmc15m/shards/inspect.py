"""``pmc15m inspect``: what a build output holds, and whether its files still agree.

Meant to be run after a dataset has been copied (to a bucket, a cluster, a laptop): every
tar is read in full and checked against its Parquet, its ``_stats.json`` (counts, first and
last key, the SHA-256 and size of both files), the split's ``sizes.json`` and the manifest.
Problems are collected, not raised, so one run lists all of them. Tar members are read in
memory, never extracted.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pyarrow.parquet as pq

from pmc15m.rules.splits import SPLITS
from pmc15m.shards import format as fmt
from pmc15m.shards import index
from pmc15m.shards.schema import sample_schema
from pmc15m.shards.update import base_dir as update_base_dir
from pmc15m.storage import fs


@dataclass
class Shard:
    """What one tar holds, as read back."""

    keys: list[str]
    rows: dict[str, dict[str, Any]]
    image_bytes: dict[str, int]
    digest: dict[str, Any]


@dataclass
class Inspection:
    """The outcome of ``inspect_output``: counts, a few samples and every problem found."""

    output: str
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # (key, "split/shard") of samples updates retired: no longer in their shards (pmc15m.shards.compact)
    tombstoned: set[tuple[str, str]] = field(default_factory=set)
    placed: list[np.ndarray] = field(default_factory=list)  # hashes of "split/shard/key"

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest(handle: IO[bytes]) -> dict[str, Any]:
    handle.seek(0)
    digest = hashlib.file_digest(handle, "sha256").hexdigest()
    size = handle.tell()
    handle.seek(0)
    return {"bytes": size, "sha256": digest}


def read_tar(path: str, problems: list[str]) -> Shard:
    """Keys, metadata rows and image sizes of one tar, plus its digest; problems appended."""
    shard = Shard([], {}, {}, {})
    members: dict[str, set[str]] = {}
    with fs.open_read(path) as handle:
        shard.digest = _digest(handle)
        with tarfile.open(fileobj=handle, mode="r:") as tar:
            for member in tar:
                key, kind = fmt.split_member(member.name)
                if not member.isfile():
                    problems.append(f"{path}: {member.name} is not a regular file")
                    continue
                if key not in members:
                    members[key] = set()
                    shard.keys.append(key)
                members[key].add(kind)
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                _read_member(path, key, kind, data, shard, problems)
    for key, kinds in members.items():
        if not (kinds & set(fmt.IMAGE_KINDS)) or not set(fmt.TEXT_KINDS) <= kinds:
            problems.append(f"{path}: sample {key} has members {sorted(kinds)}, not image+json+txt")
    return shard


def _read_member(path: str, key: str, kind: str, data: bytes, shard: Shard, problems: list[str]) -> None:
    if kind in fmt.IMAGE_KINDS:
        shard.image_bytes[key] = len(data)
    elif kind == fmt.JSON:
        try:
            shard.rows[key] = json.loads(data)
        except ValueError:
            problems.append(f"{path}: {key}.json is not valid JSON")
            return
        if shard.rows[key].get("key") != key:
            problems.append(f"{path}: {key}.json names key {shard.rows[key].get('key')!r}")
    elif kind == fmt.TXT:
        caption = shard.rows.get(key, {}).get("caption")
        if caption is not None and caption != data.decode("utf-8", "replace"):
            problems.append(f"{path}: {key}.txt differs from the caption in {key}.json")


def _check_keys(path: str, keys: list[str], problems: list[str]) -> None:
    if keys != sorted(keys):
        problems.append(f"{path}: samples are not sorted by key")
    duplicated = [k for k, n in Counter(keys).items() if n > 1]
    if duplicated:
        problems.append(f"{path}: keys appear twice: {duplicated[:5]}")


def _check_parquet(path: str, shard: Shard, problems: list[str]) -> dict[str, Any]:
    """Compare the Parquet file with its tar; return its digest."""
    with fs.open_read(path) as handle:
        digest = _digest(handle)
        try:
            table = pq.read_table(handle)
        except Exception as exc:  # any pyarrow error means an unreadable file
            problems.append(f"{path}: unreadable Parquet ({exc})")
            return digest
    expected = sample_schema()
    if table.schema.names != expected.names:
        problems.append(f"{path}: columns differ from schemas/sample.schema.json")
    keys = table.column("key").to_pylist() if "key" in table.column_names else []
    if keys != shard.keys:
        problems.append(f"{path}: {len(keys)} keys, tar has {len(shard.keys)} (or a different order)")
    elif "caption" in table.column_names:
        captions = table.column("caption").to_pylist()
        if any(shard.rows.get(k, {}).get("caption") != c for k, c in zip(keys, captions, strict=True)):
            problems.append(f"{path}: captions differ from the tar's json members")
    return digest


def _check_stats(path: str, shard: Shard, digests: dict[str, Any], problems: list[str]) -> None:
    try:
        stats = json.loads(fs.read_bytes(path))
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: unreadable ({exc})")
        return
    expect = {
        "count": len(shard.keys),
        "first_key": shard.keys[0] if shard.keys else None,
        "last_key": shard.keys[-1] if shard.keys else None,
    }
    for field_name, value in expect.items():
        if stats.get(field_name) != value:
            problems.append(f"{path}: {field_name} is {stats.get(field_name)!r}, the tar says {value!r}")
    for file_name, recorded in (stats.get("files") or {}).items():
        actual = digests.get(file_name)
        if actual is not None and recorded != actual:
            problems.append(f"{path}: {file_name} has sha256/size {actual}, stats recorded {recorded}")


def _check_split(
    output: str, split: str, result: Inspection, keys_hash: list[np.ndarray], n_samples: int
) -> None:
    """Check every shard trio of ``split`` and its sizes.json; record counts and a few samples."""
    directory = fs.join(output, split)
    names = fs.listdir(directory)
    problems = result.problems
    problems += [f"{directory}/{n}: leftover temporary file" for n in names if fs.TEMP_MARKER in n]
    stems = {fmt.shard_stem(n) for n in names if fmt.is_numbered(n)}
    sizes = _read_sizes(directory, problems)
    counts: dict[str, int] = {}
    for stem in sorted(stems):
        trio = fmt.shard_files(stem)
        missing = [n for n in trio if n not in names]
        if missing:
            problems.append(f"{directory}: shard {stem} lacks {', '.join(missing)}")
            continue
        shard = read_tar(fs.join(directory, trio[0]), problems)
        _check_keys(fs.join(directory, trio[0]), shard.keys, problems)
        digests = {
            trio[0]: shard.digest,
            trio[1]: _check_parquet(fs.join(directory, trio[1]), shard, problems),
        }
        _check_stats(fs.join(directory, trio[2]), shard, digests, problems)
        counts[trio[0]] = len(shard.keys)
        where = fmt.shard_id(split, stem)
        keys_hash.append(_key_hashes(shard.keys))
        result.placed.append(_key_hashes([f"{where}/{k}" for k in shard.keys]))
        shown = sum(1 for s in result.samples if s["split"] == split)
        result.samples.extend(_sample_lines(split, shard, n_samples - shown))
    if sizes is not None and sizes != counts:
        problems.append(f"{directory}/{fmt.SIZES_JSON}: {sizes} does not match the tars ({counts})")
    result.splits[split] = {"samples": sum(counts.values()), "shards": len(counts)}


def _read_sizes(directory: str, problems: list[str]) -> dict[str, int] | None:
    path = fs.join(directory, fmt.SIZES_JSON)
    if not fs.exists(path):
        problems.append(f"{path}: missing")
        return None
    try:
        return json.loads(fs.read_bytes(path))
    except ValueError:
        problems.append(f"{path}: not valid JSON")
        return None


def _key_hashes(keys: list[str]) -> np.ndarray:
    """64-bit key hashes: enough to find a key in two shards without holding every key string."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest()) for k in keys], np.uint64
    )


def _sample_lines(split: str, shard: Shard, n: int) -> list[dict[str, Any]]:
    out = []
    for key in shard.keys[: max(n, 0)]:
        row = shard.rows.get(key, {})
        out.append(
            {
                "split": split,
                "key": key,
                "caption": row.get("caption", ""),
                "width": row.get("width"),
                "height": row.get("height"),
                "image_bytes": shard.image_bytes.get(key),
                "license_code": row.get("license_code", ""),
            }
        )
    return out


def _check_manifest(output: str, result: Inspection) -> None:
    path = fs.join(output, fmt.MANIFEST)
    if not fs.exists(path):
        result.problems.append(f"{path}: missing (the build did not finish, or this is not a build output)")
        return
    manifest = json.loads(fs.read_bytes(path))
    for split, found in result.splits.items():
        recorded = manifest.get("splits", {}).get(split)
        if recorded != found:
            result.problems.append(f"{path}: {split} is {recorded}, the shards hold {found}")
    total = sum(s["samples"] for s in result.splits.values())
    dataset = manifest.get("dataset", {})  # an update's manifest: the whole output's totals
    kept = dataset.get("samples", manifest.get("counts", {}).get("samples_kept"))
    if kept != total:
        result.problems.append(f"{path}: samples_kept is {kept}, the shards hold {total}")
    written = dataset.get("rejects", manifest.get("counts", {}).get("rejects_written"))
    if written is not None and written != result.rejects:
        result.problems.append(
            f"{path}: rejects_written is {written}, {fmt.REJECTS_DIR}/ holds {result.rejects}"
        )


def _count_rejects(output: str, result: Inspection) -> None:
    directory = fs.join(output, fmt.REJECTS_DIR)
    for name in fs.listdir(directory):
        if fmt.is_parquet(name):
            try:
                with fs.open_read(fs.join(directory, name)) as handle:
                    result.rejects += pq.ParquetFile(handle).metadata.num_rows
            except Exception as exc:  # any pyarrow error means an unreadable file
                result.problems.append(f"{directory}/{name}: unreadable Parquet ({exc})")


def _check_retired(output: str, result: Inspection, placed: np.ndarray) -> None:
    """No sample an update retired may be left in its shard, and no update half done."""
    retired = _key_hashes([f"{shard}/{key}" for key, shard in sorted(result.tombstoned)])
    left = int(np.isin(retired, placed).sum())
    if left:
        result.problems.append(
            f"{output}/{fmt.TOMBSTONES_DIR}: {left} retired sample(s) are still in their shards"
        )
    if fs.exists(update_base_dir(output)):  # staged by an update, removed when it finishes
        result.problems.append(
            f"{output}: an update did not finish; run the same `pmc15m build --update` command again"
        )


def inspect_output(output: str, n_samples: int = 3) -> Inspection:
    """Read every file of the build at ``output`` and check that they agree."""
    if not fs.isdir(output):
        raise FileNotFoundError(f"no build output at {output}")
    result = Inspection(output)
    keys_hash: list[np.ndarray] = []
    result.tombstoned = {(t["key"], t["shard"]) for t in index.read_tombstones(output)}
    for split in SPLITS:
        _check_split(output, split, result, keys_hash, n_samples)
    _count_rejects(output, result)
    _check_manifest(output, result)
    placed = np.concatenate(result.placed) if result.placed else np.zeros(0, np.uint64)
    if index.has_index(output):
        result.problems += index.check_against_shards(output, placed, _key_hashes)
    _check_retired(output, result, placed)
    hashes = np.concatenate(keys_hash) if keys_hash else np.zeros(0, np.uint64)
    if len(np.unique(hashes)) != len(hashes):
        result.problems.append("some sample keys appear in more than one shard")
    return result


def format_inspection(result: Inspection, caption_chars: int = 100) -> str:
    """The human-readable report ``pmc15m inspect`` prints."""
    lines = [f"pmc15m inspect {result.output}"]
    for split, info in result.splits.items():
        lines.append(f"  {split:<10} {info['samples']:>9,} samples in {info['shards']} shard(s)")
    lines.append(f"  rejects    {result.rejects:>9,} rows")
    if result.tombstoned:
        lines.append(
            f"  retired    {len(result.tombstoned):>9,} samples "
            f"({fmt.TOMBSTONES_DIR}/; no longer in the shards)"
        )
    if result.samples:
        lines.append("samples:")
    for s in result.samples:
        caption = s["caption"] if len(s["caption"]) <= caption_chars else s["caption"][:caption_chars] + "…"
        size = f"{s['width']}x{s['height']}, {s['image_bytes'] or 0:,} bytes"
        lines.append(f"  [{s['split']}] {s['key']} ({size}, {s['license_code']}): {caption}")
    if result.ok:
        lines.append(f"OK: every tar, Parquet, stats file, {fmt.SIZES_JSON} and the manifest agree")
    else:
        lines.append(f"{len(result.problems)} problem(s):")
        lines.extend(f"  - {p}" for p in result.problems)
    return "\n".join(lines) + "\n"
