"""Cells as people read them, and the two file writers (CSV and XLSX), both append-only.

CSV is written through the csv module row by row; XLSX through openpyxl's
write-only workbook, which streams rows to a temporary file instead of keeping
cells. Values are plain: picklists by label, lookups by the target's title,
dates and numbers as themselves (native cells in XLSX). Text that a spreadsheet
would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) is prefixed with ``'``
in CSV, the usual guard against formula injection.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from trellis.metadata.labels import localize
from trellis.metadata.model import FieldDef

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Column:
    """One exported field: its header and how a stored value becomes a cell."""

    def __init__(self, field: FieldDef | None, locale: str) -> None:
        self.field = field
        self.header = "ID" if field is None else localize(field.label, locale, field.api_name)
        self.name = "id" if field is None else field.api_name
        self.choices = {} if field is None else {c["value"]: localize(c.get("label"), locale, c["value"])
                                                  for c in field.choices}

    @property
    def lookup_target(self) -> str | None:
        return self.field.target if self.field is not None and self.field.type == "lookup" else None

    def cell(self, value: Any, titles: Mapping[int, str]) -> Any:
        """The cell value: typed (numbers, dates, booleans) where a spreadsheet has a type, else text."""
        if value is None:
            return None
        if self.lookup_target is not None:
            return titles.get(value, f"#{value}")
        kind = None if self.field is None else self.field.type
        if kind == "picklist":
            return self.choices.get(value, value)
        if kind == "multi_picklist":
            items = json.loads(value) if isinstance(value, str) else value
            return "; ".join(self.choices.get(item, item) for item in items or ())
        if isinstance(value, datetime):
            return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)
        return value


def text_of(value: Any) -> str:
    """A cell as CSV text: ISO dates, UTC times, decimals as stored, true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")  # always UTC (see Column.cell); the header says nothing else
    if isinstance(value, date | Decimal | int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class Writer(Protocol):
    def write(self, rows: Iterable[Sequence[Any]]) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """UTF-8 with a byte-order mark, so spreadsheet programs read accents right."""

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(headers)

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        self._csv.writerows([text_of(value) for value in row] for row in rows)

    def close(self) -> None:
        self._file.close()


class XlsxWriter:
    """One sheet, written row by row; times lose their zone (Excel has none) and are in UTC."""

    def __init__(self, path: Path, headers: Sequence[str], title: str) -> None:
        from openpyxl import Workbook  # only exports need openpyxl

        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=_sheet_title(title))
        self._sheet.append(list(headers))

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self._sheet.append([self._cell(value) for value in row])

    def _cell(self, value: Any) -> Any:
        """Plain values as they are; text that openpyxl would store as a formula as a text cell."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        if not isinstance(value, str):
            return value
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not value.startswith("="):
            return value
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"
        return cell

    def close(self) -> None:
        self._book.save(self._path)


def open_writer(fmt: str, path: Path, headers: Sequence[str], title: str) -> Writer:
    return CsvWriter(path, headers) if fmt == "csv" else XlsxWriter(path, headers, title)


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]
    return cleaned or "Export"
