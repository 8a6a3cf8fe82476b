"""Report definitions: the rules a JSON Schema cannot say, and the names the engine and screens share.

A report reads one primary object. Every value it shows, groups by or aggregates is a *value*: a field
(``stage``), a path through one or two lookups (``account.industry``), an expression in the expression
language, or a count of child records through a lookup's reverse side (``children``). Values are checked
here with the expression checker, so a report that passes validation compiles to SQL on both backends.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .expressions import ExpressionError, ExprType, Scope, check, parse
from .formulas import formulas_of
from .model import ObjectDef

AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")
#: Aggregates that need a number (the others work on any value that sorts).
NUMERIC_AGGREGATES = ("sum", "avg")
BUCKETS = ("day", "week", "month", "quarter", "year")
MAX_HOPS = 2


def column_name(column: Mapping[str, Any]) -> str:
    """The key of a column in rows and in aggregates: its ``name``, else its field path."""
    return column.get("name") or column["field"]


def aggregate_name(aggregate: Mapping[str, Any]) -> str:
    """The key of an aggregate in results: its ``name``, else ``op`` or ``op_column``."""
    if aggregate.get("name"):
        return aggregate["name"]
    return f"{aggregate['op']}_{aggregate['column']}" if aggregate.get("column") else aggregate["op"]


def value_text(spec: Mapping[str, Any]) -> str | None:
    """The expression text of a field or expression value (None for a child count)."""
    return spec.get("field") or spec.get("expression")


def objects_by_name(objects: Mapping[str, Mapping[str, Any]]) -> dict[str, ObjectDef]:
    return {name: doc if isinstance(doc, ObjectDef) else ObjectDef.from_document(doc) for name, doc in objects.items()}


def value_type(spec: Mapping[str, Any], obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> ExprType:
    """The type of one value; an ``ExpressionError`` (with its position) when it does not check."""
    if "children" in spec:
        return ExprType.NUMBER
    if "field" in spec and spec["field"].count(".") > MAX_HOPS:
        raise ExpressionError(f"'{spec['field']}' goes through more than {MAX_HOPS} lookups.", 0)
    scope = Scope(formulas_of(obj, objects).scope_obj, objects)
    return check(parse(value_text(spec)), scope).type


def check_report(doc: Mapping[str, Any], *, objects: Mapping[str, Any], definitions: Any) -> list[tuple[str, str]]:
    """Problems of a report beyond its schema, each at its JSON path with how to mend it."""
    defs = objects_by_name(objects)
    if doc["object"] not in defs:
        return [("$.object", f"There is no object '{doc['object']}'.{_suggest(doc['object'], defs)}")]
    obj = defs[doc["object"]]
    problems: list[tuple[str, str]] = []
    types: dict[str, ExprType] = {}
    for index, column in enumerate(doc.get("columns", [])):
        name, path = column_name(column), f"$.columns[{index}]"
        if name in types:
            problems.append((f"{path}.name", f"Another column is already called '{name}'; give this one a name."))
        problem, kind = _value_problem(column, obj, defs, path)
        problems += problem
        types[name] = kind or ExprType.BLANK
    for index, grouping in enumerate([*doc.get("group_by", []), *([doc["column_group"]] if "column_group" in doc
                                                                    else [])]):
        path = f"$.group_by[{index}]" if index < len(doc.get("group_by", [])) else "$.column_group"
        problem, kind = _value_problem(grouping, obj, defs, path)
        problems += problem
        if grouping.get("bucket") and kind not in (ExprType.DATE, ExprType.DATETIME, None):
            problems.append((f"{path}.bucket", f"Only dates and date-times have {grouping['bucket']} buckets; "
                                               f"this is a {kind}. Remove bucket."))
    problems += _aggregate_problems(doc.get("aggregates", []), types)
    problems += _filter_problems(doc, obj, defs)
    problems += _sort_and_chart_problems(doc, types)
    return problems


def _value_problem(spec: Mapping[str, Any], obj: ObjectDef, objects: Mapping[str, ObjectDef],
                   path: str) -> tuple[list[tuple[str, str]], ExprType | None]:
    if "children" in spec:
        return _children_problems(spec["children"], obj, objects, f"{path}.children"), ExprType.NUMBER
    try:
        return [], value_type(spec, obj, objects)
    except ExpressionError as error:
        return [(f"{path}.{'field' if 'field' in spec else 'expression'}", str(error))], None


def _children_problems(spec: Mapping[str, Any], obj: ObjectDef, objects: Mapping[str, ObjectDef],
                       path: str) -> list[tuple[str, str]]:
    child = objects.get(spec["object"])
    if child is None:
        return [(f"{path}.object", f"There is no object '{spec['object']}'.{_suggest(spec['object'], objects)}")]
    lookups = [f.api_name for f in child.fields if f.type == "lookup" and f.target == obj.api_name]
    if spec["via"] not in lookups:
        choice = f"use one of: {', '.join(lookups)}" if lookups else f"{child.api_name} has no lookup to it"
        return [(f"{path}.via", f"'{spec['via']}' is not a lookup of {child.api_name} to {obj.api_name}; {choice}.")]
    if "where" in spec:
        try:
            check(parse(spec["where"]), Scope(formulas_of(child, objects).scope_obj, objects), ExprType.BOOLEAN)
        except ExpressionError as error:
            return [(f"{path}.where", str(error))]
    return []


def _aggregate_problems(aggregates: list[Mapping[str, Any]], types: Mapping[str, ExprType]) -> list[tuple[str, str]]:
    problems, seen = [], set()
    for index, aggregate in enumerate(aggregates):
        path, name = f"$.aggregates[{index}]", aggregate_name(aggregate)
        if name in seen:
            problems.append((f"{path}.name", f"Another aggregate is already called '{name}'; give this one a name."))
        seen.add(name)
        column = aggregate.get("column")
        if column is None:
            if aggregate["op"] != "count":
                problems.append((f"{path}.column", f"{aggregate['op']} needs a column: the name of one of columns."))
        elif column not in types:
            problems.append((f"{path}.column", f"There is no column '{column}'.{_suggest(column, types)}"))
        elif aggregate["op"] in NUMERIC_AGGREGATES and types[column] not in (ExprType.NUMBER, ExprType.BLANK):
            problems.append((f"{path}.op", f"{aggregate['op']} needs numbers, and '{column}' is a {types[column]}; "
                                           "use count, count_distinct, min or max."))
    return problems


def _filter_problems(doc: Mapping[str, Any], obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> list:
    problems = []
    names = ["id", "owner", "created_at", "updated_at", "created_by", "updated_by", *(f.api_name for f in obj.fields)]
    for index, flt in enumerate(doc.get("filters", [])):
        if flt["field"] not in names:
            problems.append((f"$.filters[{index}].field",
                             f"'{flt['field']}' is not a field of {obj.api_name}.{_suggest(flt['field'], names)}"))
    if "where" in doc:
        try:
            check(parse(doc["where"]), Scope(formulas_of(obj, objects).scope_obj, objects), ExprType.BOOLEAN)
        except ExpressionError as error:
            problems.append(("$.where", str(error)))
    return problems


def _sort_and_chart_problems(doc: Mapping[str, Any], types: Mapping[str, ExprType]) -> list[tuple[str, str]]:
    problems = []
    for index, key in enumerate(doc.get("sort", [])):
        if key["by"] not in types:
            problems.append((f"$.sort[{index}].by", f"Sort by one of the columns.{_suggest(key['by'], types)}"))
    aggregates = [aggregate_name(a) for a in doc.get("aggregates", [])]
    chart = doc.get("chart")
    if chart and not doc.get("group_by"):
        problems.append(("$.chart", "A chart draws the groups of a report; add group_by or remove chart."))
    elif chart and chart.get("aggregate", aggregates[0] if aggregates else "count") not in [*aggregates, "count"]:
        problems.append(("$.chart.aggregate", f"There is no aggregate '{chart['aggregate']}'."
                                              f"{_suggest(chart['aggregate'], aggregates)}"))
    return problems


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" Did you mean '{close[0]}'?" if close else ""
