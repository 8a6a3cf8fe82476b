"""Run a report: one statement for every grouped aggregate (subtotals and grand total included), one for its
tabular rows. Python only places the database's numbers into nested groups and orders them (picklists and
pipelines in their declared order); it never adds anything up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, select, true

from trellis.metadata.expressions import ExprType
from trellis.metadata.labels import localize
from trellis.metadata.reports import aggregate_name, column_name

from ..errors import FieldProblem, Forbidden
from ..records.query import Filter
from ..records.service import RecordService
from ..runtime import TenantRuntime
from .buckets import bucket_end, bucket_label
from .compiler import Compiler, Value
from .statements import Grouping, Measure, grouped_statement

ReportResult = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """A report compiled for one actor: its groupings, measures, shown columns and row conditions."""

    compiler: Compiler
    groupings: list[Grouping]
    column_group: Grouping | None
    measures: list[Measure]
    columns: list[tuple[Mapping[str, Any], Value]]
    where: ColumnElement[bool]


def plan(service: RecordService, doc: Mapping[str, Any], filters: Sequence[Filter] = ()) -> Plan:
    """Compile ``doc`` for ``service``'s actor, with runtime ``filters`` (a dashboard's) added to its own."""
    compiler = Compiler(service, doc["object"])
    columns, values = [], {}
    for index, spec in enumerate(doc.get("columns", [])):
        try:
            value = compiler.value(spec, f"$.columns[{index}]")
        except Forbidden:  # a column on a hidden field is left out, not refused
            continue
        columns.append((spec, value))
        values[column_name(spec)] = value
    groupings = [_grouping(compiler, g, f"$.group_by[{i}]", doc) for i, g in enumerate(doc.get("group_by", []))]
    column_group = _grouping(compiler, doc["column_group"], "$.column_group", doc) if "column_group" in doc else None
    measures = [_measure(a, i, values) for i, a in enumerate(doc.get("aggregates") or [{"op": "count"}])]
    conditions = [compiler.condition(Filter(f["field"], f["op"], f.get("value")), path=f"$.filters[{i}]")
                  for i, f in enumerate(doc.get("filters", []))]
    conditions += [compiler.condition(f, path=f"filters.{f.field}") for f in filters]
    if doc.get("where"):
        conditions.append(compiler.condition(where=doc["where"]))
    where = and_(compiler.predicate, *conditions) if conditions else and_(compiler.predicate, true())
    return Plan(compiler, groupings, column_group, measures, columns, where)


def _grouping(compiler: Compiler, spec: Mapping[str, Any], path: str, doc: Mapping[str, Any]) -> Grouping:
    return Grouping(compiler.value(spec, path), spec.get("bucket"), fiscal_year_start(compiler.service.runtime, doc),
                    spec.get("label") or spec.get("field") or spec.get("expression", ""))


def fiscal_year_start(runtime: TenantRuntime, doc: Mapping[str, Any]) -> int:
    """The report's own fiscal start month, else the organization's (``/metadata/settings/organization``), else 1."""
    organization = runtime.definitions("settings").get("organization", {})
    return int(doc.get("fiscal_year_start") or organization.get("fiscal_year_start") or 1)


def _measure(spec: Mapping[str, Any], index: int, values: Mapping[str, Value]) -> Measure:
    column = spec.get("column")
    if column is not None and column not in values:
        message = f"The column '{column}' reads a field you cannot see."
        raise Forbidden("The report reads a field you cannot see.", [FieldProblem(f"$.aggregates[{index}]", message)])
    return Measure(aggregate_name(spec), spec["op"], values[column] if column else None,
                   spec.get("label") or aggregate_name(spec))


def run_report(service: RecordService, doc: Mapping[str, Any], filters: Sequence[Filter] = (),
               locale: str = "en") -> ReportResult:
    """The report's groups (nested, each with its aggregates, and across the column grouping), the grand
    total and the first ``limit`` rows, as ``service``'s actor sees them."""
    compiled = plan(service, doc, filters)
    dialect = service.runtime.store.engine.dialect.name
    statement = grouped_statement(compiled.compiler.source.table, compiled.groupings, compiled.column_group,
                                  compiled.measures, compiled.where, dialect)
    with service.runtime.store.engine.connect() as conn:
        grouped = conn.execute(statement).mappings().all()
    result = _assemble(compiled, grouped, locale)
    _title_lookup_groups(service, compiled, result)
    result.update(report=doc.get("api_name"), label=doc.get("label"), object=doc["object"],
                  columns=[_describe(spec, value) for spec, value in compiled.columns],
                  rows=list(_rows(service, compiled, doc, int(doc.get("limit", 100)))),
                  chart=doc.get("chart"))
    return result


def report_rows(service: RecordService, doc: Mapping[str, Any], filters: Sequence[Filter] = (),
                limit: int | None = None) -> tuple[list[dict[str, Any]], Iterator[dict[str, Any]]]:
    """The report's columns and a stream of its rows (for exports): rows are fetched in batches as the
    iterator is consumed, so a million rows never sit in memory together."""
    compiled = plan(service, doc, filters)
    return [_describe(s, v) for s, v in compiled.columns], _rows(service, compiled, doc, limit)


def _rows(service: RecordService, compiled: Plan, doc: Mapping[str, Any], limit: int | None) -> Iterator[dict]:
    if limit == 0 or not compiled.columns:
        return
    labelled = {column_name(spec): value.sql.label(f"c{i}") for i, (spec, value) in enumerate(compiled.columns)}
    order = [(labelled[key["by"]].desc() if key.get("desc") else labelled[key["by"]].asc()).nulls_last()
             for key in doc.get("sort", []) if key["by"] in labelled]
    statement = (select(*labelled.values()).select_from(compiled.compiler.source.table).where(compiled.where)
                 .order_by(*order, compiled.compiler.source.table.c.id))
    if limit is not None:
        statement = statement.limit(limit)
    names = list(labelled)
    with service.runtime.store.engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=1000).execute(statement):
            yield {name: _plain(value) for name, value in zip(names, row, strict=True)}


def _describe(spec: Mapping[str, Any], value: Value) -> dict[str, Any]:
    label = spec.get("label") or (value.field.title("en") if value.field and "." not in (value.path or ".")
                                  else column_name(spec))
    return {"name": column_name(spec), "label": label, "type": value.type.value}


def _assemble(compiled: Plan, rows: Sequence[Mapping[str, Any]], locale: str) -> dict[str, Any]:
    """Place each grouped row (the grouping indicators say which level it is) into nested groups."""
    depth, names = len(compiled.groupings), [m.name for m in compiled.measures]
    total: dict[str, Any] = {"values": {}, "across": {}}
    groups: dict[tuple, dict[str, Any]] = {}
    across_keys: dict[Any, None] = {}
    for row in rows:
        level = sum(1 for i in range(depth) if not row[f"_g{i}"])
        keys = tuple(_key(row[f"g{i}"], compiled.groupings[i]) for i in range(level))
        node = total if level == 0 else groups.setdefault(keys, {"keys": keys, "values": {}, "across": {}})
        values = {name: _plain(row[f"m{i}"]) for i, name in enumerate(names)}
        if compiled.column_group is not None and not row["_gc"]:
            ckey = _key(row["gc"], compiled.column_group)
            across_keys[ckey] = None
            node["across"][_text(ckey)] = values
        else:
            node["values"] = values
    tree = _nest(compiled, groups, locale)
    column_keys = None
    if compiled.column_group is not None:
        column_keys = [{"key": _text(k), "label": _label(k, compiled.column_group, locale)}
                       for k in sorted(across_keys, key=_order(compiled.column_group))]
    return {"groupings": [_grouping_info(g) for g in compiled.groupings],
            "column_group": _grouping_info(compiled.column_group) if compiled.column_group else None,
            "column_keys": column_keys,
            "aggregates": [{"name": m.name, "op": m.op, "label": m.label} for m in compiled.measures],
            "groups": tree, "total": total}


#: System fields that hold a user's id.
USER_FIELDS = ("owner", "created_by", "updated_by")


def _title_lookup_groups(service: RecordService, compiled: Plan, result: dict[str, Any]) -> None:
    """Groups of a lookup are labelled with the related records' titles (as the user may read them), groups of
    owner, created_by or updated_by with the user's name, not ids."""
    levels, nodes = [], result["groups"]
    for grouping in compiled.groupings:
        levels.append((grouping, nodes))
        nodes = [child for node in nodes for child in node["groups"]]
    if compiled.column_group is not None and result["column_keys"]:
        levels.append((compiled.column_group, result["column_keys"]))
    for grouping, nodes in levels:
        field, ids = grouping.value.field, {int(n["key"]) for n in nodes if str(n["key"]).isdigit()}
        if grouping.bucket or not ids:
            continue
        if field is not None and field.type == "lookup":
            titles = service.titles(field.target, ids)
        elif grouping.value.path in USER_FIELDS:
            titles = service.user_names(ids)
        else:
            continue
        for node in nodes:
            if str(node["key"]).isdigit() and int(node["key"]) in titles:
                node["label"] = titles[int(node["key"])]


def _nest(compiled: Plan, groups: Mapping[tuple, dict[str, Any]], locale: str) -> list[dict]:
    """The groups as a tree, each level in its grouping's order; a subgroup's ``where`` includes its parents'."""
    children: dict[tuple, list[tuple]] = {}
    for keys in groups:
        children.setdefault(keys[:-1], []).append(keys)
    orders = [_order(g) for g in compiled.groupings]

    def level(prefix: tuple, parent_where: str | None) -> list[dict]:
        if len(prefix) == len(compiled.groupings):
            return []
        grouping, out = compiled.groupings[len(prefix)], []
        for keys in sorted(children.get(prefix, []), key=lambda k: orders[len(prefix)](k[-1])):
            node, own = groups[keys], _drill(grouping, keys[-1])
            where = own if not prefix else (f"({parent_where}) AND ({own})" if parent_where and own else None)
            out.append({"key": _text(keys[-1]), "label": _label(keys[-1], grouping, locale), "values": node["values"],
                        "across": node["across"], "where": where, "groups": level(keys, where)})
        return out
    return level((), None)


def _grouping_info(grouping: Grouping) -> dict[str, Any]:
    return {"label": grouping.label, "bucket": grouping.bucket, "field": grouping.value.path}


def _key(value: Any, grouping: Grouping) -> Any:
    """A group key as plain Python: a bucket is its first day; booleans are booleans on both backends."""
    if value is None:
        return None
    if grouping.bucket:
        return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))
    if grouping.value.type is ExprType.BOOLEAN:
        return bool(value)
    return _plain(value)


def _order(grouping: Grouping) -> Any:
    """Blank last; a picklist (a pipeline's stages) in its declared order; anything else by value."""
    field = grouping.value.field
    positions = {c["value"]: i for i, c in enumerate(field.choices)} if field and field.type == "picklist" else None

    def key(value: Any) -> tuple:
        if value is None:
            return (2, 0, "")
        if positions is not None:
            return (0, positions.get(value, len(positions)), str(value))
        return (0, 0, value) if not isinstance(value, bool) else (0, 0, int(value))
    return key


def _label(value: Any, grouping: Grouping, locale: str) -> str:
    if value is None:
        return "(blank)"
    if grouping.bucket:
        return bucket_label(value, grouping.bucket, grouping.fiscal_start)
    field = grouping.value.field
    if field is not None and field.type == "picklist":
        labels = {c["value"]: c.get("label") for c in field.choices}
        return localize(labels.get(value), locale, str(value)) if labels.get(value) else str(value)
    return _text(value)


def _drill(grouping: Grouping, value: Any) -> str | None:
    """An expression (the list screen's ``where=``) selecting the records of one group, when it can say it."""
    path = grouping.value.path
    if path is None:
        return None
    if value is None:
        return f"ISBLANK({path})"
    if grouping.bucket:
        if grouping.value.type is not ExprType.DATE:
            return None  # the expression language has no date-time literal to bound a bucket with
        start, end = (f"DATE({d.year}, {d.month}, {d.day})" for d in (value, bucket_end(value, grouping.bucket)))
        return f"{path} >= {start} AND {path} < {end}"
    if isinstance(value, bool):
        return path if value else f"NOT {path}"
    if isinstance(value, str):
        return f"{path} = \"{value.replace(chr(34), '')}\""
    return f"{path} = {value}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value).lower() if isinstance(value, bool) \
        else str(value)


def _plain(value: Any) -> Any:
    """Numbers stay exact (Decimal) in Python; the API writes them as JSON numbers."""
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))
    return value

