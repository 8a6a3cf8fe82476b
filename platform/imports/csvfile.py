"""Reading an uploaded CSV: UTF-8 with or without a byte-order mark, delimiter sniffed among , ; and tab."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..errors import FieldProblem, InvalidInput

DELIMITERS = ",;\t"
#: Characters the sniffer reads (its first 20 lines) to guess the delimiter.
SAMPLE = 64 * 1024
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class CsvTable:
    """A parsed file: its header and data rows (each as long as the header: short rows are padded)."""

    headers: list[str]
    rows: list[list[str]]
    delimiter: str

    def records(self, start: int = 0, stop: int | None = None) -> list[dict[str, str]]:
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows[start:stop]]


def decode(data: bytes) -> str:
    """The file's text; anything but UTF-8 is refused with a way out (spreadsheets can save as UTF-8)."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("The file is too large.", [FieldProblem(
            "file", f"Import at most {MAX_BYTES // 1024 // 1024} MB at a time; split the file.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("The file is not UTF-8 text.", [FieldProblem(
            "file", f"Byte {error.start} is not UTF-8. Save the file as 'CSV UTF-8' and upload it again.")]) from None
    if "\x00" in text:
        raise InvalidInput("The file is not text.", [FieldProblem(
            "file", "It contains NUL characters; upload a CSV file, not a spreadsheet or another binary file.")])
    return text


def parse(text: str) -> CsvTable:
    """Rows of ``text``; the first non-empty line is the header. Blank lines are skipped."""
    text = text.removeprefix("\ufeff")
    delimiter = sniff(text[:SAMPLE])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise InvalidInput("The file is not valid CSV.", [FieldProblem("file", str(error))]) from None
    if not lines:
        raise InvalidInput("The file is empty.", [FieldProblem("file", "Upload a CSV with a header row.")])
    headers = [cell.strip() for cell in lines[0]]
    problems = _header_problems(headers)
    if problems:
        raise InvalidInput("The header row cannot be used.", problems)
    width = len(headers)
    rows = [(row + [""] * width)[:width] for row in lines[1:]]
    return CsvTable(headers, rows, delimiter)


def sniff(sample: str) -> str:
    """The delimiter of ``sample``, or a comma when it has one column (nothing to tell from)."""
    try:
        return csv.Sniffer().sniff("\n".join(sample.splitlines()[:20]), DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def _header_problems(headers: list[str]) -> list[FieldProblem]:
    problems = [FieldProblem(f"header[{i}]", "A column has no name; give every column a header.")
                for i, name in enumerate(headers) if not name]
    seen: set[str] = set()
    for name in headers:
        if name and name in seen:
            problems.append(FieldProblem("header", f"Two columns are named '{name}'; rename one of them."))
        seen.add(name)
    return problems
