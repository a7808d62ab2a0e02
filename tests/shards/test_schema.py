"""The declared schemas match the Sample record, and rows_to_table is strict."""

from __future__ import annotations

import types
import typing

import pyarrow as pa
import pytest

from pmc15m.core.record import SAMPLE_FIELDS, Sample
from pmc15m.shards import schema
from pmc15m.shards.schema import (
    REJECT_SCHEMA_FILE,
    SAMPLE_SCHEMA_FILE,
    SchemaError,
    SchemaViolation,
    load_spec,
    parse_type,
    reject_schema,
    rows_to_table,
    sample_schema,
)

SPEC_FILES = [SAMPLE_SCHEMA_FILE, REJECT_SCHEMA_FILE]


@pytest.mark.parametrize("filename", SPEC_FILES)
def test_spec_columns_equal_sample_fields(filename: str) -> None:
    # A new Sample field without a schema entry (or a stale entry) must fail CI.
    names = tuple(column["name"] for column in load_spec(filename)["columns"])
    assert names == SAMPLE_FIELDS


@pytest.mark.parametrize("filename", SPEC_FILES)
def test_spec_columns_are_documented(filename: str) -> None:
    for column in load_spec(filename)["columns"]:
        assert set(column) == {"name", "type", "nullable", "description"}, column["name"]
        assert isinstance(column["nullable"], bool)
        assert column["description"].strip(), column["name"]
        parse_type(column["type"])


def _compatible(annotation: object, dtype: pa.DataType) -> bool:
    """Whether a Python annotation of Sample can hold values of the Arrow type."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) and len(args) == 1:
        annotation = args[0]
    origin = typing.get_origin(annotation)
    if annotation is str:
        return pa.types.is_string(dtype)
    if annotation is int:
        return pa.types.is_integer(dtype)
    if annotation is float:
        return pa.types.is_floating(dtype)
    if origin is list and pa.types.is_list(dtype):
        (item,) = typing.get_args(annotation)
        value_type = dtype.value_type
        if typing.get_origin(item) is dict:
            return pa.types.is_struct(value_type)
        return _compatible(item, value_type)
    return False


def test_arrow_types_fit_sample_annotations() -> None:
    hints = typing.get_type_hints(Sample)
    for field in sample_schema():
        assert _compatible(hints[field.name], field.type), (field.name, hints[field.name], field.type)
        optional = type(None) in typing.get_args(hints[field.name])
        if optional:
            assert field.nullable, f"{field.name} can be None in Sample but is declared non-null"


def test_declared_types() -> None:
    s = sample_schema()
    assert s.field("key").type == pa.string() and not s.field("key").nullable
    assert s.field("version").type == pa.int64() and s.field("version").nullable
    assert s.field("year").type == pa.int32() and s.field("year").nullable
    assert s.field("width").type == pa.int64()
    assert s.field("mentions").type == pa.list_(pa.string())
    panel = pa.struct([("panel", pa.string()), ("text", pa.string())])
    assert s.field("subcaptions").type == pa.list_(panel)
    translation = pa.struct([("lang", pa.string()), ("label", pa.string()), ("text", pa.string())])
    assert s.field("caption_translations").type == pa.list_(translation)
    assert not s.field("caption_translations").nullable
    assert s.field("caption").metadata[b"description"]
    assert reject_schema().equals(s)  # same columns and types; only descriptions differ
    assert sample_schema() is s  # cached


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("string", pa.string()),
        (" list< int32 > ", pa.list_(pa.int32())),
        ("struct<a: list<string>, b: int64>", pa.struct([("a", pa.list_(pa.string())), ("b", pa.int64())])),
    ],
)
def test_parse_type(text: str, expected: pa.DataType) -> None:
    assert parse_type(text) == expected


@pytest.mark.parametrize("text", ["strin", "list<string", "list<>", "struct<a string>", "string>", "a$b"])
def test_parse_type_rejects_garbage(text: str) -> None:
    with pytest.raises(SchemaError):
        parse_type(text)


def _row(**changes: object) -> dict[str, object]:
    row = Sample(
        key="PMC1_1_F1",
        pmcid="PMC1",
        version=1,
        caption="A caption",
        subcaptions=[{"panel": "A", "text": "left"}],
        caption_translations=[{"lang": "pt", "label": "Figura 1", "text": "Uma legenda"}],
        mentions=["see Fig. 1"],
        year=2020,
    ).row()
    row.update(changes)
    return row


def test_rows_to_table_round_trip() -> None:
    rows = [_row(), _row(key="PMC1_1_F2", year=None, width=None)]
    table = rows_to_table(rows, sample_schema())
    assert table.schema.equals(sample_schema())
    assert table.to_pylist() == rows


def test_rows_to_table_rejects_undeclared_column() -> None:
    with pytest.raises(SchemaViolation, match=r"not declared.*surprise"):
        rows_to_table([_row(surprise="x")], sample_schema())


def test_rows_to_table_rejects_missing_column() -> None:
    row = _row()
    del row["phash"]
    with pytest.raises(SchemaViolation, match=r"missing.*phash"):
        rows_to_table([row], sample_schema())


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("caption", 3),  # int in a string column
        ("width", "640"),  # str in an int column
        ("width", 1.5),  # Arrow would silently truncate
        ("width", True),  # bool is an int in Python, not here
        ("year", 2**40),  # out of int32 range
        ("mentions", "see Fig. 1"),  # Arrow would split the string into characters
        ("subcaptions", [{"panel": "A", "text": "x", "extra": "y"}]),  # Arrow would drop "extra"
        ("subcaptions", [{"panel": "A", "text": 1}]),
        ("subcaptions", ["A"]),
        ("caption_translations", [{"lang": "pt", "label": "Figura 1", "text": 7}]),
        ("caption_translations", [{"lang": "pt", "label": "Figura 1", "text": "x", "extra": "y"}]),
        ("caption", None),  # non-nullable
        ("mentions", None),
    ],
)
def test_rows_to_table_rejects_type_mismatch(column: str, value: object) -> None:
    with pytest.raises(SchemaViolation, match=column):
        rows_to_table([_row(**{column: value})], sample_schema())


def test_rows_to_table_rejects_non_mapping() -> None:
    with pytest.raises(SchemaViolation, match="mapping"):
        rows_to_table([["PMC1_1_F1"]], sample_schema())  # type: ignore[list-item]


def test_check_value_unknown_type() -> None:
    with pytest.raises(SchemaViolation, match="no value check"):
        schema.check_value(1, pa.date32(), True, "x")
