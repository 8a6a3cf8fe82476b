"""Rollup fields (both backends): count, sum, min, max and avg of child records through any lookup, with a
filter expression, computed by the database on read — so right after children are created, moved to
another parent, changed and deleted — filterable, sortable, readable by formulas, never written, and
refused with the setting's path when their settings do not fit."""

from __future__ import annotations

from datetime import date

import pytest
from crm_kit import Crm

from trellis.metadata.formulas import formulas_of
from trellis.platform.errors import InvalidInput
from trellis.platform.expressions import Context
from trellis.platform.records.query import Filter, ListQuery, build_select, formula_source, where_condition
from trellis.platform.storage.tables import build_tables

OPEN = 'NOT (stage IN ("won", "lost"))'
ROLLUPS = [
    {"api_name": "open_pipeline", "label": "Open pipeline", "type": "rollup", "child_object": "deal",
     "via": "account", "function": "sum", "field": "amount", "filter": OPEN},
    {"api_name": "deal_count", "label": "Deals", "type": "rollup", "child_object": "deal", "via": "account",
     "function": "count"},
    {"api_name": "biggest", "label": "Biggest", "type": "rollup", "child_object": "deal", "via": "account",
     "function": "max", "field": "amount"},
    {"api_name": "smallest", "label": "Smallest", "type": "rollup", "child_object": "deal", "via": "account",
     "function": "min", "field": "amount"},
    {"api_name": "average", "label": "Average", "type": "rollup", "child_object": "deal", "via": "account",
     "function": "avg", "field": "seats"},
    {"api_name": "last_close", "label": "Last close", "type": "rollup", "child_object": "deal", "via": "account",
     "function": "max", "field": "close_date"},
    {"api_name": "partnered", "label": "Partnered", "type": "rollup", "child_object": "deal", "via": "partner",
     "function": "count"},
]


@pytest.fixture
def rolled(sales: Crm) -> Crm:
    for field in ROLLUPS:
        sales.editor().add_field("account", dict(field))
    for name in ("Acme", "Initech", "Globex"):
        sales.records.create("account", {"name": name})
    return sales


def account(crm: Crm, name: str) -> dict:
    return crm.records.list("account", ListQuery(filters=[Filter("name", "eq", name)])).records[0]


def deal(crm: Crm, name: str, acct: str, amount: str | None, stage: str = "new", **more) -> int:
    values = {"name": name, "account": account(crm, acct)["id"], "amount": amount, "stage": stage, **more}
    return crm.records.create("deal", values)["id"]


def figures(crm: Crm, name: str) -> tuple:
    record = account(crm, name)
    return tuple(record[key] for key in ("open_pipeline", "deal_count", "biggest", "smallest", "average"))


def test_rollups_follow_children_created_moved_changed_and_deleted(rolled: Crm) -> None:
    assert figures(rolled, "Acme") == (0, 0, None, None, None)
    first = deal(rolled, "d1", "Acme", "1000", seats=2, close_date="2026-03-01")
    second = deal(rolled, "d2", "Acme", "250.50", seats=4, close_date="2026-05-01")
    third = deal(rolled, "d3", "Acme", "5000", "won", seats=9)
    deal(rolled, "d4", "Initech", "300", partner=account(rolled, "Acme")["id"])
    assert figures(rolled, "Acme") == (1250.5, 3, 5000, 250.5, 5)
    assert account(rolled, "Acme")["last_close"] == "2026-05-01" and account(rolled, "Acme")["partnered"] == 1
    rolled.records.update("deal", second, {"account": account(rolled, "Initech")["id"]})  # moved
    assert figures(rolled, "Acme")[:2] == (1000, 2) and figures(rolled, "Initech")[:2] == (550.5, 2)
    rolled.records.update("deal", first, {"amount": "2000"})
    assert figures(rolled, "Acme")[0] == 2000
    rolled.records.update("deal", first, {"stage": "lost"})  # the filter turns false
    rolled.records.update("deal", third, {"stage": "new"})  # and true
    assert figures(rolled, "Acme") == (5000, 2, 5000, 2000, 5.5)
    rolled.records.delete("deal", third)
    assert figures(rolled, "Acme") == (0, 1, 2000, 2000, 2)
    assert rolled.records.get("account", account(rolled, "Acme")["id"])["deal_count"] == 1


def test_rollups_filter_sort_and_feed_where_and_formulas(rolled: Crm) -> None:
    for name, acct, amount in [("a", "Acme", "900"), ("b", "Acme", "300"), ("c", "Initech", "5000"),
                               ("d", "Initech", "10"), ("e", "Initech", "20")]:
        deal(rolled, name, acct, amount)
    rolled.editor().add_field("account", {"api_name": "mean_open", "label": "Mean open", "type": "formula",
                                          "expression": "IF(deal_count = 0, 0, open_pipeline / deal_count)"})
    big = rolled.records.list("account", ListQuery(filters=[Filter("open_pipeline", "gt", "1000")]))
    assert sorted(r["name"] for r in big.records) == ["Acme", "Initech"]
    obj = rolled.runtime.object("account")
    where = where_condition("deal_count >= 2 AND open_pipeline < 2000", obj, rolled.runtime.objects, 7)
    assert [r["name"] for r in rolled.records.list("account", ListQuery(where=where)).records] == ["Acme"]
    first = rolled.records.list("account", ListQuery(sort=[("open_pipeline", True)], limit=2))
    rest = rolled.records.list("account", ListQuery(sort=[("open_pipeline", True)], limit=2, cursor=first.next_cursor))
    assert [r["name"] for r in first.records + rest.records] == ["Initech", "Acme", "Globex"]
    means = {r["name"]: r["mean_open"] for r in first.records + rest.records}
    assert means["Acme"] == 600 and means["Globex"] == 0 and round(means["Initech"], 2) == 1676.67
    counted = rolled.records.list("account", ListQuery(filters=[Filter("deal_count", "gte", "2")], with_total=True))
    assert counted.total == 2


def test_a_rollup_cannot_be_written_and_has_no_column(rolled: Crm) -> None:
    acme = account(rolled, "Acme")
    with pytest.raises(InvalidInput) as refused:
        rolled.records.update("account", acme["id"], {"deal_count": 3})
    assert [p.field for p in refused.value.problems] == ["deal_count"]
    assert "rollup" in refused.value.problems[0].message
    assert {f["api_name"] for f in ROLLUPS}.isdisjoint(rolled.columns("account"))


def test_a_rollup_has_the_result_type_of_its_function(rolled: Crm) -> None:
    dumped = rolled.runtime.output_schema("account").fields
    assert {name: dumped[name].result for name in ("open_pipeline", "deal_count", "biggest", "last_close")} == {
        "open_pipeline": "number", "deal_count": "number", "biggest": "number", "last_close": "date"}
    obj = rolled.runtime.object("account")
    with pytest.raises(InvalidInput) as refused:
        where_condition("last_close > 5", obj, rolled.runtime.objects, 7)
    assert "compares a date with a number" in refused.value.problems[0].message


def test_renames_of_the_child_and_its_fields_keep_a_rollup_working(rolled: Crm) -> None:
    deal(rolled, "a", "Acme", "900")
    deal(rolled, "b", "Acme", "100", "won")
    rolled.editor().update_field("deal", "amount", {"api_name": "value"})
    rolled.editor().update_field("deal", "stage", {"api_name": "phase"})
    rolled.editor().update_field("deal", "account", {"api_name": "customer"})
    rolled.editor().update_object("deal", {"api_name": "opportunity"})
    options = rolled.editor().object("account")["fields"][2]
    assert (options["child_object"], options["via"], options["field"]) == ("opportunity", "customer", "value")
    assert options["filter"] == 'NOT (phase IN ("won", "lost"))'
    assert figures(rolled, "Acme")[:3] == (900, 2, 900)


def test_a_change_to_the_child_that_would_break_a_rollup_is_refused_with_its_name(rolled: Crm) -> None:
    deal(rolled, "a", "Acme", "900")
    with pytest.raises(InvalidInput) as converted:
        rolled.editor().update_field("deal", "amount", {"type": "text"})
    assert [p.field for p in converted.value.problems] == [f"account.{name}.field" for name in
                                                           ("open_pipeline", "biggest", "smallest")]
    assert "breaks the rollup account.open_pipeline" in converted.value.problems[0].message
    with pytest.raises(InvalidInput) as archived:
        rolled.editor().archive_field("deal", "stage")
    assert [p.field for p in archived.value.problems] == ["account.open_pipeline.filter"]
    assert figures(rolled, "Acme")[:2] == (900, 1)


def test_the_child_object_is_archived_only_after_its_rollups(crm: Crm) -> None:
    crm.create({"api_name": "account", "label": "Account", "fields": [
        {"api_name": "name", "label": "Name", "type": "text"}]})
    crm.create({"api_name": "visit", "label": "Visit", "fields": [
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
        {"api_name": "visited_on", "label": "On", "type": "date"}]})
    crm.editor().add_field("account", {"api_name": "last_visit", "label": "Last visit", "type": "rollup",
                                       "child_object": "visit", "via": "account", "function": "max",
                                       "field": "visited_on"})
    acme = crm.records.create("account", {"name": "Acme"})["id"]
    crm.records.create("visit", {"account": acme, "visited_on": "2026-01-02"})
    assert crm.records.get("account", acme)["last_visit"] == date(2026, 1, 2).isoformat()
    with pytest.raises(InvalidInput) as refused:
        crm.editor().archive_object("visit")
    assert "account.last_visit point at visit" in refused.value.problems[0].message
    crm.editor().archive_field("account", "last_visit")
    crm.editor().archive_object("visit")
    assert "last_visit" not in crm.records.get("account", acme)


def test_a_rollup_whose_child_table_is_missing_reads_blank(rolled: Crm) -> None:
    """Defensive: compiled against tables without the child (never left so by the editor), it is blank."""
    runtime = rolled.runtime
    obj = runtime.object("account")
    table = build_tables([obj], runtime.store.schema)["account"]  # no deal table beside it
    source = formula_source(obj, table, formulas_of(obj, runtime.objects), Context())
    statement, _ = build_select(obj, source, ListQuery(sort=[("open_pipeline", True)]))
    with runtime.store.engine.connect() as conn:
        rows = conn.execute(statement).mappings().all()
    assert len(rows) == 3 and {row["open_pipeline"] for row in rows} == {None}


@pytest.mark.parametrize(("changes", "path", "fragment"), [
    ({"child_object": "dael"}, "$.child_object", "not an object"),
    ({"via": "name"}, "$.via", "use one of: account, partner"),
    ({"field": "name"}, "$.field", "'name' is a text field"),
    ({"field": None}, "$.field", "sum needs the child field"),
    ({"function": "min", "field": "hot"}, "$.field", "boolean"),
    ({"filter": "stage = 3"}, "$.filter", "at position 9"),
    ({"filter": "amount + 1"}, "$.filter", "a boolean is needed"),
    ({"function": "median"}, "$.function", "one of"),
    ({"required": True}, "$.required", "remove required"),
])
def test_bad_rollups_are_refused_with_the_setting_and_how_to_fix_it(sales: Crm, changes: dict, path: str,
                                                                    fragment: str) -> None:
    field = {k: v for k, v in {**ROLLUPS[0], **changes}.items() if v is not None}
    with pytest.raises(InvalidInput) as refused:
        sales.editor().add_field("account", field)
    [problem] = refused.value.problems
    assert problem.field == path and fragment in problem.message, problem


def test_an_object_document_with_a_bad_rollup_names_the_field_and_setting(sales: Crm) -> None:
    doc = {"api_name": "region", "label": "Region", "fields": [
        {"api_name": "name", "label": "Name", "type": "text"},
        {"api_name": "deals", "label": "Deals", "type": "rollup", "child_object": "deal", "via": "account",
         "function": "count"}]}
    with pytest.raises(InvalidInput) as refused:
        sales.create(doc)
    [problem] = refused.value.problems
    assert problem.field == "$.fields[1].via" and "add a lookup to region on deal first" in problem.message
