"""The output loads with the readers people use: webdataset, open_clip's shard and size
conventions, Hugging Face ``datasets`` (through the card's configs) and ``pyarrow.dataset``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import webdataset as wds
from braceexpand import braceexpand
from PIL import Image

from pmc15m.publish.card_features import sample_features
from pmc15m.publish.hub import prepare
from pmc15m.rules.splits import SPLITS
from pmc15m.shards.manifest import read_manifest
from pmc15m.shards.schema import sample_schema


def _keys(out: Path, split: str) -> list[str]:
    return [
        k for p in sorted((out / split).glob("[0-9]*.parquet")) for k in pq.read_table(p)["key"].to_pylist()
    ]


def _open_clip_size(shards: str) -> int:
    """open_clip's get_dataset_size: sum the sizes.json entries of the expanded shard list."""
    shards_list = list(braceexpand(shards))
    sizes = json.loads(Path(os.path.dirname(shards_list[0]), "sizes.json").read_text())
    return sum(int(sizes[os.path.basename(shard)]) for shard in shards_list)


def test_open_clip_shard_pattern_and_sizes(small_build):
    manifest = read_manifest(str(small_build))
    train = manifest["splits"]["train"]
    assert train["shards"] >= 6
    pattern = f"{small_build}/train/{{00000..{train['shards'] - 1:05d}}}.tar"
    assert sorted(braceexpand(pattern)) == sorted(str(p) for p in (small_build / "train").glob("*.tar"))
    assert _open_clip_size(pattern) == train["samples"]


def test_webdataset_reads_every_sample_with_image_caption_and_metadata(small_build):
    train = read_manifest(str(small_build))["splits"]["train"]
    pattern = f"{small_build}/train/{{00000..{train['shards'] - 1:05d}}}.tar"
    dataset = wds.WebDataset(pattern, shardshuffle=False, empty_check=False).decode("pil")
    seen = []
    for sample in dataset:
        meta = sample["json"]
        assert isinstance(sample["jpg"], Image.Image)
        assert sample["jpg"].size == (meta["width"], meta["height"])
        assert sample["txt"] == meta["caption"] and meta["key"] == sample["__key__"]
        seen.append(sample["__key__"])
    assert sorted(seen) == sorted(_keys(small_build, "train"))


def test_a_fresh_build_loads_with_datasets_as_it_is(small_build, tmp_path):
    """Every build writes its card, so ``load_dataset(out)`` reads the images from the tars."""
    import datasets

    manifest = read_manifest(str(small_build))
    loaded = datasets.load_dataset(str(small_build), cache_dir=str(tmp_path / "cache"))
    assert sorted(loaded) == sorted(s for s in SPLITS if manifest["splits"][s]["shards"])
    declared = datasets.Features._from_yaml_list(sample_features(manifest))  # the card's
    for split, dataset in loaded.items():
        assert dataset.features == declared and isinstance(dataset.features["jpg"], datasets.Image)
        assert dataset.num_rows == manifest["splits"][split]["samples"]
        assert sorted(dataset["__key__"]) == sorted(_keys(small_build, split))
    row = loaded["train"][0]
    assert row["jpg"].size == (row["json"]["width"], row["json"]["height"])
    assert row["txt"] == row["json"]["caption"]


def test_datasets_json_column_holds_the_parquet_rows(small_build, tmp_path):
    """Through the declared features the tars' ``json`` column is the Parquet beside them,
    value for value: the lists a split's first samples leave empty (a bilingual figure's
    ``caption_translations``, ``mentions``, ``subcaptions``) and the nullable numbers included."""
    import datasets

    loaded = datasets.load_dataset(str(small_build), cache_dir=str(tmp_path / "cache"))
    parquet = {
        r["key"]: r
        for s in SPLITS
        for p in (small_build / s).glob("*.parquet")
        for r in pq.read_table(p).to_pylist()
    }
    rows = {r["__key__"]: r["json"] for d in loaded.values() for r in d.select_columns(["__key__", "json"])}
    assert rows == parquet
    for name in ("caption_translations", "mentions", "subcaptions"):
        assert any(r[name] for r in rows.values()), f"the small corpus must hold a non-empty {name}"


def test_publish_keeps_the_loading_contract_of_the_build_card(small_build, tmp_path):
    """The card ``publish`` writes names the repository and points at the same tars."""
    import datasets

    out = Path(shutil.copytree(small_build, tmp_path / "out"))
    built = (out / "README.md").read_text()
    prepare(str(out), "pmc15m-org/figures")
    published = (out / "README.md").read_text()
    assert built.split("---")[1] == published.split("---")[1]  # the same YAML front matter
    assert "pmc15m-org/figures" in published and "pmc15m-org/figures" not in built
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    splits = read_manifest(str(out))["splits"]
    assert {name: d.num_rows for name, d in loaded.items()} == {
        name: s["samples"] for name, s in splits.items() if s["samples"]
    }


def test_without_the_card_the_folder_does_not_load_images(small_build, tmp_path):
    """Why the build writes the card: without its configs the loader picks a module by file
    counts, not the tars."""
    import datasets

    bare = Path(shutil.copytree(small_build, tmp_path / "bare"))
    (bare / "README.md").unlink()
    try:
        loaded = datasets.load_dataset(str(bare), cache_dir=str(tmp_path / "cache"))
    except Exception:  # datasets 5.2 picks the json module (stats + sizes files) and fails
        return
    assert all("jpg" not in d.features for d in loaded.values())


def test_pyarrow_dataset_reads_the_parquet_metadata(small_build):
    rows = [
        r for s in SPLITS for p in (small_build / s).glob("*.parquet") for r in pq.read_table(p).to_pylist()
    ]
    total = 0
    for split in SPLITS:
        if not any((small_build / split).glob("*.parquet")):
            continue
        dataset = pads.dataset(str(small_build / split), format="parquet", exclude_invalid_files=True)
        assert dataset.schema.names == sample_schema().names
        total += dataset.count_rows()
        cc_by = dataset.count_rows(filter=pads.field("license_code") == "CC BY")
        assert cc_by == sum(1 for r in rows if r["split"] == split and r["license_code"] == "CC BY")
    assert total == read_manifest(str(small_build))["counts"]["samples_kept"]
