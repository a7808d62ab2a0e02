"""``make-corpus --state 2`` and ``pmc15m.corpus.changes``: state 2 is one set of bytes however
it is made, what it says it changed is what the files and the inventory show, and
``change_in_place`` changes one article's ETag and nothing else but a newer report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from pipelines.cli.main import main
from pmc15m.corpus.changes import Changes
from pmc15m.corpus.edits import change_in_place, newest_report, next_report_date
from pmc15m.corpus.generator import GROUND_TRUTH, generate_corpus
from pmc15m.sources import inventory
from pmc15m.sources.errors import SourceError
from pmc15m.sources.inventory import INVENTORY_PREFIX

ARGS = ("--seed", "3", "--articles", "20")  # a corpus of 20 articles, like small_corpus


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` by relative path, as a SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def report_rows(root: Path, report: str) -> dict[str, tuple[str, str]]:
    """metadata key -> (LastModified, ETag) in inventory report ``report`` under ``root``."""
    parts = inventory.parse_manifest((root / inventory.manifest_key(report)).read_bytes())
    return {
        row.metadata_key: (row.last_modified, row.etag)
        for key in parts
        for row in inventory.parse_inventory_part((root / key).read_bytes())
    }


def make_corpus(*argv: str) -> tuple[int, str]:
    """Exit status and stdout of ``pmc15m make-corpus argv``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["make-corpus", *argv])
    return status, out.getvalue()


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> dict[str, Path | str]:
    """State 1, state 2 made from scratch, and state 1 turned into state 2 in place."""
    base = tmp_path_factory.mktemp("states")
    paths = {name: base / name for name in ("state1", "scratch", "in_place")}
    assert make_corpus("--output", str(paths["state1"]), *ARGS)[0] == 0
    shutil.copytree(paths["state1"], paths["in_place"])
    status, printed = make_corpus("--output", str(paths["scratch"]), *ARGS, "--state", "2")
    assert status == 0
    assert make_corpus("--output", str(paths["in_place"]), *ARGS, "--state", "2")[0] == 0
    return {**paths, "printed": printed}


@pytest.fixture(scope="module")
def changes(states) -> Changes:
    record = json.loads((states["scratch"] / GROUND_TRUTH).read_text())["changes"]
    return Changes(**{**record, "added": tuple(record["added"])})


def test_state_2_is_the_same_bytes_from_scratch_in_place_and_made_twice(states):
    scratch = tree(states["scratch"])
    assert tree(states["in_place"]) == scratch
    assert make_corpus("--output", str(states["in_place"]), *ARGS, "--state", "2")[0] == 0
    assert tree(states["in_place"]) == scratch
    assert scratch != tree(states["state1"])


def test_the_summary_names_every_change(states, changes):
    printed = states["printed"]
    assert changes.inventory_date in printed
    for pmcid in (*changes.added, changes.removed, changes.new_version, changes.changed):
        assert pmcid in printed
    assert printed == changes.summary(states["scratch"])


def test_the_changes_are_true_of_the_files_and_the_newest_inventory(states, changes):
    state1, state2 = states["state1"], states["scratch"]
    truth = json.loads((state1 / GROUND_TRUTH).read_text())
    assert newest_report(state2) == changes.inventory_date == next_report_date(truth["inventory_date"])
    old, new = report_rows(state1, truth["inventory_date"]), report_rows(state2, changes.inventory_date)
    day = f"{changes.inventory_date[:10]}T00:00:00.000Z"
    added = {f"metadata/{p}.1.json" for p in changes.added} | {f"metadata/{changes.new_version}.2.json"}
    assert set(new) - set(old) == added
    assert set(old) - set(new) == {f"metadata/{changes.removed}.1.json"}
    assert not (state2 / f"{changes.removed}.1").exists()
    changed = f"metadata/{changes.changed}.1.json"
    assert new[changed][1] != old[changed][1] and new[changed][0] == day
    assert all(new[key] == old[key] for key in set(old) & set(new) - {changed})  # v1 superseded, kept
    assert all(new[key][0] == day for key in added)
    on_disk = {
        f"metadata/{p.name}": hashlib.md5(p.read_bytes()).hexdigest() for p in state2.glob("metadata/*")
    }
    assert {key: etag for key, (_, etag) in new.items()} == on_disk
    before = tree(state1)  # older reports are kept as they were: the removed article is there
    assert all(tree(state2)[name] == digest for name, digest in before.items() if name.startswith("inv"))


def test_the_planted_article_copies_the_released_image_and_the_truth_records_state_2(states, changes):
    state1, state2 = states["state1"], states["scratch"]
    truth1 = json.loads((state1 / GROUND_TRUTH).read_text())
    released = next(f for f in truth1["figures"] if f["key"] == changes.released_key)
    assert released["expected"] == "kept"
    image = (state2 / released["media_key"]).read_bytes()
    assert any(p.read_bytes() == image for p in (state2 / f"{changes.planted}.1").iterdir())
    truth2 = json.loads((state2 / GROUND_TRUTH).read_text())
    assert truth2.pop("state") == 2 and truth2.pop("changes") == json.loads(
        json.dumps(dataclasses.asdict(changes))
    )
    assert truth2 == truth1  # its rows keep describing state 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--seed", "4", "--articles", "20"), "holds the corpus of --seed 3 --articles 20"),
        (("--seed", "3"), "holds the corpus of --seed 3 --articles 20"),
        ((*ARGS, "--figure_scale", "2"), "another --figure_scale"),
    ],
)
def test_state_2_refuses_a_corpus_of_other_options(states, tmp_path, capsys, argv, message):
    corpus = tmp_path / "corpus"
    shutil.copytree(states["state1"], corpus)
    with pytest.raises(SystemExit) as exc:
        make_corpus("--output", str(corpus), *argv, "--state", "2")
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("pmc15m: error: ") and err.count("\n") == 1
    assert tree(corpus) == tree(states["state1"])


def test_state_2_refuses_a_changed_corpus_or_no_corpus_and_leaves_none_half_made(states, tmp_path, capsys):
    changed = tmp_path / "changed"
    shutil.copytree(states["state1"], changed)
    change_in_place(changed, json.loads((changed / GROUND_TRUTH).read_text())["articles"][-1]["pmcid"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("not a corpus")
    small = tmp_path / "small"
    for path, argv, message in (
        (changed, ARGS, "has changed since"),
        (other, ARGS, "holds no generated corpus"),
        (small, ("--articles", "3"), "too small for state 2"),
    ):
        with pytest.raises(SystemExit) as exc:
            make_corpus("--output", str(path), *argv, "--state", "2")
        assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not small.exists()


@pytest.fixture()
def small_corpus_copy(tmp_path) -> Path:
    root = tmp_path / "corpus"
    generate_corpus(root, seed=1, n_articles=8)
    return root


def test_change_in_place_changes_one_etag_and_adds_only_a_newer_report(small_corpus_copy):
    root = small_corpus_copy
    truth = json.loads((root / GROUND_TRUTH).read_text())
    pmcid = truth["articles"][0]["pmcid"]
    images: list[bytes] = []
    for _ in range(2):  # repeatable: a newer report and another picture each time
        before, base = tree(root), newest_report(root)
        report = change_in_place(root, pmcid)
        after = tree(root)
        assert report == next_report_date(base) == newest_report(root)
        assert set(before) <= set(after)
        assert all(name.startswith(INVENTORY_PREFIX) for name in set(after) - set(before))
        rewritten = {name for name in before if after[name] != before[name]}
        media = [n for n in rewritten if not n.endswith(".json")]
        assert rewritten == {f"metadata/{pmcid}.1.json", f"{pmcid}.1/{pmcid}.1.json", *media}
        assert len(media) == 1
        images.append((root / media[0]).read_bytes())
        old, new = report_rows(root, base), report_rows(root, report)
        assert {key for key in new if new[key] != old[key]} == {f"metadata/{pmcid}.1.json"}
        assert (
            new[f"metadata/{pmcid}.1.json"][1]
            == hashlib.md5((root / "metadata" / f"{pmcid}.1.json").read_bytes()).hexdigest()
        )
    assert images[0] != images[1]
    row = next(f for f in truth["figures"] if f["media_key"] == media[0])  # a figure the truth describes
    with Image.open(root / media[0]) as img:
        assert img.size == (row["width"], row["height"]) and row["expected"] == "kept"


def test_change_in_place_can_change_every_article_one_after_another(small_corpus_copy):
    root = small_corpus_copy
    pmcids = sorted({a["pmcid"] for a in json.loads((root / GROUND_TRUTH).read_text())["articles"]})
    for pmcid in pmcids:
        base = newest_report(root)
        report = change_in_place(root, pmcid, seed=7)
        old, new = report_rows(root, base), report_rows(root, report)
        assert [key.split("/")[1].split(".")[0] for key in new if new[key] != old[key]] == [pmcid]
    with pytest.raises(SourceError, match="no article PMC1 "):
        change_in_place(root, "PMC1")


def test_retract_in_place_flags_one_article_and_lists_it_in_a_newer_report(small_corpus_copy):
    from pmc15m.corpus.edits import retract_in_place
    from pmc15m.sources.metadata import parse_metadata

    root = small_corpus_copy
    pmcid = json.loads((root / GROUND_TRUTH).read_text())["articles"][1]["pmcid"]
    before, base = tree(root), newest_report(root)
    report = retract_in_place(root, pmcid)
    after = tree(root)
    rewritten = {name for name in before if after[name] != before[name]}
    assert rewritten == {f"metadata/{pmcid}.1.json", f"{pmcid}.1/{pmcid}.1.json"}
    old, new = report_rows(root, base), report_rows(root, report)
    assert {key for key in new if new[key] != old[key]} == {f"metadata/{pmcid}.1.json"}
    assert parse_metadata((root / "metadata" / f"{pmcid}.1.json").read_bytes()).is_retracted
    with pytest.raises(SourceError, match="no article PMC1 "):
        retract_in_place(root, "PMC1")
