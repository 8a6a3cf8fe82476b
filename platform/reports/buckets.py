"""Date buckets in SQL that agree on SQLite and PostgreSQL: every bucket is the ISO date of its first day.

Weeks start on Monday. Quarters and years start at the fiscal year's first month, so with a fiscal start
of April the quarter of 2025-05-10 starts 2025-04-01 and its year 2025-04-01. Date-times are bucketed in
UTC, as they are stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, String, cast, func, literal, literal_column


def bucket_sql(value: ColumnElement[Any], bucket: str, dialect: str, *, is_datetime: bool,
               fiscal_start: int = 1) -> ColumnElement[Any]:
    """The first day of ``value``'s bucket (a DATE on PostgreSQL, 'YYYY-MM-DD' text on SQLite)."""
    if dialect == "postgresql":
        return _postgresql(value, bucket, is_datetime, fiscal_start)
    return _sqlite(value, bucket, fiscal_start)


def _months_back(month: ColumnElement[Any], bucket: str, fiscal_start: int) -> ColumnElement[Any]:
    """How many months back the bucket starts: (month - fiscal start) mod 3 for quarters, mod 12 for years."""
    size = 3 if bucket == "quarter" else 12
    return (month + literal_column(str(12 - fiscal_start))) % literal_column(str(size))


def _sqlite(value: ColumnElement[Any], bucket: str, fiscal_start: int) -> ColumnElement[Any]:
    if bucket == "day":
        return func.date(value)
    if bucket == "week":  # %w is 0 for Sunday: step back (%w + 6) % 7 days to Monday
        days = (cast(func.strftime("%w", value), Integer) + literal_column("6")) % literal_column("7")
        return func.date(value, literal("-", String) + cast(days, String) + literal(" days", String))
    if bucket == "month":
        return func.date(value, "start of month")
    back = _months_back(cast(func.strftime("%m", value), Integer), bucket, fiscal_start)
    return func.date(value, "start of month", literal("-", String) + cast(back, String) + literal(" months", String))


def _postgresql(value: ColumnElement[Any], bucket: str, is_datetime: bool, fiscal_start: int) -> ColumnElement[Any]:
    moment = func.timezone(literal_column("'UTC'"), value) if is_datetime else cast(value, Date)
    if bucket == "day":
        return cast(moment, Date)
    if bucket in ("week", "month"):
        return cast(func.date_trunc(literal_column(f"'{bucket}'"), moment), Date)
    month = cast(func.extract("month", moment), Integer)
    start = func.date_trunc(literal_column("'month'"), moment)
    return cast(start - func.make_interval(0, _months_back(month, bucket, fiscal_start)), Date)


def bucket_label(start: date, bucket: str, fiscal_start: int = 1) -> str:
    """How a bucket reads: 2025-03-07, Week of 2025-03-03, 2025-03, 2025 Q1 / FY2026 Q1, 2025 / FY2026.
    A fiscal year that does not start in January is named after the calendar year it ends in."""
    if bucket == "day":
        return start.isoformat()
    if bucket == "week":
        return f"Week of {start.isoformat()}"
    if bucket == "month":
        return start.strftime("%Y-%m")
    months_in = (start.month - fiscal_start) % 12
    year = start.year + (1 if fiscal_start != 1 and start.month >= fiscal_start else 0)
    name = f"FY{year}" if fiscal_start != 1 else str(year)
    return f"{name} Q{months_in // 3 + 1}" if bucket == "quarter" else name


def bucket_end(start: date, bucket: str) -> date:
    """The first day after the bucket that starts on ``start``."""
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[bucket]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
