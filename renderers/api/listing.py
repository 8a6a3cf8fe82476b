"""The query string of a record list, read into the query engine's ``ListQuery``.

``?stage=won`` filters by equality and ``?amount__gte=1000`` by another
operator, so a filter reads like the field it is about; ``q``, ``sort``,
``limit``, ``cursor`` and ``total`` steer the list itself (a field that happens
to share one of those names is still filtered with ``name__eq=``). Only the
shape is checked here; whether a field exists and allows an operator is the
query engine's to say, so the API and the screens give the same answers.
``where`` takes an expression (``amount > 1000 AND stage IN ("won", "lost")``),
checked against the metadata of the request's tenant and object and run by the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from flask import request
from werkzeug.datastructures import MultiDict

from trellis.platform.errors import FieldProblem, InvalidInput
from trellis.platform.records.query import MAX_LIMIT, Filter, ListQuery, Where, where_condition

from .auth import caller
from .payload import flag, refuse_nul

OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "contains", "starts_with", "in", "blank")
RESERVED = ("q", "sort", "limit", "cursor", "total", "where")
DEFAULT_LIMIT = 50


def list_query(args: MultiDict[str, str]) -> ListQuery:
    """Filters, search, sort and paging from the query string; a malformed part is a 422 naming it."""
    refuse_nul({key: [key, *values] for key, values in args.lists()})
    filters = [parse_filter(key, value) for key, values in args.lists() if key not in RESERVED for value in values]
    return ListQuery(
        filters=filters,
        search=_last(args, "q") or None,
        sort=parse_sort(_last(args, "sort") or ""),
        limit=_limit(_last(args, "limit")),
        cursor=_last(args, "cursor") or None,
        with_total="total" in args and flag("total", _last(args, "total") or ""),
        where=_where(_last(args, "where") or None),
    )


def _where(text: str | None) -> Where | None:
    """The ``where`` expression, typed against the object named in the URL, for the calling user."""
    if text is None:
        return None
    who = caller()
    runtime = who.runtime()
    obj = runtime.object((request.view_args or {})["object_name"])
    return where_condition(text, obj, runtime.objects, who.actor.user_id)


def parse_filter(key: str, value: str) -> Filter:
    """``field`` or ``field__op`` with its text value; ``in`` takes a comma-separated list."""
    name, sep, op = key.rpartition("__")
    if not sep:
        name, op = key, "eq"
    if op not in OPERATORS:
        raise InvalidInput("Unknown filter operator.", [FieldProblem(
            key, f"'{op}' is not a filter operator; use one of: {', '.join(OPERATORS)}.")])
    if op == "in":
        return Filter(name, op, value.split(","))  # "" is one empty value, judged like any other
    if op == "blank":
        return Filter(name, op, flag(key, value))
    return Filter(name, op, value)


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``-amount,name`` → [("amount", True), ("name", False)]: a minus sorts that key descending."""
    if not text:
        return []
    keys = []
    for part in text.split(","):
        name = part[1:] if part.startswith("-") else part
        if not name:
            raise InvalidInput("Bad sort.", [FieldProblem(
                "sort", "Name fields separated by commas, a minus before those to sort descending: -amount,name.")])
        keys.append((name, part.startswith("-")))
    return keys


def page_body(records: Sequence[Mapping], next_cursor: str | None, total: int | None) -> dict:
    return {"data": list(records), "next_cursor": next_cursor, "total": total}


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not re.fullmatch(r"-?[0-9]{1,18}", text):
        raise InvalidInput("Bad limit.", [FieldProblem(
            "limit", f"'{text}' is not a whole number from 1 to {MAX_LIMIT}.")])
    return int(text)


def _last(args: MultiDict[str, str], key: str) -> str | None:
    values = args.getlist(key)
    return values[-1] if values else None
