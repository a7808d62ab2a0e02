"""The card's declared features, against the real ``datasets`` loader.

``datasets``' webdataset builder infers a split's features from its first five samples
unless the card declares them; a list empty in all five then reads as ``list<null>`` and a
later non-empty one fails the load. These tests write shards where only the sixth sample on
has non-empty lists, and show the load fails with the inferred features and works, with the
schema's types, with the declared ones.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from PIL import Image

from pmc15m.core.record import Sample
from pmc15m.publish.card import CARD_FILE, render_card, validate_card, write_card
from pmc15m.publish.card_features import dataset_info, sample_features, value_yaml
from pmc15m.shards.schema import sample_schema
from pmc15m.shards.writers import write_shard

datasets = pytest.importorskip("datasets")
N_EMPTY = 6  # more than the builder's NUM_EXAMPLES_FOR_FEATURES_INFERENCE (5)


def _jpeg(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, 80, 120)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _sample(i: int, split: str, full: bool) -> Sample:
    """Sample ``i``; ``full``: non-empty lists (and a whole-number ``pixel_std``)."""
    key = f"PMC{1000 + i}_1_f{i}"
    return Sample(
        key=key,
        pmcid=f"PMC{1000 + i}",
        version=1,
        caption=f"Caption of figure {i} with enough words.",
        subcaptions=[{"panel": "A", "text": "the left panel"}] if full else [],
        caption_translations=[{"lang": "pt", "label": "Figura 1", "text": "Legenda"}] if full else [],
        mentions=["as Figure 1 shows"] if full else [],
        subjects=["Oncology"] if full else [],
        year=2020 if full else None,
        license_code="CC BY",
        width=40,
        height=30,
        pixel_std=7 if full else 1.5,
        cluster_id=key,
        split=split,
        image=_jpeg(i),
    )


def _manifest(counts: dict[str, int], output_format: str = "jpeg") -> dict:
    return {
        "build_id": "b-test",
        "config": {"image": {"output_format": output_format}},
        "splits": {s: {"samples": n, "shards": 1} for s, n in counts.items()},
    }


@pytest.fixture(scope="module")
def late_lists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train and test: six samples with empty lists, then two (train) or one (test) with elements.

    Both splits, because the builder infers the features from one split's first tar (in
    datasets 5.2 the last split it lists) and applies them to all.
    """
    out = tmp_path_factory.mktemp("late-lists") / "out"
    train = [_sample(i, "train", full=i >= N_EMPTY) for i in range(N_EMPTY + 2)]
    test = [_sample(50 + i, "test", full=i >= N_EMPTY) for i in range(N_EMPTY + 1)]
    write_shard(str(out / "train"), "00000", train)
    write_shard(str(out / "test"), "00000", test)
    write_card(str(out), _manifest({"train": len(train), "test": len(test)}))
    return out


def _load(out: Path, cache: Path):
    return datasets.load_dataset(str(out), cache_dir=str(cache))


def _expected_features() -> datasets.Features:
    """The schema's types as ``datasets`` itself reads them from the shard Parquet's schema."""
    return datasets.Features(
        {
            "jpg": datasets.Image(),
            "json": dict(datasets.Features.from_arrow_schema(sample_schema())),
            "txt": datasets.Value("string"),
            "__key__": datasets.Value("string"),
            "__url__": datasets.Value("string"),
        }
    )


def test_the_late_non_empty_lists_load_with_the_schemas_types(late_lists, tmp_path):
    loaded = _load(late_lists, tmp_path / "cache")
    assert {name: d.num_rows for name, d in loaded.items()} == {"train": N_EMPTY + 2, "test": N_EMPTY + 1}
    for split in loaded.values():
        assert split.features == _expected_features()
        assert list(split.features) == ["jpg", "json", "txt", "__key__", "__url__"]
    rows = sorted(loaded["train"], key=lambda r: r["__key__"])
    assert [bool(r["json"]["caption_translations"]) for r in rows] == [False] * N_EMPTY + [True] * 2
    late = rows[N_EMPTY]["json"]
    assert late["caption_translations"] == [{"lang": "pt", "label": "Figura 1", "text": "Legenda"}]
    assert late["subcaptions"] == [{"panel": "A", "text": "the left panel"}]
    assert late["mentions"] == ["as Figure 1 shows"] and late["year"] == 2020
    assert late["pixel_std"] == 7.0 and isinstance(late["pixel_std"], float)
    assert rows[0]["json"]["year"] is None
    assert rows[0]["jpg"].size == (40, 30) and rows[0]["txt"] == rows[0]["json"]["caption"]


def _edited(card: str, edit) -> str:
    """``card`` with ``edit`` applied to its parsed front matter."""
    front, body = card.removeprefix("---\n").split("\n---\n", 1)
    meta = yaml.safe_load(front)
    edit(meta)
    return f"---\n{yaml.safe_dump(meta, sort_keys=False)}---\n{body}"


def test_without_the_declared_features_the_same_output_fails_to_load(late_lists, tmp_path):
    """The test above has teeth: drop ``dataset_info`` and the loader's guess breaks."""
    stripped = Path(shutil.copytree(late_lists, tmp_path / "stripped"))
    card = (stripped / CARD_FILE).read_text()
    (stripped / CARD_FILE).write_text(_edited(card, lambda meta: meta.pop("dataset_info")))
    with pytest.raises(Exception) as failure:  # DatasetGenerationError from a TypeError
        _load(stripped, tmp_path / "cache")
    assert any("cast" in str(error).lower() for error in _causes(failure.value)), failure.value


def _causes(error: BaseException | None) -> list[BaseException]:
    chain = []
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def test_the_json_features_are_the_parquet_columns(late_lists):
    """The tars' ``json`` column and the Parquet beside them hold the same types, so a
    reader switching between them (the README names both) sees one dataset."""
    parquet = pq.read_schema(late_lists / "train" / "00000.parquet")
    declared = datasets.Features._from_yaml_list(sample_features(_manifest({})))
    assert dict(declared["json"]) == dict(datasets.Features.from_arrow_schema(parquet))
    assert list(declared["json"]) == parquet.names == sample_schema().names


def test_a_webp_build_declares_its_image_member(tmp_path):
    features = {f["name"]: f for f in sample_features(_manifest({}, "webp"))}
    assert features["webp"] == {"name": "webp", "dtype": "image"} and "jpg" not in features


def test_nested_and_binary_types_have_the_form_datasets_reads():
    """Types the schema files allow but the sample schema does not use yet."""
    nested = pa.list_(pa.list_(pa.struct([pa.field("x", pa.int32()), pa.field("b", pa.bool_())])))
    assert value_yaml(nested) == {
        "list": {"list": [{"name": "x", "dtype": "int32"}, {"name": "b", "dtype": "bool"}]}
    }
    parsed = datasets.Features._from_yaml_list([{"name": "n", **value_yaml(nested)}])
    assert parsed == datasets.Features.from_arrow_schema(pa.schema([pa.field("n", nested)]))
    assert value_yaml(pa.binary()) == {"dtype": "string"}  # base64 text in the JSON member
    with pytest.raises(ValueError, match="no dataset card dtype"):
        value_yaml(pa.float32())


def _drop_lang(meta: dict) -> None:
    json_struct = next(f for f in meta["dataset_info"]["features"] if f["name"] == "json")["struct"]
    translations = next(f for f in json_struct if f["name"] == "caption_translations")
    translations["list"] = [f for f in translations["list"] if f["name"] != "lang"]


def test_the_card_is_deterministic_and_validation_wants_the_features():
    manifest = _manifest({"train": N_EMPTY + 2, "test": N_EMPTY + 1})
    card = render_card(manifest, {"CC BY": 9}, "org/name")
    assert card == render_card(manifest, {"CC BY": 9}, "org/name")
    files = ["train/00000.tar", "test/00000.tar"]
    assert validate_card(card, files) == []
    assert validate_card(_edited(card, lambda meta: None), files) == []  # the edit round-trips
    without = _edited(card, lambda meta: meta.pop("dataset_info"))
    assert validate_card(without, files) == [
        "config default: no dataset_info features (the loader would guess the types)"
    ]
    assert validate_card(_edited(card, _drop_lang), files) == [
        "config default: the json features differ from the sample schema"
    ]
    no_txt = _edited(card, lambda meta: meta["dataset_info"]["features"].pop(2))
    assert validate_card(no_txt, files) == [
        "config default: features lack the image, txt, __key__ or __url__"
    ]
    several = dataset_info(["default", "other"], manifest)
    assert [info["config_name"] for info in several] == ["default", "other"]
