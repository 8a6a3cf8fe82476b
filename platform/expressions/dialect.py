"""SQL building blocks that SQLite and PostgreSQL spell differently, as Core elements.

Each element renders per dialect (``@compiles``), so a compiled expression is one
Core tree that runs on either backend. Each is written so that the database can
never raise on a value: counts are clamped before they are cast, dates are only
built from parts already known to be valid (PostgreSQL folds constant branches of
a CASE at plan time, so an invalid ``make_date`` in an untaken branch would still fail).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Numeric, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from trellis.metadata.expressions import ExprType

#: Counts, days and date parts are clamped to this before they become integers (the Python side agrees).
INT_CLAMP = 1_000_000_000
#: Day offsets from 0001-01-01 that stay within years 1-9999.
LAST_DAY_OFFSET = 3_652_058
_JULIAN_FIRST, _JULIAN_LAST = 1721425.5, 5373484.5
_NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


class _Element(FunctionElement):
    inherit_cache = True

    def parts(self, compiler: Any, **kw: Any) -> list[str]:
        return [compiler.process(clause, **kw) for clause in self.clauses]


def _element(name: str, type_: TypeEngine | None = None) -> type[_Element]:
    return type(name, (_Element,), {"inherit_cache": True, "name": name, **({"type": type_} if type_ else {})})


def _sql(element: type[_Element], dialect: str | None = None):
    """Register a renderer taking the rendered arguments as strings."""
    def register(render):
        def compile_element(el: _Element, compiler: Any, **kw: Any) -> str:
            return render(*el.parts(compiler, **kw))
        compiles(element, *([dialect] if dialect else []))(compile_element)
        return render
    return register


# -- types -------------------------------------------------------------------

_PG_TYPES = {ExprType.NUMBER: "NUMERIC", ExprType.TEXT: "VARCHAR", ExprType.BOOLEAN: "BOOLEAN",
             ExprType.DATE: "DATE", ExprType.DATETIME: "TIMESTAMP WITH TIME ZONE"}
_SQL_TYPES: dict[ExprType, TypeEngine] = {ExprType.NUMBER: Numeric(), ExprType.TEXT: String(),
                                          ExprType.BOOLEAN: Boolean(), ExprType.DATE: Date(),
                                          ExprType.DATETIME: DateTime(timezone=True)}
#: typed[t](x): x as type t on PostgreSQL (a parameter or NULL has no type of its own there); x on SQLite.
typed: dict[ExprType, type[_Element]] = {}
for _kind, _pg in _PG_TYPES.items():
    typed[_kind] = _element(f"typed_{_kind.value}", _SQL_TYPES[_kind])
    _sql(typed[_kind])(lambda x: x)
    _sql(typed[_kind], "postgresql")(lambda x, _pg=_pg: f"CAST({x} AS {_pg})")

text_order = _element("text_order", String())
_sql(text_order)(lambda x: x)
_sql(text_order, "postgresql")(lambda x: f'({x}) COLLATE "C"')  # code-point order, as SQLite and Python


# -- numbers -----------------------------------------------------------------

divide = _element("divide", Numeric())
_sql(divide)(lambda a, b: f"(({a}) * 1.0) / NULLIF({b}, 0)")
_sql(divide, "postgresql")(lambda a, b: f"({a}) / NULLIF({b}, 0)")

int_of = _element("int_of")  # truncated toward zero, clamped to ±INT_CLAMP
_sql(int_of)(lambda x: f"CAST(MIN(MAX({x}, -{INT_CLAMP}), {INT_CLAMP}) AS INTEGER)")
_sql(int_of, "postgresql")(lambda x: f"CAST(TRUNC(LEAST(GREATEST({x}, -{INT_CLAMP}), {INT_CLAMP})) AS INTEGER)")

round_to = _element("round_to", Numeric())  # digits are an int_of, kept to 0..10
_sql(round_to)(lambda x, n: f"ROUND({x}, MIN(MAX({n}, 0), 10))")
_sql(round_to, "postgresql")(lambda x, n: f"ROUND({x}, LEAST(GREATEST({n}, 0), 10))")

number_text = _element("number_text", String())
_sql(number_text)(lambda x: f"CASE WHEN ({x}) = CAST({x} AS INTEGER) THEN CAST(CAST({x} AS INTEGER) AS TEXT) "
                            f"ELSE CAST({x} AS TEXT) END")
_sql(number_text, "postgresql")(lambda x: f"CAST(TRIM_SCALE({x}) AS VARCHAR)")

value_of = _element("value_of", Numeric())
_sql(value_of)(lambda t: (
    f"CASE WHEN ({t}) NOT GLOB '*[^0-9.-]*' AND ({t}) GLOB '*[0-9]*' AND substr({t}, 2) NOT GLOB '*-*' "
    f"AND ({t}) NOT GLOB '*.*.*' AND ({t}) NOT GLOB '*.' AND ({t}) NOT GLOB '.*' AND ({t}) NOT GLOB '-.*' "
    f"THEN CAST({t} AS REAL) END"))
_sql(value_of, "postgresql")(lambda t: f"CASE WHEN ({t}) ~ '{_NUMBER_PATTERN}' THEN CAST({t} AS NUMERIC) END")


def _extreme(name: str, sqlite_fn: str, pg_fn: str) -> type[_Element]:
    """MIN/MAX over values that skips blanks: PostgreSQL's LEAST/GREATEST do; SQLite's min/max do not,
    so blanks become a sentinel beyond every value (the last argument) that is turned back into a blank."""
    element = _element(name)

    @compiles(element)
    def _sqlite(el: _Element, compiler: Any, **kw: Any) -> str:
        *values, sentinel = el.parts(compiler, **kw)
        return f"NULLIF({sqlite_fn}({', '.join(f'COALESCE({v}, {sentinel})' for v in values)}), {sentinel})"

    @compiles(element, "postgresql")
    def _pg(el: _Element, compiler: Any, **kw: Any) -> str:
        return f"{pg_fn}({', '.join(el.parts(compiler, **kw)[:-1])})"

    return element


least = _extreme("least_of", "MIN", "LEAST")
greatest = _extreme("greatest_of", "MAX", "GREATEST")
#: The sentinels of ``least``/``greatest`` per type, as SQLite stores the values (dates as ISO text).
SENTINELS = {
    ("least", ExprType.NUMBER): literal_column("9e999"), ("greatest", ExprType.NUMBER): literal_column("-9e999"),
    ("least", ExprType.DATE): literal_column("'9999-99-99'"), ("greatest", ExprType.DATE): literal_column("''"),
    ("least", ExprType.DATETIME): literal_column("'9999-99-99 99'"),
    ("greatest", ExprType.DATETIME): literal_column("''"),
}


# -- text --------------------------------------------------------------------

contains = _element("contains", Boolean())
_sql(contains)(lambda t, s: f"COALESCE(instr({t}, {s}) > 0, 0)")
_sql(contains, "postgresql")(lambda t, s: f"COALESCE(strpos({t}, {s}) > 0, false)")

right_of = _element("right_of", String())  # the count is an int_of
_sql(right_of)(lambda t, n: f"CASE WHEN {n} < 0 THEN NULL WHEN {n} = 0 THEN substr({t}, 1, 0) "
                            f"ELSE substr({t}, -({n})) END")
_sql(right_of, "postgresql")(lambda t, n: f"CASE WHEN {n} < 0 THEN NULL ELSE right({t}, {n}) END")

date_text = _element("date_text", String())
_sql(date_text)(lambda d: f"date({d})")
_sql(date_text, "postgresql")(lambda d: f"to_char({d}, 'YYYY-MM-DD')")

datetime_text = _element("datetime_text", String())
_sql(datetime_text)(lambda d: f"strftime('%Y-%m-%d %H:%M:%S', {d})")
_sql(datetime_text, "postgresql")(lambda d: f"to_char(({d}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')")


# -- dates -------------------------------------------------------------------

to_date = _element("to_date", Date())  # the UTC day of a date-time
_sql(to_date)(lambda d: f"date({d})")
_sql(to_date, "postgresql")(lambda d: f"CAST(({d}) AT TIME ZONE 'UTC' AS DATE)")

year_of = _element("year_of", Numeric())
_sql(year_of)(lambda d: f"CAST(strftime('%Y', {d}) AS INTEGER)")
_sql(year_of, "postgresql")(lambda d: f"EXTRACT(YEAR FROM {d})")

month_of = _element("month_of", Numeric())
_sql(month_of)(lambda d: f"CAST(strftime('%m', {d}) AS INTEGER)")
_sql(month_of, "postgresql")(lambda d: f"EXTRACT(MONTH FROM {d})")

days_between = _element("days_between", Numeric())
_sql(days_between)(lambda a, b: f"CAST(julianday({b}) - julianday({a}) AS INTEGER)")
_sql(days_between, "postgresql")(lambda a, b: f"CAST(({b}) - ({a}) AS NUMERIC)")

add_days = _element("add_days", Date())  # the days are an int_of
_sql(add_days)(lambda d, n: f"CASE WHEN julianday({d}) + ({n}) BETWEEN {_JULIAN_FIRST} AND {_JULIAN_LAST} "
                            f"THEN date(julianday({d}) + ({n})) END")
_sql(add_days, "postgresql")(lambda d, n: (
    f"CASE WHEN (({d}) - DATE '0001-01-01') + ({n}) BETWEEN 0 AND {LAST_DAY_OFFSET} "
    f"THEN DATE '0001-01-01' + LEAST(GREATEST((({d}) - DATE '0001-01-01') + ({n}), 0), {LAST_DAY_OFFSET}) END"))

make_date = _element("make_date", Date())  # year, month and day are int_of


@_sql(make_date)
def _make_date_sqlite(y: str, m: str, d: str) -> str:
    text = f"printf('%04d-%02d-%02d', {y}, {m}, {d})"
    return (f"CASE WHEN ({y}) BETWEEN 1 AND 9999 AND ({m}) BETWEEN 1 AND 12 AND ({d}) BETWEEN 1 AND 31 "
            f"AND date(julianday({text})) = {text} THEN {text} END")


@_sql(make_date, "postgresql")
def _make_date_pg(y: str, m: str, d: str) -> str:
    first = f"make_date(LEAST(GREATEST({y}, 1), 9999), LEAST(GREATEST({m}, 1), 12), 1)"
    day = f"{first} + (LEAST(GREATEST({d}, 1), 31) - 1)"
    return (f"CASE WHEN ({y}) BETWEEN 1 AND 9999 AND ({m}) BETWEEN 1 AND 12 AND ({d}) BETWEEN 1 AND 31 "
            f"AND EXTRACT(MONTH FROM {day}) = ({m}) THEN {day} END")


def sql_type(kind: ExprType) -> TypeEngine:
    """The Core type that reads a value of ``kind`` back from either database."""
    return _SQL_TYPES.get(kind, String())

