"""Must-show 1: for random report definitions over random data, every number the database gives equals the
same aggregation computed here in Python from all the records the user can read — on both backends."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from crm_kit import Crm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.metadata.reports import aggregate_name
from trellis.platform.records.query import ListQuery
from trellis.platform.reports import run_report
from trellis.platform.reports.buckets import bucket_end

STAGES = ["new", "won", "lost"]
GROUPS = [{"field": "stage"}, {"field": "hot"}, {"field": "account.name"}, {"field": "seats"},
          *({"field": "close_date", "bucket": b} for b in ("day", "week", "month", "quarter", "year"))]
MEASURED = ["amount", "seats", "close_date", "name"]

deal_rows = st.lists(st.fixed_dictionaries({
    "account": st.sampled_from([0, 1, 2]),
    "stage": st.sampled_from(STAGES),
    "amount": st.none() | st.integers(0, 500).map(Decimal),
    "seats": st.integers(-3, 3),
    "hot": st.booleans(),
    "close_date": st.none() | st.dates(date(2023, 11, 1), date(2025, 3, 1)),
    "name": st.sampled_from(["x", "y", "z", "Z"]),
}), max_size=25)


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    group_by = draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique_by=lambda g: repr(g)))
    rest = [g for g in GROUPS if g not in group_by]
    column_group = draw(st.none() | st.sampled_from(rest))
    aggregates = [{"op": "count"}]
    for column in draw(st.lists(st.sampled_from(MEASURED), max_size=3, unique=True)):
        ops = ["count", "count_distinct", "min", "max"] + (["sum", "avg"] if column in ("amount", "seats") else [])
        aggregates.append({"op": draw(st.sampled_from(ops)), "column": column})
    doc: dict[str, Any] = {"api_name": "r", "label": "R", "object": "deal", "limit": 0,
                           "fiscal_year_start": draw(st.integers(1, 12)),
                           "columns": [{"field": c} for c in MEASURED], "group_by": group_by,
                           "aggregates": aggregates}
    if column_group:
        doc["column_group"] = column_group
    if draw(st.booleans()):
        doc["filters"] = [{"field": "stage", "op": "in", "value": draw(st.lists(st.sampled_from(STAGES),
                                                                                min_size=1, unique=True))}]
    return doc


@pytest.fixture
def seeded(sales: Crm) -> Crm:
    for name in ("Acme", "Globex", "Initech"):
        sales.records.create("account", {"name": name})
    return sales


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=deal_rows, report=reports())
def test_report_numbers_equal_python_over_the_visible_rows(seeded: Crm, rows: list[dict], report: dict) -> None:
    seeded.sql("DELETE FROM {t}deal")
    accounts = {a["id"]: a["name"] for a in seeded.records.list("account").records}
    ids = sorted(accounts)
    for row in rows:
        seeded.records.create("deal", {**row, "account": ids[row["account"]], "amount": _number(row["amount"]),
                                       "close_date": row["close_date"] and row["close_date"].isoformat()})
    visible = seeded.records.list("deal", ListQuery(limit=500)).records  # what this user can read
    result = run_report(seeded.records, report)
    expected = _python_report(visible, accounts, report)
    got = _flatten(result)
    assert got == expected, (rows, report, visible)


def _number(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount)


def _value(record: dict, spec: dict, accounts: dict[int, str], fiscal: int) -> Any:
    if spec["field"] == "account.name":
        return accounts[record["account"]]
    value = record[spec["field"]]
    if spec["field"] == "close_date" and value is not None:
        value = date.fromisoformat(value)
        return _bucket(value, spec["bucket"], fiscal) if "bucket" in spec else value
    if spec["field"] in ("amount",) and value is not None:
        return Decimal(str(value))
    return value


def _bucket(day: date, bucket: str, fiscal: int) -> date:
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    back = (day.month - fiscal) % (3 if bucket == "quarter" else 12)
    index = day.year * 12 + day.month - 1 - back
    start = date(index // 12, index % 12 + 1, 1)
    assert bucket_end(start, bucket) > day
    return start


def _python_report(records: list[dict], accounts: dict[int, str], report: dict) -> dict:
    """{(group keys..., column key or '*'): {aggregate: value}} for every level, computed row by row."""
    fiscal = report["fiscal_year_start"]
    if report.get("filters"):
        records = [r for r in records if r["stage"] in report["filters"][0]["value"]]
    groupings = report["group_by"]
    column = report.get("column_group")
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        keys = tuple(_value(record, g, accounts, fiscal) for g in groupings)
        for depth in range(len(groupings) + 1):
            cells[(*keys[:depth], "*")].append(record)
            if column:
                cells[(*keys[:depth], ("c", _value(record, column, accounts, fiscal)))].append(record)
    out = {key: {aggregate_name(a): _aggregate(a, members, accounts, fiscal) for a in report["aggregates"]}
           for key, members in cells.items()}
    if not records:  # the grand total exists even when nothing matched
        out[("*",)] = {aggregate_name(a): _aggregate(a, [], accounts, fiscal) for a in report["aggregates"]}
    return out


def _aggregate(spec: dict, records: list[dict], accounts: dict[int, str], fiscal: int) -> Any:
    if spec["op"] == "count" and "column" not in spec:
        return len(records)
    values = [v for r in records if (v := _value(r, {"field": spec["column"]}, accounts, fiscal)) is not None]
    if spec["op"] == "count":
        return len(values)
    if spec["op"] == "count_distinct":
        return len(set(values))
    if not values:
        return None
    if spec["op"] == "sum":
        return sum(values)
    if spec["op"] == "avg":
        return round(Decimal(sum(values)) / len(values), 6)
    return min(values) if spec["op"] == "min" else max(values)


def _flatten(result: dict) -> dict:
    out: dict[tuple, dict] = {}

    def visit(node: dict, keys: tuple, groupings: list) -> None:
        out[(*keys, "*")] = {k: _normal(v) for k, v in node["values"].items()}
        for key in result["column_keys"] or []:
            if key["key"] in node["across"]:
                typed = _typed(key["key"], result["column_group"])
                out[(*keys, ("c", typed))] = {k: _normal(v) for k, v in node["across"][key["key"]].items()}
        for child in node.get("groups", []):
            visit(child, (*keys, _typed(child["key"], groupings[len(keys)])), groupings)

    visit({**result["total"], "groups": result["groups"]}, (), result["groupings"])
    return out


def _typed(key: str, grouping: dict) -> Any:
    """A group's key back as the Python value the oracle computes."""
    if key == "":
        return None
    if grouping["bucket"] or grouping["field"] == "close_date":
        return date.fromisoformat(key)
    if grouping["field"] == "hot":
        return key == "true"
    if grouping["field"] == "seats":
        return int(key)
    return key


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(Decimal(str(value)), 6)
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return round(value, 6)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    return value
