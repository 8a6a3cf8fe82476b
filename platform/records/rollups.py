"""Rollup fields compiled into the SELECT: one aggregate subquery over the child rows per rollup.

Computing a rollup on read, instead of keeping a stored total up to date on every child write, makes it
right by construction when children are created, moved to another parent, changed or deleted, and
through every door (imports and raw SQL included). The child's lookup column is always indexed
(``platform/storage/tables.py`` indexes every lookup), so each subquery is an index range scan.

On PostgreSQL the subquery is ``LATERAL`` in the FROM list: a list that selects, filters and sorts by a
rollup reads one value per row (a scalar subquery there was computed once per mention, 8x the GROUP BY
baseline instead of 3x in ``bench rollup``). SQLite has no LATERAL, so it gets a correlated scalar
subquery. Tenant tables live in a schema exactly on PostgreSQL (``platform/storage/stores.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Date, DateTime, Table, and_, cast, func, null, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from trellis.metadata.expressions import ExpressionError, ExprType
from trellis.metadata.rollups import Rollup

from ..expressions import Context, ExprNumber, to_condition

_TYPES = {ExprType.NUMBER: ExprNumber(), ExprType.DATE: Date(), ExprType.DATETIME: DateTime(timezone=True)}
#: Child field types kept as exact decimals, whose sums are rounded to the field's places (on SQLite,
#: where they are binary floats, 0.1 + 0.2 would otherwise read 0.30000000000000004).
_SCALED = ("decimal", "currency", "percent")


def rollup_columns(rollups: Mapping[str, Rollup], table: Table, context: Context) -> dict[str, ColumnElement[Any]]:
    """Each rollup of ``table``'s object as a value per row; one whose child table is gone, or whose filter is
    too complex once compiled, reads blank rather than failing the whole list."""
    tables = {t.name: t for t in table.metadata.tables.values()}
    return {name: _column(rollup, table, tables, context) for name, rollup in rollups.items()}


def _column(rollup: Rollup, parent: Table, tables: Mapping[str, Table], context: Context) -> ColumnElement[Any]:
    child_table = tables.get(rollup.child.api_name)
    if child_table is None or rollup.via not in child_table.c:
        return cast(null(), _TYPES[rollup.result])  # typed: PostgreSQL refuses ORDER BY NULL
    child = child_table.alias()  # anonymous: SQLAlchemy keeps generated names within PostgreSQL's 63 characters
    condition = child.c[rollup.via] == parent.c.id
    if rollup.filter is not None:
        try:
            condition = and_(condition, to_condition(rollup.filter, child, context, tables))  # type: ignore[arg-type]
        except ExpressionError:
            return cast(null(), _TYPES[rollup.result])
    statement = select(_aggregate(rollup, child).label("value")).where(condition)
    # PostgreSQL (tenant tables in a schema): LATERAL, computed once per row however often the query reads it.
    lateral = parent.schema is not None
    value = statement.lateral().c.value if lateral else statement.correlate(parent).scalar_subquery()
    if rollup.function in ("count", "sum"):
        value = func.coalesce(value, 0)
    return type_coerce(value, _TYPES[rollup.result])


def _aggregate(rollup: Rollup, child: Any) -> ColumnElement[Any]:
    if rollup.field is None:
        return func.count(child.c.id)
    column = child.c[rollup.field.api_name]
    if rollup.function == "sum" and rollup.field.type in _SCALED:
        return func.round(func.sum(column), rollup.field.options.get("scale", 2))
    return {"sum": func.sum, "min": func.min, "max": func.max, "avg": func.avg}[rollup.function](column)
