"""The function catalog: what each function takes and gives, for the type checker and for error messages.

The SQL compiler and the Python evaluator each implement every name listed here
(the parity test holds them to the same answers); a function is added here first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .nodes import VALUE_TYPES, ExprType

N, T, B, D, DT = ExprType.NUMBER, ExprType.TEXT, ExprType.BOOLEAN, ExprType.DATE, ExprType.DATETIME


@dataclass(frozen=True)
class Param:
    name: str
    types: frozenset[ExprType]
    #: Generic parameters of one call must share a type, which a generic result then has.
    generic: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    #: The result type; None means "the type shared by the generic parameters".
    result: ExprType | None
    usage: str
    #: Fewer arguments than parameters are allowed down to this count (None: all are required).
    min_args: int | None = None
    #: The last parameter may repeat.
    variadic: bool = False
    #: Only where a record is compared with its saved version (validation rules).
    rules_only: bool = False
    #: The single argument must be a field of the record itself.
    field_argument: bool = False

    @property
    def fewest(self) -> int:
        return len(self.params) if self.min_args is None else self.min_args


def _p(name: str, *types: ExprType, generic: bool = False) -> Param:
    return Param(name, frozenset(types or VALUE_TYPES), generic)


_ORDERED = (N, D, DT)

FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("IF", (_p("condition", B), _p("then", generic=True), _p("else", generic=True)), None,
             "IF(condition, value_if_true, value_if_false)"),
    # CASE's shape (value, match, result, ..., else) is checked by the checker itself.
    Function("CASE", (_p("value"),), None, "CASE(value, match1, result1, match2, result2, ..., else_result)",
             variadic=True),
    Function("ISBLANK", (_p("value"),), B, "ISBLANK(value)"),
    Function("BLANKVALUE", (_p("value", generic=True), _p("substitute", generic=True)), None,
             "BLANKVALUE(value, substitute_if_blank)"),
    Function("TODAY", (), D, "TODAY()"),
    Function("NOW", (), DT, "NOW()"),
    Function("DATE", (_p("year", N), _p("month", N), _p("day", N)), D, "DATE(year, month, day)"),
    Function("YEAR", (_p("date", D, DT),), N, "YEAR(date)"),
    Function("MONTH", (_p("date", D, DT),), N, "MONTH(date)"),
    Function("DAYS_BETWEEN", (_p("start", D, DT), _p("end", D, DT)), N, "DAYS_BETWEEN(start_date, end_date)"),
    Function("ADD_DAYS", (_p("date", D), _p("days", N)), D, "ADD_DAYS(date, days)"),
    Function("TEXT", (_p("value"),), T, "TEXT(value)"),
    Function("VALUE", (_p("text", T),), N, "VALUE(text)"),
    Function("CONCAT", (_p("text", T),), T, "CONCAT(text1, text2, ...)", variadic=True),
    Function("LEFT", (_p("text", T), _p("count", N)), T, "LEFT(text, count)"),
    Function("RIGHT", (_p("text", T), _p("count", N)), T, "RIGHT(text, count)"),
    Function("LEN", (_p("text", T),), N, "LEN(text)"),
    Function("UPPER", (_p("text", T),), T, "UPPER(text)"),
    Function("LOWER", (_p("text", T),), T, "LOWER(text)"),
    Function("CONTAINS", (_p("text", T), _p("part", T)), B, "CONTAINS(text, part)"),
    Function("ROUND", (_p("number", N), _p("digits", N)), N, "ROUND(number, digits)", min_args=1),
    Function("ABS", (_p("number", N),), N, "ABS(number)"),
    Function("MIN", (_p("value", *_ORDERED, generic=True), _p("value", *_ORDERED, generic=True)), None,
             "MIN(value1, value2, ...)", variadic=True),
    Function("MAX", (_p("value", *_ORDERED, generic=True), _p("value", *_ORDERED, generic=True)), None,
             "MAX(value1, value2, ...)", variadic=True),
    Function("ISCHANGED", (_p("field"),), B, "ISCHANGED(field)", rules_only=True, field_argument=True),
    Function("PRIORVALUE", (_p("field", generic=True),), None, "PRIORVALUE(field)", rules_only=True,
             field_argument=True),
    Function("USER", (), N, "USER()"),
)}
