"""After each README block ran: what its commands promised, checked on the real output.

Every command a run block holds needs a check here (``CHECKS``), and every Python block a
thing its probe can judge: a command that runs unchecked would prove only that it exits 0.
The checks read the output the way a user's tools do (``readme_outputs``) and keep what a
later block is compared against in ``Walk``: the build id each output had (an update must
name it as its previous build), every build id's files (two builds with one build id must be
byte-identical: runners, workers, a resumed build), each corpus' newest inventory report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from support.build_compare import build_digests
from support.readme_blocks import Command
from support.readme_outputs import (
    SPLITS,
    check_build_output,
    newest_inventory,
)


@dataclass
class Walk:
    """Where blocks run, and what earlier blocks left for later checks to compare with."""

    work: Path  # pmc15m and Python blocks run here: a user's working folder
    checkout: Path  # make blocks run here: the Makefile, pyproject.toml and .venv linked in
    build_ids: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # -> (by, files)
    last_build: dict[Path, str] = field(default_factory=dict)
    inventories: dict[Path, str] = field(default_factory=dict)
    identical: list[str] = field(default_factory=list)  # builds compared byte for byte


@dataclass(frozen=True)
class BlockRun:
    cwd: Path
    stdout: str
    stderr: str
    started: float  # time.time() when the block started


def json_objects(text: str) -> list[dict]:
    """The JSON objects printed in ``text`` (one a line or indented over several)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := text.find("{", at)) >= 0:
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            at += 1
            continue
        if isinstance(value, dict):
            found.append(value)
        at = end
    return found


def sizes_total(folder: Path) -> int:
    return sum(json.loads((folder / "sizes.json").read_text()).values())


def _register_build(out: Path, by: str, walk: Walk) -> dict:
    """Checks ``out``; a build id seen before must have written the same bytes."""
    manifest = check_build_output(out)
    build_id, files = manifest["build_id"], build_digests(out)
    if build_id in walk.build_ids:
        first, expected = walk.build_ids[build_id]
        differ = sorted(n for n in set(files) | set(expected) if files.get(n) != expected.get(n))
        assert not differ, f"{by} and {first} share build id {build_id} but differ in {differ}"
        walk.identical.append(f"{by} = {first}")
    else:
        walk.build_ids[build_id] = (by, files)
    walk.last_build[out] = build_id
    return manifest


def _check_update(out: Path, by: str, stdout: str, walk: Walk) -> None:
    """An update in place: chained to the build before, live shards, tombstones kept."""
    previous = walk.last_build.get(out)
    manifest = _register_build(out, by, walk)
    assert previous is not None, f"{out} was updated, but no earlier block built it"
    assert manifest.get("previous_build_id") == previous, f"{out}: previous_build_id is not {previous}"
    update = manifest.get("update", {})
    for fact in ("shards_rewritten", "bytes_rewritten"):
        assert fact in update, f"{out}/manifest.json: update lacks {fact}"
    tombstones = out / "tombstones" / f"{manifest['build_id']}.parquet"
    assert tombstones.is_file(), f"{tombstones} missing: the demo's second state retires samples"
    table = pq.read_table(tombstones)
    assert {"key", "shard", "reason"} <= set(table.column_names) and table.num_rows > 0, tombstones
    assert "rewritten" in stdout, "the update's summary does not say what it rewrote"


def check_build(cmd: Command, run: BlockRun, walk: Walk) -> None:
    if "--help" in cmd.args:
        assert "usage: pmc15m build" in run.stdout, f"{cmd.label}: no usage printed"
        return
    update = cmd.option("--update")
    out = run.cwd / (update or cmd.option("--output") or "")
    if update is not None:
        _check_update(out, f"{out.name} of {cmd.label}", run.stdout, walk)
    else:
        _register_build(out, f"{out.name} of {cmd.label}", walk)
    assert "finished in" in run.stdout, f"{cmd.label}: no build summary printed"


def check_make_corpus(cmd: Command, run: BlockRun, walk: Walk) -> None:
    corpus = run.cwd / (cmd.option("--output") or "")
    truth = json.loads((corpus / "ground-truth.json").read_text())
    newest = newest_inventory(corpus)
    if cmd.option("--state") not in (None, "1"):
        assert truth.get("state") == int(cmd.option("--state") or 0), f"{corpus}: ground truth state"
        before = walk.inventories.get(corpus)
        assert before is not None and newest > before, f"{corpus}: no newer inventory than {before}"
    walk.inventories[corpus] = newest


def check_inspect(cmd: Command, run: BlockRun, walk: Walk) -> None:
    assert "\nOK" in run.stdout, f"{cmd.label}: the integrity check did not say OK"


def check_report(cmd: Command, run: BlockRun, walk: Walk) -> None:
    report = run.cwd / cmd.args[0] / "report"
    for name in ("report.html", "stats.json"):
        assert (report / name).stat().st_mtime >= run.started - 1, f"{report / name} was not rewritten"
    json.loads((report / "stats.json").read_text())


def check_publish(cmd: Command, run: BlockRun, walk: Walk) -> None:
    assert "--dry-run" in cmd.args, f"{cmd.label} would upload: mark its block not run"
    out = run.cwd / cmd.args[0]
    assert "Would upload" in run.stdout or "would upload" in run.stdout, f"{cmd.label}: no file list"
    for split in SPLITS:
        for name in json.loads((out / split / "sizes.json").read_text()):
            assert f"{split}/{name}" in run.stdout, f"{cmd.label}: {split}/{name} not in the upload list"
    assert "rejects/" not in run.stdout, f"{cmd.label}: rejects/ would be uploaded"
    assert (out / "README.md").is_file(), f"{cmd.label}: no card written"


def check_train(cmd: Command, run: BlockRun, walk: Walk) -> None:
    folder = run.cwd / (cmd.option("--output") or "")
    checkpoints = sorted((folder / "checkpoints").glob("step_*.pt"))
    assert checkpoints, f"{cmd.label}: no checkpoint in {folder}/checkpoints"
    assert (folder / "tokenizer" / "tokenizer.json").is_file(), f"{cmd.label}: no tokenizer saved"
    metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert metrics and all(math.isfinite(m["loss"]) for m in metrics), f"{cmd.label}: metrics.jsonl"
    summaries = [o for o in json_objects(run.stdout) if "steps" in o and "final_loss" in o]
    assert summaries and summaries[-1]["steps"] == metrics[-1]["step"] > 0, f"{cmd.label}: summary"


def check_evaluate(cmd: Command, run: BlockRun, walk: Walk) -> None:
    data = cmd.option("--data")
    reports = [o for o in json_objects(run.stdout) if "retrieval" in o]
    assert data and reports, f"{cmd.label}: no retrieval report printed"
    retrieval = reports[-1]["retrieval"]
    pairs = sizes_total(run.cwd / Path(data).parent)
    assert retrieval["pairs"] == pairs, f"{cmd.label}: {retrieval['pairs']} pairs, sizes.json {pairs}"
    for way in ("image_to_text", "text_to_image"):
        recall = retrieval[way]
        assert set(recall) == {"1", "5", "10"} and all(0 <= r <= 1 for r in recall.values()), recall


def check_export(cmd: Command, run: BlockRun, walk: Walk) -> None:
    folder = run.cwd / (cmd.option("--output") or "")
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        assert (folder / name).is_file(), f"{cmd.label}: {folder / name} missing"


def check_make_demo(cmd: Command, run: BlockRun, walk: Walk) -> None:
    _register_build(run.cwd / "demo-out", f"demo-out of {cmd.label}", walk)
    walk.inventories[run.cwd / "demo-corpus"] = newest_inventory(run.cwd / "demo-corpus")
    assert "finished in" in run.stdout, f"{cmd.label}: no build summary printed"


def check_make_demo_update(cmd: Command, run: BlockRun, walk: Walk) -> None:
    corpus = run.cwd / "demo-corpus"
    before = walk.inventories.get(corpus)
    assert before is not None and newest_inventory(corpus) > before, f"{cmd.label}: corpus not changed"
    _check_update(run.cwd / "demo-out", f"demo-out of {cmd.label}", run.stdout, walk)


CHECKS: dict[tuple[str, str], Callable[[Command, BlockRun, Walk], None]] = {
    ("pmc15m", "make-corpus"): check_make_corpus,
    ("pmc15m", "build"): check_build,
    ("pmc15m", "inspect"): check_inspect,
    ("pmc15m", "report"): check_report,
    ("pmc15m", "publish"): check_publish,
    ("pmc15m", "train"): check_train,
    ("pmc15m", "evaluate"): check_evaluate,
    ("pmc15m", "export"): check_export,
    ("make", "demo"): check_make_demo,
    ("make", "demo-update"): check_make_demo_update,
}


def _check_webdataset(name: str, found: dict, cwd: Path) -> None:
    """The pipeline yields every sample ``sizes.json`` promises for the shards it reads (a
    brace pattern naming the whole split is checked by ``shard_pattern_problems``)."""
    folders = {Path(url).parent for url in found["urls"]}
    assert len(folders) == 1, f"`{name}` reads shards of several folders: {sorted(folders)}"
    folder = cwd / folders.pop()
    sizes = json.loads((folder / "sizes.json").read_text())
    names = [Path(url).name for url in found["urls"]]
    assert set(names) <= set(sizes), f"`{name}` reads {names}, {folder} holds {sorted(sizes)}"
    promised = sum(sizes[n] for n in names)
    assert found["samples"] == promised, (
        f"`{name}` yields {found['samples']} samples, {folder}/sizes.json promises {promised}"
    )
    if len(found["first"]) == 2:  # to_tuple("jpg", "txt"): an image and its caption
        image, caption = found["first"]
        assert image.startswith("PIL.") and caption == "builtins.str", f"`{name}`: {found['first']}"


def _check_datasets(name: str, found: dict, cwd: Path) -> None:
    """``load_dataset(folder)``: a split for each split with samples, every sample of its
    tars, images decoded (``jpg``) and captions as text (``txt``)."""
    for split, facts in found["splits"].items():
        folders = {Path(url).parent for url in facts["shards"]}
        assert len(folders) == 1, f"`{name}`[{split}] reads shards of {sorted(folders)}"
        folder = cwd / folders.pop()
        sizes = json.loads((folder / "sizes.json").read_text())
        assert folder.name == split and sorted(Path(u).name for u in facts["shards"]) == sorted(sizes)
        assert facts["rows"] == sum(sizes.values()), f"`{name}`[{split}]: {facts['rows']} rows"
        assert facts["features"].get("jpg") == "Image", f"`{name}`[{split}]: {facts['features']}"
        assert facts["features"].get("txt") == "Value", f"`{name}`[{split}]: {facts['features']}"
    out = cwd / Path(next(iter(found["splits"].values()))["shards"][0]).parent.parent
    with_samples = {s for s in SPLITS if sizes_total(out / s)}
    assert set(found["splits"]) == with_samples, f"`{name}` has {sorted(found['splits'])}, not {with_samples}"


def _check_pyarrow(name: str, found: dict, cwd: Path) -> None:
    folders = {Path(f).parent for f in found["files"]}
    assert len(folders) == 1, f"`{name}` reads Parquet of several folders: {sorted(folders)}"
    folder = cwd / folders.pop()
    assert found["rows"] == sizes_total(folder), f"`{name}`: {found['rows']} rows for {folder}"


def _check_transformers(name: str, found: dict, cwd: Path) -> None:
    assert found["class"].startswith("VisionTextDualEncoder"), f"`{name}` is a {found['class']}"


def _check_tensor(name: str, found: dict, cwd: Path) -> None:
    assert found["finite"], f"`{name}` holds NaN or infinity"


def _check_jats(name: str, found: dict, cwd: Path) -> None:
    """The article parsed on its own gives the captions the build wrote for it."""
    assert found["figures"] and found["title"], f"`{name}`: no figures or no title"
    rows = []
    for split in SPLITS:
        for path in sorted((cwd / "out" / split).glob("*.parquet")):
            table = pq.read_table(path, columns=["pmcid", "caption"]).to_pylist()
            rows += [r["caption"] for r in table if r["pmcid"] == found["pmcid"]]
    captions = {f["caption"] for f in found["figures"]}
    assert rows and set(rows) <= captions, f"`{name}`: the build wrote {rows}, the parser gave {captions}"


PROBED: dict[str, Callable[[str, dict, Path], None]] = {
    "webdataset": _check_webdataset,
    "datasets": _check_datasets,
    "pyarrow": _check_pyarrow,
    "transformers": _check_transformers,
    "tensor": _check_tensor,
    "jats": _check_jats,
}


def check_python(summary: dict[str, dict], cwd: Path) -> int:
    """Checks what a Python block made; returns how many objects were checked."""
    checked = 0
    for name, found in summary.items():
        if found["kind"] in PROBED:
            PROBED[found["kind"]](name, found, cwd)
            checked += 1
    return checked
