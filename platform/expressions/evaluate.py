"""Evaluate a checked expression in Python, over one record (for rules on a record not yet saved).

It follows the blank rules of ``trellis.metadata.expressions`` exactly as the SQL
compiler does; ``tests/platform/test_expression_parity.py`` holds the two together.
Nothing is ever passed to ``eval``: each node kind and function is a plain method.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from trellis.metadata.expressions import Binary, Call, Checked, FieldRef, InList, Literal, Node, Unary

from .context import Context
from .dialect import INT_CLAMP

_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
#: Wide enough that Python keeps the digits PostgreSQL's NUMERIC keeps.
_DECIMALS = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_UP, Emax=999_999, Emin=-999_999)
_COMPARE = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def evaluate(checked: Checked, record: Mapping[str, Any], context: Context | None = None) -> Any:
    """The expression's value for ``record`` (a dict of field values as the record service loads them).

    Numbers come back as Decimal, date-times in UTC, and a blank as None.
    """
    with decimal.localcontext(_DECIMALS):
        return _Evaluator(checked, context or Context()).value(checked.root, record)


def _normal(value: Any) -> Any:
    """A stored value as the language sees it: numbers as Decimal, date-times in UTC."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _integer(value: Decimal) -> int:
    return int(max(min(value, INT_CLAMP), -INT_CLAMP))


def _blank(value: Any) -> bool:
    return value is None or value == ""


class _Evaluator:
    def __init__(self, checked: Checked, context: Context) -> None:
        self.checked = checked
        self.context = context

    def value(self, node: Node, record: Mapping[str, Any]) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, FieldRef):
            return self.field(node, record)
        if isinstance(node, Unary):
            if node.op == "NOT":
                return not self.condition(node.operand, record)
            operand = self.value(node.operand, record)
            return None if operand is None else -operand
        if isinstance(node, Binary):
            return self.binary(node, record)
        if isinstance(node, InList):
            return self.in_list(node, record)
        args = [lambda n=arg: self.value(n, record) for arg in node.args]
        return getattr(self, f"fn_{node.name.lower()}")(node, record, *args)

    def condition(self, node: Node, record: Mapping[str, Any]) -> bool:
        return self.value(node, record) is True

    def field(self, node: FieldRef, record: Mapping[str, Any] | None) -> Any:
        steps = self.checked.path_of(node)
        for step in steps[:-1]:
            target = record.get(step.field) if record is not None else None
            if target is None:
                return None
            if self.context.read is None:
                raise ValueError("Following a lookup path in Python needs Context(read=...).")
            record = self.context.read(self.checked.scope.objects[step.object].field(step.field).target, target)
        return None if record is None else _normal(record.get(steps[-1].field))

    def binary(self, node: Binary, record: Mapping[str, Any]) -> Any:
        if node.op == "AND":
            return self.condition(node.left, record) and self.condition(node.right, record)
        if node.op == "OR":
            return self.condition(node.left, record) or self.condition(node.right, record)
        left, right = self.value(node.left, record), self.value(node.right, record)
        if node.op == "&":
            return (left or "") + (right or "")
        if left is None or right is None:
            return None if node.op in "+-*/" else False
        if node.op == "/":
            return None if right == 0 else left / right
        if node.op in "+-*":
            return {"+": left + right, "-": left - right, "*": left * right}[node.op]
        return _COMPARE[node.op](left, right)

    def in_list(self, node: InList, record: Mapping[str, Any]) -> bool:
        value = self.value(node.value, record)
        if value is None:
            return False
        return any(value == item for item in (self.value(i, record) for i in node.items) if item is not None)

    # -- functions (arguments come as thunks, so IF and CASE evaluate only the branch they take) --

    def fn_if(self, node: Call, record: Mapping, test: Any, then: Any, other: Any) -> Any:
        return then() if self.condition(node.args[0], record) else other()

    def fn_case(self, node: Call, record: Mapping, value: Any, *rest: Any) -> Any:
        subject = value()
        if subject is not None:
            for index in range(0, len(rest) - 1, 2):
                if rest[index]() == subject:
                    return rest[index + 1]()
        return rest[-1]()

    def fn_isblank(self, node: Call, record: Mapping, value: Any) -> bool:
        return _blank(value())

    def fn_blankvalue(self, node: Call, record: Mapping, value: Any, substitute: Any) -> Any:
        result = value()
        return substitute() if _blank(result) else result

    def fn_today(self, node: Call, record: Mapping) -> date:
        return self.context.today

    def fn_now(self, node: Call, record: Mapping) -> datetime:
        return self.context.utc_now

    def fn_user(self, node: Call, record: Mapping) -> Decimal | None:
        return None if self.context.user_id is None else Decimal(self.context.user_id)

    def fn_date(self, node: Call, record: Mapping, year: Any, month: Any, day: Any) -> date | None:
        parts = [year(), month(), day()]
        if any(p is None for p in parts):
            return None
        try:
            return date(*(_integer(p) for p in parts))
        except ValueError:
            return None

    def fn_year(self, node: Call, record: Mapping, value: Any) -> Decimal | None:
        day = _day(value())
        return None if day is None else Decimal(day.year)

    def fn_month(self, node: Call, record: Mapping, value: Any) -> Decimal | None:
        day = _day(value())
        return None if day is None else Decimal(day.month)

    def fn_days_between(self, node: Call, record: Mapping, start: Any, end: Any) -> Decimal | None:
        first, last = _day(start()), _day(end())
        return None if first is None or last is None else Decimal((last - first).days)

    def fn_add_days(self, node: Call, record: Mapping, value: Any, days: Any) -> date | None:
        day, count = value(), days()
        if day is None or count is None:
            return None
        try:
            return day + timedelta(days=_integer(count))
        except OverflowError:
            return None

    def fn_text(self, node: Call, record: Mapping, value: Any) -> str | None:
        result = value()
        if result is None or isinstance(result, str):
            return result
        if isinstance(result, bool):
            return "true" if result else "false"
        if isinstance(result, Decimal):
            return "0" if result == 0 else format(result.normalize(), "f")
        if isinstance(result, datetime):
            return result.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
        return result.isoformat()

    def fn_value(self, node: Call, record: Mapping, text: Any) -> Decimal | None:
        result = text()
        return Decimal(result) if result is not None and _NUMBER.fullmatch(result) else None

    def fn_concat(self, node: Call, record: Mapping, *parts: Any) -> str:
        return "".join(part() or "" for part in parts)

    def fn_left(self, node: Call, record: Mapping, text: Any, count: Any) -> str | None:
        value, number = text(), count()
        if value is None or number is None or _integer(number) < 0:
            return None
        return value[: _integer(number)]

    def fn_right(self, node: Call, record: Mapping, text: Any, count: Any) -> str | None:
        value, number = text(), count()
        if value is None or number is None or _integer(number) < 0:
            return None
        return value[max(len(value) - _integer(number), 0):]

    def fn_len(self, node: Call, record: Mapping, text: Any) -> Decimal:
        return Decimal(len(text() or ""))

    def fn_upper(self, node: Call, record: Mapping, text: Any) -> str | None:
        value = text()
        return None if value is None else value.upper()

    def fn_lower(self, node: Call, record: Mapping, text: Any) -> str | None:
        value = text()
        return None if value is None else value.lower()

    def fn_contains(self, node: Call, record: Mapping, text: Any, part: Any) -> bool:
        value, sought = text(), part()
        return value is not None and sought is not None and sought in value

    def fn_round(self, node: Call, record: Mapping, number: Any, digits: Any = None) -> Decimal | None:
        value = number()
        places = digits() if digits is not None else Decimal(0)
        if value is None or places is None:
            return None
        return value.quantize(Decimal(1).scaleb(-min(max(_integer(places), 0), 10)))

    def fn_abs(self, node: Call, record: Mapping, number: Any) -> Decimal | None:
        value = number()
        return None if value is None else abs(value)

    def fn_min(self, node: Call, record: Mapping, *values: Any) -> Any:
        present = [v for v in (value() for value in values) if v is not None]
        return min(present) if present else None

    def fn_max(self, node: Call, record: Mapping, *values: Any) -> Any:
        present = [v for v in (value() for value in values) if v is not None]
        return max(present) if present else None

    def fn_ischanged(self, node: Call, record: Mapping, value: Any) -> bool:
        prior = self.context.prior
        return prior is not None and _normal(prior.get(node.args[0].path[0])) != value()

    def fn_priorvalue(self, node: Call, record: Mapping, value: Any) -> Any:
        return None if self.context.prior is None else self.field(node.args[0], self.context.prior)


def _day(value: date | datetime | None) -> date | None:
    """The UTC day of a date-time; a date as it is."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    return value


