"""Compile a checked expression to a SQLAlchemy Core expression over an object's table.

Values only ever reach the database as bind parameters, and names only as the
``Column`` objects of the tenant's compiled tables (every field path was resolved
by the checker), so no text of the expression becomes SQL. Lookup paths become
correlated scalar subqueries on aliases of the target tables. The blank rules of
``trellis.metadata.expressions`` hold: conditions are two-valued (a comparison
with a blank is false, not NULL), so ``NOT`` agrees with Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import Grouping
from sqlalchemy.types import TypeDecorator

from trellis.metadata.expressions import (
    Binary,
    Call,
    Checked,
    ExprType,
    FieldRef,
    InList,
    Literal,
    Node,
    Unary,
)

from . import dialect as d
from .budget import within_budget
from .context import Context

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operators.eq, "!=": operators.ne, "<": operators.lt, "<=": operators.le, ">": operators.gt,
    ">=": operators.ge}
#: Nodes whose boolean value may be blank (a condition then reads it as false).
_MAYBE_BLANK = ("IF", "CASE", "BLANKVALUE", "PRIORVALUE")


class ExprNumber(TypeDecorator):
    """Numbers as the expression language sees them: Decimal in Python, NUMERIC on PostgreSQL,
    and on SQLite an integer or a REAL (SQLite has no exact decimal type)."""

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(Float() if dialect.name == "sqlite" else Numeric())

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() and abs(number) < 2**63 else float(number)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))


_TYPES = {ExprType.NUMBER: ExprNumber(), ExprType.TEXT: String(), ExprType.BOOLEAN: Boolean(),
          ExprType.DATE: Date(), ExprType.DATETIME: DateTime(timezone=True)}


def to_sql(checked: Checked, table: Table, context: Context | None = None,
           tables: Mapping[str, Table] | None = None) -> ColumnElement[Any]:
    """The expression's value for each row of ``table`` (the table of ``checked.scope.obj``).

    ``tables`` gives the tables lookup paths reach; by default they are found in
    ``table``'s own ``MetaData``, where ``build_tables`` puts a tenant's tables together.
    """
    within_budget(checked)
    return _Compiler(checked, table, context or Context(), tables).value(checked.root)


def to_condition(checked: Checked, table: Table, context: Context | None = None,
                 tables: Mapping[str, Table] | None = None) -> ColumnElement[bool]:
    """A boolean expression as a WHERE condition (a blank counts as false)."""
    if checked.type is not ExprType.BOOLEAN:
        raise checked.expression.error(f"A condition is needed here, but this gives a {checked.type}.", checked.root)
    within_budget(checked)
    return _Compiler(checked, table, context or Context(), tables).condition(checked.root)


class _Compiler:
    def __init__(self, checked: Checked, table: Table, context: Context, tables: Mapping[str, Table] | None) -> None:
        self.checked = checked
        self.table = table
        self.context = context
        self.tables = tables

    def type_of(self, node: Node) -> ExprType:
        return self.checked.type_of(node)

    # -- entry points ------------------------------------------------------

    def value(self, node: Node) -> ColumnElement[Any]:
        """A node's value, typed for reading back and for PostgreSQL's parameter inference."""
        kind = self.type_of(node)
        element = self.build(node)
        if isinstance(node, Unary) and node.op == "NOT":
            element = Grouping(element)  # SQLite writes NOT x as x = 0, which binds looser than SQLAlchemy thinks
        return type_coerce(element, _TYPES[kind]) if kind in _TYPES else element

    def condition(self, node: Node) -> ColumnElement[bool]:
        """A boolean node as a two-valued condition."""
        element = self.value(node)
        maybe_blank = isinstance(node, FieldRef | Literal) or (isinstance(node, Call) and node.name in _MAYBE_BLANK)
        return func.coalesce(element, false()) if maybe_blank else element

    def build(self, node: Node) -> ColumnElement[Any]:
        if isinstance(node, Literal):
            return self.literal(node.value, self.type_of(node))
        if isinstance(node, FieldRef):
            return self.field(node)
        if isinstance(node, Unary):
            if node.op == "-":
                return -self.value(node.operand)
            return not_(Grouping(self.condition(node.operand)))  # NOT of a type-coerced AND loses its parentheses
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            return self.in_list(node)
        return self.call(node)

    def literal(self, value: Any, kind: ExprType) -> ColumnElement[Any]:
        if kind is ExprType.BLANK:
            return null()
        return d.typed[kind](literal(value, _TYPES[kind]))

    # -- fields ------------------------------------------------------------

    def column(self, node: FieldRef) -> ColumnElement[Any]:
        """The field's column, or a correlated subquery along its lookup path."""
        steps = self.checked.path_of(node)
        element: ColumnElement[Any] = self.table.c[steps[0].field]
        for step in steps[1:]:
            target = self.table_named(step.object).alias()
            reach = select(target.c[step.field]).where(target.c.id == element)
            if self.context.guard is not None:
                reach = reach.where(self.context.guard(step.object, target))
            element = reach.correlate_except(target).scalar_subquery()
        return element

    def field(self, node: FieldRef) -> ColumnElement[Any]:
        element = self.column(node)
        return d.typed[ExprType.NUMBER](element) if self.type_of(node) is ExprType.NUMBER else element

    def table_named(self, name: str) -> Table:
        if self.tables is not None:
            return self.tables[name]
        key = f"{self.table.schema}.{name}" if self.table.schema else name
        return self.table.metadata.tables[key]

    # -- operators ---------------------------------------------------------

    def binary(self, node: Binary) -> ColumnElement[Any]:
        if node.op in ("AND", "OR"):
            join = and_ if node.op == "AND" else or_
            return join(self.condition(node.left), self.condition(node.right))
        if node.op == "&":
            return self.concat([node.left, node.right])
        if node.op == "/":
            return d.divide(self.value(node.left), self.value(node.right))
        if node.op in ("+", "-", "*"):
            left, right = self.value(node.left), self.value(node.right)
            return {"+": operators.add, "-": operators.sub, "*": operators.mul}[node.op](left, right)
        return self.compare(node)

    def operand(self, node: Node, other: Node) -> tuple[ColumnElement[Any], bool]:
        """A comparison operand, and whether it can be blank. A bare field stays a bare column (so indexes
        serve it), and a literal compared with one is bound with the column's own type."""
        if _bare(node):
            return self.column(node), True
        if isinstance(node, Literal) and _bare(other):
            column = self.column(other)
            value = node.value
            if not isinstance(column.type, Integer):
                return literal(value, column.type), False
            if value == value.to_integral_value():
                return literal(int(value), column.type), False
        return self.value(node), not isinstance(node, Literal)

    def compare(self, node: Binary) -> ColumnElement[bool]:
        (left, left_blank), (right, right_blank) = self.operand(node.left, node.right), self.operand(
            node.right, node.left)
        if self.type_of(node.left) is ExprType.TEXT and node.op not in ("=", "!="):
            left, right = d.text_order(left), d.text_order(right)
        return self.two_valued(_COMPARE[node.op](left, right), node, [(node.left, left, left_blank),
                                                                      (node.right, right, right_blank)])

    def in_list(self, node: InList) -> ColumnElement[bool]:
        value, value_blank = self.operand(node.value, node.items[0])
        items = [self.operand(item, node.value)[0] for item in node.items]
        simple = all(isinstance(item, Literal) for item in node.items)
        test = value.in_(items)
        if not simple:
            return func.coalesce(test, false())
        return self.two_valued(test, node, [(node.value, value, value_blank)])

    @staticmethod
    def two_valued(test: ColumnElement[bool], node: Node,
                   operands: list[tuple[Node, ColumnElement[Any], bool]]) -> ColumnElement[bool]:
        """``test`` made false where an operand is blank: a bare column is guarded by IS NOT NULL (which
        keeps the test index-friendly), anything else by COALESCE(test, false)."""
        guards = []
        for operand, element, blank in operands:
            if not blank:
                continue
            if not _bare(operand):
                return func.coalesce(test, false())
            guards.append(element.is_not(None))
        return and_(*guards, test) if guards else test

    def concat(self, nodes: list[Node]) -> ColumnElement[str]:
        parts = [func.coalesce(self.value(n), d.typed[ExprType.TEXT](literal("", String()))) for n in nodes]
        result = parts[0]
        for part in parts[1:]:
            result = result.concat(part)
        return type_coerce(result, String())

    # -- functions ---------------------------------------------------------

    def call(self, node: Call) -> ColumnElement[Any]:
        build = getattr(self, f"fn_{node.name.lower()}", None)
        if build is None:
            raise self.checked.expression.error(
                f"{node.name} needs the record being saved, so it cannot run in the database.", node)
        return build(node, *node.args)

    def fn_if(self, node: Call, test: Node, then: Node, other: Node) -> ColumnElement[Any]:
        return case((self.condition(test), self.value(then)), else_=self.value(other))

    def fn_case(self, node: Call, value: Node, *rest: Node) -> ColumnElement[Any]:
        pairs = [(self.value(rest[i]), self.value(rest[i + 1])) for i in range(0, len(rest) - 1, 2)]
        return case(*pairs, value=self.value(value), else_=self.value(rest[-1]))

    def fn_isblank(self, node: Call, value: Node) -> ColumnElement[bool]:
        element = self.value(value)
        if self.type_of(value) is ExprType.TEXT:
            return func.coalesce(element, self.text("")) == self.text("")
        return element.is_(None)

    def fn_blankvalue(self, node: Call, value: Node, substitute: Node) -> ColumnElement[Any]:
        element = self.value(value)
        if self.type_of(value) is ExprType.TEXT:
            element = func.nullif(element, self.text(""))
        return func.coalesce(element, self.value(substitute))

    def fn_today(self, node: Call) -> ColumnElement[Any]:
        return self.literal(self.context.today, ExprType.DATE)

    def fn_now(self, node: Call) -> ColumnElement[Any]:
        return self.literal(self.context.utc_now, ExprType.DATETIME)

    def fn_user(self, node: Call) -> ColumnElement[Any]:
        user = self.context.user_id
        return null() if user is None else self.literal(Decimal(user), ExprType.NUMBER)

    def fn_date(self, node: Call, year: Node, month: Node, day: Node) -> ColumnElement[Any]:
        return d.make_date(self.integer(year), self.integer(month), self.integer(day))

    def fn_year(self, node: Call, value: Node) -> ColumnElement[Any]:
        return d.year_of(self.date(value))

    def fn_month(self, node: Call, value: Node) -> ColumnElement[Any]:
        return d.month_of(self.date(value))

    def fn_days_between(self, node: Call, start: Node, end: Node) -> ColumnElement[Any]:
        return d.days_between(self.date(start), self.date(end))

    def fn_add_days(self, node: Call, value: Node, days: Node) -> ColumnElement[Any]:
        return d.add_days(self.value(value), self.integer(days))

    def fn_text(self, node: Call, value: Node) -> ColumnElement[Any]:
        element, kind = self.value(value), self.type_of(value)
        if kind is ExprType.NUMBER:
            return d.number_text(element)
        if kind is ExprType.BOOLEAN:
            return case((True, self.text("true")), (False, self.text("false")), value=element)
        if kind is ExprType.DATE:
            return d.date_text(element)
        if kind is ExprType.DATETIME:
            return d.datetime_text(element)
        return element

    def fn_value(self, node: Call, text: Node) -> ColumnElement[Any]:
        return d.value_of(self.value(text))

    def fn_concat(self, node: Call, *parts: Node) -> ColumnElement[Any]:
        return self.concat(list(parts))

    def fn_left(self, node: Call, text: Node, count: Node) -> ColumnElement[Any]:
        number = self.integer(count)
        return case((number < 0, null()), else_=func.substr(self.value(text), 1, number))

    def fn_right(self, node: Call, text: Node, count: Node) -> ColumnElement[Any]:
        return d.right_of(self.value(text), self.integer(count))

    def fn_len(self, node: Call, text: Node) -> ColumnElement[Any]:
        return d.typed[ExprType.NUMBER](func.coalesce(func.length(self.value(text)), 0))

    def fn_upper(self, node: Call, text: Node) -> ColumnElement[Any]:
        return func.upper(self.value(text))

    def fn_lower(self, node: Call, text: Node) -> ColumnElement[Any]:
        return func.lower(self.value(text))

    def fn_contains(self, node: Call, text: Node, part: Node) -> ColumnElement[Any]:
        return d.contains(self.value(text), self.value(part))

    def fn_round(self, node: Call, number: Node, digits: Node | None = None) -> ColumnElement[Any]:
        places = self.integer(digits) if digits is not None else literal(0)
        return d.round_to(self.value(number), places)

    def fn_abs(self, node: Call, number: Node) -> ColumnElement[Any]:
        return func.abs(self.value(number))

    def fn_min(self, node: Call, *values: Node) -> ColumnElement[Any]:
        return d.least(*(self.value(v) for v in values), d.SENTINELS[("least", self.type_of(node))])

    def fn_max(self, node: Call, *values: Node) -> ColumnElement[Any]:
        return d.greatest(*(self.value(v) for v in values), d.SENTINELS[("greatest", self.type_of(node))])

    # -- helpers -----------------------------------------------------------

    def text(self, value: str) -> ColumnElement[str]:
        return self.literal(value, ExprType.TEXT)

    def integer(self, node: Node) -> ColumnElement[int]:
        return d.int_of(self.value(node))

    def date(self, node: Node) -> ColumnElement[Any]:
        element = self.value(node)
        return d.to_date(element) if self.type_of(node) is ExprType.DATETIME else element


def _bare(node: Node) -> bool:
    """A field of the record itself (no lookup path): compiled to its plain column."""
    return isinstance(node, FieldRef) and len(node.path) == 1
