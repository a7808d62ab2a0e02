"""The declared Arrow schemas of shard and reject rows, and a strict rows-to-table converter.

The column list is data (``schemas/*.schema.json``), not code, so that the dataset card and
outside readers see the same declaration the writers enforce. Here it becomes a
``pyarrow.Schema``. ``rows_to_table`` checks every value in Python before Arrow sees it,
because Arrow's own conversion is lenient where a dataset must not be: it truncates ``1.5`` to
``1`` in an int column, splits a string given for a list column into characters, drops
unknown struct keys and ignores nullability. A row that does not match fails the shard
loudly instead of writing a silently different dataset.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import pyarrow as pa

SCHEMA_PACKAGE = "schemas"
SAMPLE_SCHEMA_FILE = "sample.schema.json"
REJECT_SCHEMA_FILE = "reject.schema.json"

_PRIMITIVES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "binary": pa.binary(),
}
_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[<>,:])")


class SchemaError(ValueError):
    """A schema file that cannot be turned into an Arrow schema."""


class SchemaViolation(ValueError):
    """A row that does not fit its declared schema."""


def parse_type(text: str) -> pa.DataType:
    """Parse the small type language of the schema files.

    Grammar: a primitive (``string int32 int64 float64 bool binary``), ``list<T>``, or
    ``struct<name: T, ...>``. Kept tiny on purpose: the files must stay readable by people
    who never saw Arrow's own type syntax.
    """
    tokens = _tokenize(text)
    dtype, pos = _parse(tokens, 0, text)
    if pos != len(tokens):
        raise SchemaError(f"trailing text in type {text!r}")
    return dtype


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos, stripped = 0, text.rstrip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None:
            raise SchemaError(f"unexpected character in type {text!r} at {pos}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _expect(tokens: list[str], pos: int, token: str, text: str) -> int:
    if pos >= len(tokens) or tokens[pos] != token:
        raise SchemaError(f"expected {token!r} in type {text!r}")
    return pos + 1


def _parse(tokens: list[str], pos: int, text: str) -> tuple[pa.DataType, int]:
    if pos >= len(tokens):
        raise SchemaError(f"type {text!r} ends too early")
    name = tokens[pos]
    if name in _PRIMITIVES:
        return _PRIMITIVES[name], pos + 1
    if name == "list":
        item, pos = _parse(tokens, _expect(tokens, pos + 1, "<", text), text)
        return pa.list_(item), _expect(tokens, pos, ">", text)
    if name == "struct":
        pos = _expect(tokens, pos + 1, "<", text)
        fields: list[pa.Field] = []
        while True:
            if pos >= len(tokens):
                raise SchemaError(f"type {text!r} ends too early")
            field_name = tokens[pos]
            field_type, pos = _parse(tokens, _expect(tokens, pos + 1, ":", text), text)
            fields.append(pa.field(field_name, field_type))
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            return pa.struct(fields), _expect(tokens, pos, ">", text)
    raise SchemaError(f"unknown type {name!r} in {text!r}")


def load_spec(filename: str) -> dict[str, Any]:
    """The parsed JSON of one schema file of the ``schemas`` package (a fresh copy each call)."""
    text = resources.files(SCHEMA_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    spec = json.loads(text)
    names = [column["name"] for column in spec["columns"]]
    if len(set(names)) != len(names):
        raise SchemaError(f"{filename}: duplicate column names")
    return spec


def spec_to_schema(spec: Mapping[str, Any]) -> pa.Schema:
    """An Arrow schema from a schema spec; descriptions travel as field metadata.

    Putting the descriptions into the Arrow metadata means every Parquet file carries its
    own column documentation, which the Hub viewer and ``pq.read_schema`` show.
    """
    fields = []
    for column in spec["columns"]:
        if not isinstance(column.get("nullable"), bool):
            raise SchemaError(f"column {column['name']!r}: 'nullable' must be true or false")
        fields.append(
            pa.field(
                column["name"],
                parse_type(column["type"]),
                nullable=column["nullable"],
                metadata={"description": column.get("description", "")},
            )
        )
    # "pmc15m.schema" is a key of the file format, not a module path: it stays as written.
    return pa.schema(fields, metadata={"pmc15m.schema": spec["name"]})


@functools.cache
def sample_schema() -> pa.Schema:
    """The schema of a kept sample's row (shard Parquet, ``<key>.json``)."""
    return spec_to_schema(load_spec(SAMPLE_SCHEMA_FILE))


@functools.cache
def reject_schema() -> pa.Schema:
    """The schema of a reject row (``rejects/*.parquet``)."""
    return spec_to_schema(load_spec(REJECT_SCHEMA_FILE))


def rows_to_table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as a table of ``schema``, or ``SchemaViolation`` naming the row and column.

    Every row must carry exactly the declared columns: an undeclared one means a field was
    added without a schema entry, a missing one means a writer forgot it; both are bugs.
    """
    declared = set(schema.names)
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SchemaViolation(f"row {index}: expected a mapping, got {type(row).__name__}")
        where = f"row {index} (key {row.get('key')!r})"
        extra, missing = row.keys() - declared, declared - row.keys()
        if extra:
            raise SchemaViolation(f"{where}: columns not declared in the schema: {sorted(extra)}")
        if missing:
            raise SchemaViolation(f"{where}: declared columns missing: {sorted(missing)}")
        for field in schema:
            check_value(row[field.name], field.type, field.nullable, f"{where} column {field.name!r}")
    return pa.Table.from_pylist(list(rows), schema=schema)


def check_value(value: Any, dtype: pa.DataType, nullable: bool, where: str) -> None:
    """Raise ``SchemaViolation`` unless ``value`` is exactly of Arrow type ``dtype``."""
    if value is None:
        if not nullable:
            raise SchemaViolation(f"{where}: null in a non-nullable column")
        return
    if pa.types.is_list(dtype):
        _check_list(value, dtype, where)
    elif pa.types.is_struct(dtype):
        _check_struct(value, dtype, where)
    elif not _scalar_ok(value, dtype):
        raise SchemaViolation(f"{where}: expected {dtype}, got {type(value).__name__} {value!r:.80}")


def _scalar_ok(value: Any, dtype: pa.DataType) -> bool:
    if pa.types.is_string(dtype):
        return isinstance(value, str)
    if pa.types.is_integer(dtype):
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        bits = dtype.bit_width
        if pa.types.is_signed_integer(dtype):
            return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
        return 0 <= value < 2**bits
    if pa.types.is_floating(dtype):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if pa.types.is_boolean(dtype):
        return isinstance(value, bool)
    if pa.types.is_binary(dtype):
        return isinstance(value, bytes | bytearray)
    raise SchemaViolation(f"no value check for Arrow type {dtype}")


def _check_list(value: Any, dtype: pa.ListType, where: str) -> None:
    if not isinstance(value, list | tuple):
        raise SchemaViolation(f"{where}: expected {dtype}, got {type(value).__name__} {value!r:.80}")
    item = dtype.value_field
    for i, element in enumerate(value):
        check_value(element, item.type, item.nullable, f"{where}[{i}]")


def _check_struct(value: Any, dtype: pa.StructType, where: str) -> None:
    if not isinstance(value, Mapping):
        raise SchemaViolation(f"{where}: expected {dtype}, got {type(value).__name__} {value!r:.80}")
    names = {dtype.field(i).name for i in range(dtype.num_fields)}
    extra = value.keys() - names
    if extra:
        raise SchemaViolation(f"{where}: keys not declared in {dtype}: {sorted(extra)}")
    for i in range(dtype.num_fields):
        field = dtype.field(i)
        check_value(value.get(field.name), field.type, field.nullable, f"{where}.{field.name}")
