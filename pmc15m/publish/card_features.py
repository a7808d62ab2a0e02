"""The ``dataset_info: features`` of the dataset card: the types ``datasets`` loads the tars with.

Without them, ``datasets``' webdataset builder infers the features from the first five
samples of a split: a list that is empty in all five (``caption_translations``,
``mentions``, ``subcaptions`` usually are) reads as ``list<null>``, and the first later
sample with an element fails the whole load with a cast error. Declared features are used
as they are (``load_dataset`` hands the card's ``dataset_info`` to the builder, which then
skips the inference), so the card states them, derived from the same declared schema
(``schemas/sample.schema.json``) the writers enforce on every ``<key>.json`` member.

The YAML is the form ``datasets.Features._to_yaml_list`` writes (``dtype``, ``list``,
``struct``), produced here without importing ``datasets``: it is an optional dependency
and every build writes its card.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pmc15m.shards import format as fmt
from pmc15m.shards.schema import sample_schema

# Arrow types of the schema files -> the ``datasets`` dtype of the value in ``<key>.json``.
# Binary is base64 text in the JSON member (pmc15m.shards.writers.row_json), so a string there.
_JSON_DTYPES: tuple[tuple[pa.DataType, str], ...] = (
    (pa.string(), "string"),
    (pa.int32(), "int32"),
    (pa.int64(), "int64"),
    (pa.float64(), "float64"),
    (pa.bool_(), "bool"),
    (pa.binary(), "string"),
)
# The members the webdataset builder adds to every sample besides the tar's own files.
BUILDER_FIELDS = ("__key__", "__url__")


def image_field(manifest: dict[str, Any]) -> str:
    """The image member's extension, which ``datasets`` uses as the column name.

    pmc15m.shards.writers names the member by its bytes, so by the build's ``--image_format``.
    """
    output_format = manifest.get("config", {}).get("image", {}).get("output_format", "jpeg")
    return fmt.image_kind_for(output_format)


def _dtype(dtype: pa.DataType) -> str:
    for arrow, name in _JSON_DTYPES:
        if dtype == arrow:
            return name
    raise ValueError(f"no dataset card dtype for Arrow type {dtype}")


def _fields(struct: pa.StructType) -> list[dict[str, Any]]:
    return [{"name": field.name, **value_yaml(field.type)} for field in struct]


def _list_item(dtype: pa.DataType) -> Any:
    """What follows ``list:``: a dtype name, a struct's field list, or a nested ``list``."""
    if pa.types.is_struct(dtype):
        return _fields(dtype)
    if pa.types.is_list(dtype):
        return {"list": _list_item(dtype.value_type)}
    return _dtype(dtype)


def value_yaml(dtype: pa.DataType) -> dict[str, Any]:
    """The YAML of one value's type, without its name: ``dtype``, ``list`` or ``struct``."""
    if pa.types.is_list(dtype):
        return {"list": _list_item(dtype.value_type)}
    if pa.types.is_struct(dtype):
        return {"struct": _fields(dtype)}
    return {"dtype": _dtype(dtype)}


def sample_features(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of one sample as the webdataset builder yields it, in its order.

    The image, ``json`` (every column of the sample schema: pmc15m.shards.schema.rows_to_table
    makes each row carry exactly those), ``txt`` (the caption), then the key and the tar's
    URL that the builder adds.
    """
    return [
        {"name": image_field(manifest), "dtype": "image"},
        {"name": fmt.JSON, **value_yaml(pa.struct(list(sample_schema())))},
        {"name": fmt.TXT, "dtype": "string"},
        *({"name": name, "dtype": "string"} for name in BUILDER_FIELDS),
    ]


def dataset_info(config_names: list[str], manifest: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]]:
    """The card's ``dataset_info``: the features of each config (all load the same tars).

    One mapping for a single config, a list otherwise: the shapes huggingface's own card
    writer uses (``DatasetInfosDict.to_dataset_card_data``), both read by ``load_dataset``.
    """
    infos = [{"config_name": name, "features": sample_features(manifest)} for name in config_names]
    return infos[0] if len(infos) == 1 else infos


def _problem(features: dict[str, dict[str, Any]]) -> str:
    """What is wrong with one config's features (by name); empty when nothing is."""
    if not features:
        return "no dataset_info features (the loader would guess the types)"
    if features.get(fmt.JSON, {}).get("struct") != value_yaml(pa.struct(list(sample_schema())))["struct"]:
        return "the json features differ from the sample schema"
    has_image = any(f.get("dtype") == "image" for f in features.values())
    if not has_image or not {fmt.TXT, *BUILDER_FIELDS} <= features.keys():
        return "features lack the image, txt, __key__ or __url__"
    return ""


def feature_problems(data: dict[str, Any]) -> list[str]:
    """Configs of a parsed card whose features are missing or do not match the schema."""
    declared = data.get("dataset_info") or []
    infos = {
        info.get("config_name", "default"): info
        for info in ([declared] if isinstance(declared, dict) else declared)
    }
    problems = []
    for config in data.get("configs") or []:
        name = config.get("config_name", "default")
        problem = _problem({f.get("name"): f for f in (infos.get(name) or {}).get("features") or []})
        if problem:
            problems.append(f"config {name}: {problem}")
    return problems
