"""A new object proposed from a CSV: api names from the headers, field types from the values.

The proposal is only a starting point shown to the admin, who adjusts it before the object
is created, so the rules are simple and predictable: a column's type is the narrowest one
that every non-empty value fits, tried in a fixed order (boolean, integer, decimal or
currency, date, datetime, email, url, phone, picklist, long text, text).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trellis.metadata.fieldtypes import PHONE_PATTERN
from trellis.metadata.names import MAX_LENGTH, api_name_problem

from .csvfile import CsvTable

#: Values looked at per column; enough to judge a type, quick for a 100,000-row file.
SAMPLE_ROWS = 10_000
#: A column of text with at most this many distinct values (each used a few times) becomes a picklist.
PICKLIST_MAX = 12
_BOOLEAN = {"true", "false", "yes", "no", "y", "n"}
_WHOLE = re.compile(r"[+-]?(\d{1,3}(,\d{3}){1,5}|\d{1,18})")
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?")
_CURRENCY = re.compile(r"^[$€£¥]\s*|\s*[$€£¥]$")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_PHONE = re.compile(PHONE_PATTERN)
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def propose_object(table: CsvTable, name: str, label: str | None = None) -> dict[str, Any]:
    """An object document for ``table``: one field per column, typed from its values."""
    taken: set[str] = set()
    fields = []
    for position, header in enumerate(table.headers):
        values = [row[position].strip() for row in table.rows[:SAMPLE_ROWS] if row[position].strip()]
        field = {"api_name": api_name_for(header, taken, "field"), "label": header, **infer_type(values)}
        taken.add(field["api_name"])
        fields.append(field)
    text_fields = [f["api_name"] for f in fields if f["type"] == "text"]
    doc: dict[str, Any] = {"api_name": api_name_for(name, set(), "object"), "label": label or name, "fields": fields}
    if text_fields:
        doc["name_field"] = text_fields[0]
    return doc


def column_names(table: CsvTable, doc: dict[str, Any]) -> dict[str, str]:
    """The mapping that goes with a proposal: header → the field made from it (by label, as proposed)."""
    fields = {f.get("label"): f["api_name"] for f in doc.get("fields", []) if isinstance(f, dict)}
    return {header: fields[header] for header in table.headers if header in fields}


def api_name_for(text: str, taken: set[str], kind: str) -> str:
    """A valid, unused api name spelled like ``text``: ``Close Date`` → ``close_date``, ``2024 €`` → ``f_2024``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", plain)).strip("_") or kind
    if not name[0].isalpha():
        name = f"f_{name}"
    name = name[:MAX_LENGTH].rstrip("_")
    if name.startswith("trellis_") or api_name_problem(name, kind=kind):  # type: ignore[arg-type]
        name = f"{name[:MAX_LENGTH - 6]}_value".removeprefix("trellis_")
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{name[:MAX_LENGTH - 4]}_{number}"
        number += 1
    return candidate


def infer_type(values: list[str]) -> dict[str, Any]:
    """The field settings for a column whose non-empty values are ``values``."""
    if not values:
        return {"type": "text"}
    for test, settings in _TESTS:
        if all(test(value) for value in values):
            return settings(values)
    distinct = sorted(set(values))
    if len(distinct) <= PICKLIST_MAX and len(values) >= 2 * len(distinct) and max(map(len, distinct)) <= 100:
        return {"type": "picklist", "values": [{"value": value, "label": value} for value in distinct]}
    if max(map(len, values)) > 255 or any("\n" in value for value in values):
        return {"type": "long_text"}
    return {"type": "text"}


def _is_number(value: str) -> bool:
    plain = _CURRENCY.sub("", value)
    return bool(plain) and any(c.isdigit() for c in plain) and _NUMBER.fullmatch(plain) is not None


def _number(values: list[str]) -> dict[str, Any]:
    plain = [_CURRENCY.sub("", value).replace(",", "") for value in values]
    scale = max((-Decimal(v).as_tuple().exponent for v in plain if _decimal(v)), default=0)
    kind = "currency" if any(_CURRENCY.search(value) for value in values) else "decimal"
    return {"type": kind, "precision": 18, "scale": max(2 if kind == "currency" else 0, min(int(scale), 6))}


def _decimal(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _parses(parse: Callable[[str], Any]) -> Callable[[str], bool]:
    def test(value: str) -> bool:
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return test


def _is_datetime(value: str) -> bool:
    return ("T" in value or " " in value) and _parses(datetime.fromisoformat)(value)


def _fixed(kind: str) -> Callable[[list[str]], dict[str, Any]]:
    return lambda values: {"type": kind}


_TESTS: list[tuple[Callable[[str], bool], Callable[[list[str]], dict[str, Any]]]] = [
    (lambda v: v.lower() in _BOOLEAN, _fixed("boolean")),
    (lambda v: _WHOLE.fullmatch(v) is not None, _fixed("integer")),
    (_is_number, _number),
    (lambda v: len(v) == 10 and _parses(date.fromisoformat)(v), _fixed("date")),
    (_is_datetime, _fixed("datetime")),
    (lambda v: _EMAIL.fullmatch(v) is not None, _fixed("email")),
    (lambda v: _URL.fullmatch(v) is not None, _fixed("url")),
    (lambda v: _PHONE.fullmatch(v) is not None and sum(c.isdigit() for c in v) >= 7 and not _DATE_LIKE.match(v),
     _fixed("phone")),
]
