"""The one statement of a report's grouped aggregates, subtotals and grand total.

The report's rows are first selected as a subquery (group values, bucketed dates and aggregate inputs
as plain named columns), so every level groups by the same columns and PostgreSQL never sees two copies
of an expression it must prove equal. PostgreSQL then runs ``GROUP BY GROUPING SETS`` (one scan) and
says with ``GROUPING()`` which level each row is; SQLite has no grouping sets, so the same levels are a
``UNION ALL`` in one statement, each branch naming its level with constant indicators.

Each output row has ``g0``, ``g1`` (row groups), ``gc`` (the column group), ``_g0``, ``_g1``, ``_gc``
(1 when that group is summed over, as ``GROUPING()`` says) and ``m0``… (the measures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    cast,
    distinct,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)

from trellis.metadata.expressions import ExprType

from .buckets import bucket_sql
from .compiler import Value


@dataclass(frozen=True)
class Grouping:
    value: Value
    bucket: str | None
    fiscal_start: int
    label: str


@dataclass(frozen=True)
class Measure:
    name: str
    op: str
    value: Value | None
    label: str


def grouped_statement(table: Table, groupings: Sequence[Grouping], column_group: Grouping | None,
                      measures: Sequence[Measure], where: ColumnElement[bool], dialect: str) -> Select:
    """Every level of the report in one statement: (g0, g1, gc), (g0, g1), (g0, gc), (g0), (gc), ()."""
    keyed = [*((f"g{i}", g) for i, g in enumerate(groupings)), *((("gc", column_group),) if column_group else ())]
    inner_columns = [table.c.id.label("_id"), *(_group_sql(g, dialect).label(name) for name, g in keyed)]
    inner_columns += [m.value.sql.label(f"v{i}") for i, m in enumerate(measures) if m.value is not None]
    inner = select(*inner_columns).select_from(table).where(where).subquery("report_rows")
    aggregates = [_aggregate(m, inner.c.get(f"v{i}"), dialect).label(f"m{i}") for i, m in enumerate(measures)]
    names = [name for name, _ in keyed]
    levels = _levels([n for n in names if n != "gc"], "gc" if column_group else None)
    if dialect == "postgresql":
        shown = [inner.c[n] for n in names]
        indicators = [func.grouping(inner.c[n]).label(f"_{n}") for n in names]
        sets = [tuple_(*(inner.c[n] for n in level)) for level in levels]
        return select(*shown, *indicators, *aggregates).select_from(inner).group_by(func.grouping_sets(*sets))
    branches = []
    for level in levels:
        shown = [inner.c[n] if n in level else null().label(n) for n in names]
        indicators = [literal(0 if n in level else 1, Integer).label(f"_{n}") for n in names]
        statement = select(*(c.label(n) for c, n in zip(shown, names, strict=True)), *indicators, *aggregates) \
            .select_from(inner)
        branches.append(statement.group_by(*(inner.c[n] for n in level)))
    return union_all(*branches)  # type: ignore[return-value]


def _levels(rows: list[str], column: str | None) -> list[list[str]]:
    levels = []
    for depth in range(len(rows), -1, -1):
        if column:
            levels.append([*rows[:depth], column])
        levels.append(rows[:depth])
    return levels


def _group_sql(grouping: Grouping, dialect: str) -> ColumnElement[Any]:
    value = grouping.value
    if grouping.bucket:
        return bucket_sql(value.sql, grouping.bucket, dialect, is_datetime=value.type is ExprType.DATETIME,
                          fiscal_start=grouping.fiscal_start)
    return value.sql


def _aggregate(measure: Measure, column: Any, dialect: str) -> ColumnElement[Any]:
    if measure.value is None:
        return func.count()
    if measure.value.type is ExprType.BOOLEAN:
        column = cast(column, Integer)  # PostgreSQL has no MIN/MAX of booleans; SQLite stores them as 0/1
    elif measure.value.type is ExprType.TEXT and dialect == "postgresql" and measure.op in ("min", "max"):
        column = column.collate("C")  # by code point, as SQLite compares text
    if measure.op == "count":
        return func.count(column)
    if measure.op == "count_distinct":
        return func.count(distinct(column))
    return getattr(func, measure.op)(column)
