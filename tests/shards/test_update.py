"""``pmc15m build --update``: an update of corpus state 1 to state 2 equals a clean build of
state 2 in every sample its shards hold, rewrites only the released shards that held a
retired sample, and chains the manifest.

Representative rule (pmc15m.shards.update): a released live sample always wins its duplicate
cluster. In this corpus the two builds agree on every representative, because the released
image the planted article copies belongs to an article with a smaller PMCID and the same
version, which is also what a clean build prefers; the test checks that premise rather than
relying on it silently.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SMALL_ARTICLES, SMALL_BUILD_ARGS, SMALL_SEED
from support.readers import reader_views, shard_samples

from pipelines.cli.main import main
from pmc15m.corpus.changes import Changes, derive_state
from pmc15m.rules.splits import SPLITS
from pmc15m.shards import index, update
from pmc15m.shards.inspect import inspect_output

SHARD_PARTS = (".tar", ".parquet", "_stats.json")


def _files(root: Path, parts: tuple[str, ...] = (*SPLITS, "rejects")) -> dict[str, bytes]:
    found = {}
    for part in parts:
        for path in sorted((root / part).rglob("*")):
            if path.is_file() and path.name != "sizes.json":
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


def _all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _shard_of(name: str) -> str:
    """``train/00003_stats.json`` -> ``train/00003``."""
    return name.rsplit(".", 1)[0].removesuffix("_stats")


def _rejects(out: Path) -> list[dict]:
    return [row for p in sorted((out / "rejects").glob("*.parquet")) for row in pq.read_table(p).to_pylist()]


def _articles(out: Path) -> set[tuple]:
    rows = index.read_index(str(out))[0]
    return {(r["pmcid"], r["version"], r["metadata_etag"], r["outcome"], r["samples_kept"]) for r in rows}


@pytest.fixture(scope="module")
def updated(small_corpus, small_build, tmp_path_factory) -> tuple[Changes, Path, Path]:
    """(changes, state 1 updated to state 2, a clean build of state 2)."""
    root = tmp_path_factory.mktemp("update")
    state2 = root / "state2"
    changes = derive_state(small_corpus, state2, seed=SMALL_SEED, n_articles=SMALL_ARTICLES)
    out = root / "updated"
    shutil.copytree(small_build, out)
    assert main(["build", "--source", str(state2), "--update", str(out), *SMALL_BUILD_ARGS]) == 0
    clean = root / "clean"
    assert main(["build", "--source", str(state2), "--output", str(clean), *SMALL_BUILD_ARGS]) == 0
    return changes, out, clean


def test_live_samples_of_the_update_equal_a_clean_build_of_state_2(updated):
    changes, out, clean = updated
    live, want = shard_samples(out), shard_samples(clean)
    assert sorted(live) == sorted(want)
    assert live == want  # same split, caption and image bytes per key
    touched = {changes.changed, changes.new_version, *changes.added}
    assert any(key.split("_")[0] in touched for key in live), "the update added nothing to compare"
    assert not any(key.startswith(f"{changes.removed}_") for key in live)
    assert all(not key.startswith(f"{changes.new_version}_1_") for key in live)  # superseded
    assert _articles(out) == _articles(clean)  # outcome and kept count of every listed version
    assert inspect_output(str(out)).problems == []


def test_only_shards_that_held_a_retired_sample_are_rewritten_and_new_ones_come_after(small_build, updated):
    _, out, _ = updated
    before, after = _files(small_build), _files(out)
    manifest = json.loads((out / "manifest.json").read_text())
    tombstones = pq.read_table(out / "tombstones" / f"{manifest['build_id']}.parquet").to_pylist()
    rewritten = {t["shard"] for t in tombstones}
    untouched = {
        n: b for n, b in before.items() if n.rsplit(".", 1)[0].removesuffix("_stats") not in rewritten
    }
    assert untouched and {n: after[n] for n in untouched} == untouched
    for shard in rewritten:
        assert after[f"{shard}.tar"] != before[f"{shard}.tar"]
        keys = set(pq.read_table(out / f"{shard}.parquet")["key"].to_pylist())
        old = set(pq.read_table(small_build / f"{shard}.parquet")["key"].to_pylist())
        assert keys == old - {t["key"] for t in tombstones if t["shard"] == shard}
    assert manifest["update"]["shards_rewritten"] == len(rewritten)
    assert manifest["update"]["bytes_rewritten"] == sum(
        len(after[f"{shard}{part}"]) for shard in rewritten for part in (".tar", ".parquet")
    )
    added = manifest["update"]["shards_added"]
    for shard in added:
        split, name = shard.split("/")
        released = [int(p.stem) for p in (small_build / split).glob("*.tar")]
        assert int(name) > max(released, default=-1)
        assert all((out / split / f"{name}{part}").exists() for part in SHARD_PARTS)
    sizes = {split: json.loads((out / split / "sizes.json").read_text()) for split in SPLITS}
    assert sum(len(s) for s in sizes.values()) == sum(len(list((out / s).glob("*.tar"))) for s in SPLITS)


def test_the_manifest_chains_the_builds_and_says_what_changed(small_build, updated):
    changes, out, _ = updated
    previous = json.loads((small_build / "manifest.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["previous_build_id"] == previous["build_id"] != manifest["build_id"]
    assert manifest["build_chain"] == [previous["build_id"]]
    assert manifest["source"]["inventory_date"] == changes.inventory_date
    update = manifest["update"]
    assert update["versions_processed"] == 2 + len(changes.added)  # changed, new version, added
    old = index.read_index(str(small_build))[1]
    kept_by = {p: sum(1 for r in old if r["pmcid"] == p) for p in (changes.removed, changes.new_version)}
    kept_by[changes.changed] = sum(1 for r in old if r["pmcid"] == changes.changed)
    assert update["tombstones"] == {
        "changed": kept_by[changes.changed],
        "removed": kept_by[changes.removed],
        "superseded": kept_by[changes.new_version],
    }
    tombstones = pq.read_table(out / "tombstones" / f"{manifest['build_id']}.parquet").to_pylist()
    assert {t["build_id"] for t in tombstones} == {manifest["build_id"]}
    dataset = manifest["dataset"]
    assert (
        dataset["samples"]
        == len(shard_samples(out))
        == sum(s["samples"] for s in manifest["splits"].values())
    )
    assert dataset["tombstoned"] == len(tombstones) == sum(update["tombstones"].values())


def test_a_new_copy_of_a_released_image_is_a_duplicate_of_the_released_key(updated):
    changes, out, clean = updated
    released = {r["key"] for r in index.read_index(str(out))[1] if r["build_id"] != _build_id(out)}
    assert released
    copies = [r for r in _rejects(out) if r["pmcid"] == changes.planted and r["duplicate_of"] in released]
    assert [(r["reject_reason"], r["duplicate_of"]) for r in copies] == [
        ("duplicate_exact", changes.released_key)
    ]
    assert changes.released_key in shard_samples(out)
    # The premise of agreeing with a clean build: it prefers the released sample too.
    clean_copies = [r for r in _rejects(clean) if r["duplicate_of"] == changes.released_key]
    assert [r["pmcid"] for r in clean_copies] == [changes.planted]


def _build_id(out: Path) -> str:
    return json.loads((out / "manifest.json").read_text())["build_id"]


def test_a_second_update_without_changes_writes_nothing(small_corpus, updated, tmp_path, capsys):
    _, out, _ = updated
    state2 = out.parent / "state2"
    before = _all_files(out)
    assert main(["build", "--source", str(state2), "--update", str(out), *SMALL_BUILD_ARGS]) == 0
    assert "up to date" in capsys.readouterr().out
    assert _all_files(out) == before


def test_update_refuses_other_options_and_outputs_that_are_not_builds(updated, tmp_path, capsys):
    _, out, _ = updated
    state2 = out.parent / "state2"
    other = [a if a != "16" else "32" for a in SMALL_BUILD_ARGS]
    for argv, message in (
        (["--update", str(out), *other], "options differ"),
        (["--update", str(tmp_path)], "no finished build"),
        (["--update", str(out), "--output", str(tmp_path), *SMALL_BUILD_ARGS], "writes into the build"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["build", "--source", str(state2), *argv])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
    assert not (out / "_work").exists()  # a refused update writes nothing


def test_an_update_killed_while_rewriting_shards_resumes_to_the_same_files(small_build, updated, tmp_path):
    """Killed after its new shards, half of its rewritten shards, the merged index and the
    tombstones, before the manifest: the rerun plans from the staged base (not the
    half-merged index), rewrites the rest and ends identical. ``inspect`` says the update
    did not finish meanwhile."""
    _, out, _ = updated
    crashed = tmp_path / "crashed"
    shutil.copytree(small_build, crashed)
    update.stage_base(str(crashed))  # the first thing an update writes
    rewritten = sorted({t["shard"] for t in index.read_tombstones(str(out))})
    assert len(rewritten) >= 2
    done = tuple(rewritten[: len(rewritten) // 2])
    for name, data in _all_files(out).items():
        written = name.startswith(("index/", "tombstones/", *done)) or not (crashed / name).exists()
        if written and not name.startswith(("report/", "manifest.json", "README.md")):
            (crashed / name).parent.mkdir(parents=True, exist_ok=True)
            (crashed / name).write_bytes(data)
    assert any("did not finish" in p for p in inspect_output(str(crashed)).problems)
    argv = ["build", "--source", str(out.parent / "state2"), "--update", str(crashed), *SMALL_BUILD_ARGS]
    assert main(argv) == 0
    assert _all_files(crashed) == _all_files(out)
    assert inspect_output(str(crashed)).problems == []


def test_every_reader_sees_exactly_the_samples_of_a_clean_build(updated):
    """webdataset over the brace pattern, open_clip's sizes.json, datasets with the build's
    own card, pyarrow and the trainer: after an update that removed, superseded and
    changed articles, each reads what a clean build of the new state holds."""
    changes, out, clean = updated
    got, want = reader_views(out), reader_views(clean)
    assert got.keys() == want.keys() and "datasets" in got
    for reader in got:
        assert got[reader] == want[reader], reader
    keys = {key for split in got["datasets"].values() for key, _ in split}  # type: ignore[union-attr]
    assert keys and not any(k.startswith((f"{changes.removed}_", f"{changes.new_version}_1_")) for k in keys)
