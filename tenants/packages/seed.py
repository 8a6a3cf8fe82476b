"""Seed data: ``data/<object>.csv`` written through the record service, like any other import.

Columns are field api_names. A lookup column holds the target record's name (its
name field), matched exactly, never guessed; an unmatched name stops the install
with the file, row and column. Multi-picklist values are separated by ``;``, empty
cells are left out. Objects are seeded in lookup order (accounts before contacts).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from trellis.platform.errors import FieldProblem, InvalidInput
from trellis.platform.records.query import Filter, ListQuery
from trellis.platform.records.service import RecordService


def seed(records: RecordService, data: Mapping[str, str]) -> dict[str, int]:
    """Create the records of every CSV in ``data``; returns how many per object."""
    counts = {}
    for name in _lookup_order(records, data):
        rows = list(csv.DictReader(io.StringIO(data[name])))
        for index, row in enumerate(rows, start=2):  # line 1 is the header
            records.create(name, _values(records, name, row, f"data/{name}.csv", index))
        counts[name] = len(rows)
    return counts


def _lookup_order(records: RecordService, data: Mapping[str, str]) -> list[str]:
    """Objects whose lookups point at other seeded objects come after them."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path:
            return
        for field in records.runtime.object(name).fields:
            if field.type == "lookup" and field.target in data and field.target != name:
                visit(field.target, (*path, name))
        done.append(name)

    for name in sorted(data):
        visit(name, ())
    return done


def _values(records: RecordService, name: str, row: Mapping[str, str], file: str, line: int) -> dict[str, Any]:
    obj = records.runtime.object(name)
    values: dict[str, Any] = {}
    for column, text in row.items():
        if text in ("", None):
            continue
        field = obj.field(column)
        if field.type == "lookup":
            values[column] = _match(records, field.target, text, f"{file}:{line}", column)
        elif field.type == "multi_picklist":
            values[column] = [part.strip() for part in text.split(";") if part.strip()]
        elif field.type == "boolean":
            values[column] = text.strip().lower() in ("true", "1", "yes")
        elif field.type == "integer" and text.strip().lstrip("-").isdigit():
            values[column] = int(text)
        else:
            values[column] = text
    return values


def _match(records: RecordService, target: str | None, text: str, where: str, column: str) -> int:
    obj = records.runtime.object(str(target))
    found = records.list(obj.api_name, ListQuery(filters=[Filter(obj.name_field or "id", "eq", text)], limit=2))
    if len(found.records) != 1:
        how = "No" if not found.records else "More than one"
        raise InvalidInput("The seed data does not match.", [FieldProblem(
            f"{where} {column}", f"{how} {obj.api_name} is called '{text}'; use the exact name of one record.")])
    return int(found.records[0]["id"])
