"""The query engine: filters, search, sort and pagination compiled to one SELECT.

Every list — API, screens, lookups — is built here, so the same rows are seen
through every door (later issues add the user's record-level access predicate
in this one place).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import ColumnElement, Select, Table, Text, and_, cast, false, func, literal, null, or_, select, true

from trellis.metadata.expressions import Checked, ExpressionError, ExprType, Scope, check, parse
from trellis.metadata.fieldtypes import FORMULA_RESULTS, FieldType, field_type
from trellis.metadata.formulas import Formulas, formulas_of
from trellis.metadata.model import SYSTEM_FIELDS, ObjectDef
from trellis.metadata.values import INT64_MAX, INT64_MIN

from ..errors import FieldProblem, InvalidInput
from ..expressions import Context, to_condition, to_sql
from .rollups import rollup_columns

MAX_LIMIT = 500


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Where:
    """An expression condition on a list (the API's ``where=``), checked against the object's metadata."""

    checked: Checked
    context: Context = field(default_factory=Context)


@dataclass(frozen=True)
class Source:
    """What a list reads: the object's table and the SQL of its formulas, computed on read by the database.

    ``c`` maps every field name to its column or its formula's expression, which is all the expression
    compiler needs of a table, so ``where=`` reads formulas as if they were columns.
    """

    table: Table
    formulas: Mapping[str, ColumnElement[Any]]
    #: The result type of each formula that checks (others are blank).
    results: Mapping[str, ExprType]

    @property
    def c(self) -> Mapping[str, ColumnElement[Any]]:
        return {**self.table.c, **self.formulas}

    def column(self, name: str) -> ColumnElement[Any]:
        return self.formulas[name] if name in self.formulas else self.table.c[name]

    def select(self) -> Select:
        """The table's columns and each formula labelled with its field name."""
        return select(self.table, *(value.label(name) for name, value in self.formulas.items()))


def formula_source(obj: ObjectDef, table: Table, formulas: Formulas, context: Context) -> Source:
    """Compile ``obj``'s checked formulas in order, each reading the SQL of those before it; a formula that
    does not check (a later change broke it) reads as blank rather than failing the whole list."""
    compiled: dict[str, ColumnElement[Any]] = rollup_columns(formulas.rollups, table, context)
    results = {**{name: r.result for name, r in formulas.rollups.items()},
               **{name: checked.type for name, checked in formulas.checked.items()}}
    source = Source(table, compiled, results)
    tables = {t.name: t for t in table.metadata.tables.values()}
    for name, checked in formulas.checked.items():
        try:
            compiled[name] = to_sql(checked, source, context, tables)  # type: ignore[arg-type]
        except ExpressionError:  # too complex once compiled to SQL
            compiled[name] = null()
    for definition in obj.fields:
        if definition.kind.computed and definition.api_name not in compiled:
            compiled[definition.api_name] = cast(null(), Text())  # typed: PostgreSQL refuses ORDER BY NULL
    return source


def where_condition(text: str, obj: ObjectDef, objects: Mapping[str, ObjectDef], user_id: int | None) -> Where:
    """Parse and type-check ``text`` as a condition on ``obj`` (whose formulas read like fields); a mistake is
    an ``InvalidInput`` naming ``where``, with the position and how to mend it."""
    try:
        scope_obj = formulas_of(obj, objects).scope_obj
        checked = check(parse(text), Scope(scope_obj, objects), expect=ExprType.BOOLEAN)
    except ExpressionError as error:
        raise InvalidInput("The where expression cannot be used.", [FieldProblem("where", str(error))]) from None
    return Where(checked, Context(user_id=user_id))


@dataclass(frozen=True)
class ListQuery:
    """What a caller wants from a list; every part is checked against the metadata."""

    filters: Sequence[Filter] = ()
    search: str | None = None
    #: (field, descending) pairs; ``id`` is always added last so the order is total.
    sort: Sequence[tuple[str, bool]] = ()
    limit: int = 50
    cursor: str | None = None
    #: Page-number pagination for the screens; the API uses ``cursor``.
    offset: int = 0
    with_total: bool = False
    #: An expression every listed record satisfies, run by the database.
    where: Where | None = None


@dataclass
class Page:
    records: list[dict[str, Any]]
    next_cursor: str | None = None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_OPERATORS = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: or_(c != v, c.is_(None)),
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "contains": lambda c, v: c.ilike(f"%{_escape_like(v)}%", escape="\\"),
    "starts_with": lambda c, v: c.ilike(f"{_escape_like(v)}%", escape="\\"),
    "in": lambda c, v: c.in_(v),
    "blank": lambda c, v: c.is_(None) if v else c.is_not(None),
}


def build_select(obj: ObjectDef, source: Table | Source, query: ListQuery) -> tuple[Select, Select | None]:
    """The page query and, when asked for, the matching count query."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput("Bad limit.", [FieldProblem("limit", f"limit must be from 1 to {MAX_LIMIT}.")])
    if isinstance(source, Table):
        source = Source(source, {}, {})
    table = source.table
    conditions = [filter_condition(obj, source, f) for f in query.filters]
    if query.where is not None:
        conditions.append(_where(source, query.where))
    if query.search:
        conditions.append(_search_condition(obj, table, query.search))
    where = and_(true(), *conditions)
    order = sort_keys(obj, query.sort)
    statement = source.select().where(where)
    if query.cursor:
        statement = statement.where(_after_cursor(source, order, decode_cursor(query.cursor, len(order))))
    statement = statement.order_by(*_order_by(source, order)).limit(query.limit + 1).offset(query.offset)
    count = select(func.count()).select_from(table).where(where) if query.with_total else None
    return statement, count


def _where(source: Source, where: Where) -> ColumnElement[bool]:
    tables = {t.name: t for t in source.table.metadata.tables.values()}
    try:
        return to_condition(where.checked, source, where.context, tables)  # type: ignore[arg-type]
    except ExpressionError as error:  # too complex once compiled to SQL
        raise InvalidInput("The where expression cannot be used.", [FieldProblem("where", str(error))]) from None


def filter_condition(obj: ObjectDef, source: Table | Source, flt: Filter) -> ColumnElement[bool]:
    """One filter as SQL, its value typed by the field's own marshmallow field (a formula's by its result)."""
    if isinstance(source, Table):
        source = Source(source, {}, {})
    formula = FORMULA_RESULTS[source.results[flt.field].value] if flt.field in source.results else None
    if flt.field in SYSTEM_FIELDS:
        ops = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "blank")
    elif formula is not None:
        ops = formula.filter_ops
    elif obj.has_field(flt.field):
        ops = obj.field(flt.field).kind.filter_ops
    else:
        problem = FieldProblem(flt.field, f"'{flt.field}' is not a field of {obj.api_name}.")
        raise InvalidInput("Unknown filter field.", [problem])
    if flt.op not in ops:
        message = f"'{flt.op}' cannot filter {flt.field}; use one of: {', '.join(ops)}."
        raise InvalidInput("Unsupported filter.", [FieldProblem(flt.field, message)])
    value = flt.value
    if flt.op == "in":
        if not isinstance(value, list | tuple):  # a bare "won" would otherwise be read as "w", "o", "n"
            message = f"'in' needs a list of values for {flt.field}, such as [\"a\", \"b\"]."
            raise InvalidInput("Unsupported filter.", [FieldProblem(flt.field, message)])
        value = [typed_value(obj, flt.field, v) for v in value]
    elif formula is not None and flt.op not in ("blank", "contains", "starts_with"):
        value = None if value is None else _deserialize(flt.field, formula.make_field({}), _lowered(formula, value))
    elif flt.op not in ("blank", "contains", "starts_with"):
        value = typed_value(obj, flt.field, value)
    return _OPERATORS[flt.op](source.column(flt.field), value)


def _lowered(kind: FieldType, raw: Any) -> Any:
    """Booleans in a query string as JSON spells them, whatever the case."""
    return raw.lower() if kind.name == "boolean" and isinstance(raw, str) else raw


def typed_value(obj: ObjectDef, name: str, raw: Any) -> Any:
    """A filter value (often a query-string text) converted to the field's Python type."""
    if raw is None:
        return None
    if name in ("created_at", "updated_at"):
        return _deserialize(name, field_type("datetime").make_field({}), raw)
    if name in SYSTEM_FIELDS or obj.field(name).kind.storage in ("integer", "reference"):
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput("Bad filter value.", [FieldProblem(name, f"{raw!r} is not a whole number.")]) from None
        low, high = (-(2**31), 2**31 - 1) if name == "version" else (INT64_MIN, INT64_MAX)  # version is INTEGER
        if not low <= number <= high:  # the database would overflow: a 500, not an answer
            raise InvalidInput("Bad filter value.", [FieldProblem(name, f"{raw!r} is too large for {name}.")])
        return number
    field = obj.field(name)
    if field.kind.storage == "boolean" and isinstance(raw, str):
        raw = raw.lower()
    return _deserialize(name, field.kind.make_field(field.options), raw)


def _deserialize(name: str, loader: Any, raw: Any) -> Any:
    try:
        return loader.deserialize(raw)
    except ValidationError as error:
        message = " ".join(error.messages) if isinstance(error.messages, list) else str(error.messages)
        raise InvalidInput("Bad filter value.", [FieldProblem(name, message)]) from None


def sort_keys(obj: ObjectDef, sort: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    for name, _ in sort:
        sortable = name in SYSTEM_FIELDS or (obj.has_field(name) and obj.field(name).kind.sortable)
        if not sortable:
            raise InvalidInput("Cannot sort.", [FieldProblem("sort", f"Lists cannot be sorted by '{name}'.")])
    keys = []
    for name, descending in sort:
        if name == "id":  # unique, so it settles the order where it stands, in the direction asked
            return keys + [("id", descending)]
        keys.append((name, descending))
    return keys + [("id", keys[0][1] if keys else False)]


def _order_by(source: Source, order: list[tuple[str, bool]]) -> list:
    return [(source.column(n).desc() if d else source.column(n).asc()).nulls_last() for n, d in order]


def _after_cursor(source: Source, order: list[tuple[str, bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after the cursor row in the (nulls-last) sort order."""
    condition: ColumnElement[bool] = false()
    for index in reversed(range(len(order))):
        name, descending = order[index]
        column, value = source.column(name), values[index]
        if value is None:
            beyond = false()
            same = column.is_(None)
        else:
            value = literal(value, column.type)  # a plain True/False cannot be compared with < or > in SQLAlchemy
            beyond = or_(column < value if descending else column > value, column.is_(None))
            same = column == value
        condition = or_(beyond, and_(same, condition)) if index < len(order) - 1 else beyond
    return condition


def _search_condition(obj: ObjectDef, table: Table, text: str) -> ColumnElement[bool]:
    searchable = [f.api_name for f in obj.fields if "contains" in f.kind.filter_ops]
    pattern = f"%{_escape_like(text)}%"
    return or_(false(), *(table.c[name].ilike(pattern, escape="\\") for name in searchable))


def _escape_like(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(record: dict[str, Any], order: list[tuple[str, bool]]) -> str:
    values = [_plain(record.get(name)) for name, _ in order]
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return [_typed(v) for v in values]
    except (ValueError, TypeError):
        problem = FieldProblem("cursor", "The cursor is not one this list gave out; start again without it.")
        raise InvalidInput("Bad cursor.", [problem]) from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {"t": "decimal", "v": str(value)}
    return value


def _typed(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    kind, text = value["t"], value["v"]
    return {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "decimal": Decimal}[kind](text)
