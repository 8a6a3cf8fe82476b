"""Formula fields (both backends): computed by the database on read, filterable and sortable, read-only,
refused with the position when their expression is wrong, and never a column."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from crm_kit import ACCOUNT, Crm

from trellis.platform.errors import InvalidInput
from trellis.platform.records.query import Filter, ListQuery, where_condition

OPP = {
    "api_name": "opp",
    "label": "Opportunity",
    "name_field": "name",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
        {"api_name": "amount", "label": "Amount", "type": "currency"},
        {"api_name": "probability", "label": "Probability", "type": "percent"},
        {"api_name": "weighted", "label": "Weighted", "type": "formula", "expression": "amount * probability / 100"},
        {"api_name": "big", "label": "Big", "type": "formula", "expression": "weighted >= 1000"},
        {"api_name": "client", "label": "Client", "type": "formula", "expression": "UPPER(account.name)",
         "result": "text"},
    ],
}


@pytest.fixture
def opps(crm: Crm) -> Crm:
    crm.create(ACCOUNT, OPP)
    acme = crm.records.create("account", {"name": "Acme"})["id"]
    for name, amount, probability in [("a", 1000, 50), ("b", 4000, 30), ("c", 10000, 5), ("d", None, 90)]:
        crm.records.create("opp", {"name": name, "amount": amount, "probability": probability,
                                   "account": acme if name != "c" else None})
    return crm


def names(page) -> list[str]:
    return [record["name"] for record in page.records]


def test_a_formula_has_no_column_and_is_computed_by_the_database(opps: Crm) -> None:
    assert {"weighted", "big", "client"}.isdisjoint(opps.columns("opp"))
    record = opps.records.list("opp", ListQuery(sort=[("name", False)])).records[0]
    assert record["weighted"] == 500 and record["big"] is False and record["client"] == "ACME"
    blank = opps.records.list("opp", ListQuery(filters=[Filter("name", "eq", "d")])).records[0]
    assert blank["weighted"] is None and blank["big"] is False


def test_formulas_filter_and_sort_through_filters_where_and_cursors(opps: Crm) -> None:
    heavy = opps.records.list("opp", ListQuery(filters=[Filter("weighted", "gte", "1000")]))
    assert names(heavy) == ["b"]
    where = where_condition("weighted < 1000 AND NOT big", opps.runtime.object("opp"), opps.runtime.objects, 7)
    assert sorted(names(opps.records.list("opp", ListQuery(where=where)))) == ["a", "c"]
    first = opps.records.list("opp", ListQuery(sort=[("weighted", True)], limit=2))
    second = opps.records.list("opp", ListQuery(sort=[("weighted", True)], limit=2, cursor=first.next_cursor))
    assert names(first) + names(second) == ["b", "c", "a", "d"]  # a tie goes by id, in the same direction; blanks last
    by_client = opps.records.list("opp", ListQuery(filters=[Filter("client", "eq", "ACME")], sort=[("name", False)]))
    assert names(by_client) == ["a", "b", "d"]


def test_a_formula_follows_its_inputs_and_cannot_be_written(opps: Crm) -> None:
    record = opps.records.list("opp", ListQuery(filters=[Filter("name", "eq", "a")])).records[0]
    changed = opps.records.update("opp", record["id"], {"probability": 80})
    assert changed["weighted"] == 800 and opps.records.get("opp", record["id"])["weighted"] == 800
    opps.records.update("account", record["account"], {"name": "Initech"})
    assert opps.records.get("opp", record["id"])["client"] == "INITECH"
    with pytest.raises(InvalidInput) as refused:
        opps.records.update("opp", record["id"], {"weighted": Decimal(5)})
    assert [p.field for p in refused.value.problems] == ["weighted"]
    assert "formula" in refused.value.problems[0].message


def test_editing_a_formula_changes_only_the_catalog(opps: Crm) -> None:
    plan = opps.editor().update_field("opp", "weighted", {"expression": "amount * probability / 1000"})
    assert plan
    record = opps.records.list("opp", ListQuery(filters=[Filter("name", "eq", "b")])).records[0]
    assert record["weighted"] == 120
    assert "weighted" not in opps.columns("opp")


@pytest.mark.parametrize(("expression", "fragment", "position"), [
    ("amount * probabilty", "Did you mean 'probability'?", 10),
    ("amount + name", "needs a number", 10),
    ("weighted2 + 1", "reads itself", None),
])
def test_bad_formulas_are_refused_with_the_position(crm: Crm, expression: str, fragment: str,
                                                    position: int | None) -> None:
    doc = copy.deepcopy(OPP)
    doc["fields"].append({"api_name": "weighted2", "label": "W2", "type": "formula", "expression": expression})
    crm.create(ACCOUNT)
    with pytest.raises(InvalidInput) as refused:
        crm.create(doc)
    [problem] = refused.value.problems
    assert problem.field == "$.fields[7].expression" and fragment in problem.message
    if position is not None:
        assert f"at position {position}" in problem.message


def test_a_cycle_between_formulas_is_refused(crm: Crm) -> None:
    doc = copy.deepcopy(OPP)
    doc["fields"][4]["expression"] = "IF(big, amount, 0)"
    crm.create(ACCOUNT)
    with pytest.raises(InvalidInput) as refused:
        crm.create(doc)
    assert "weighted → big → weighted" in refused.value.problems[0].message


def test_a_change_that_breaks_a_formula_or_turns_a_column_into_one_is_refused(opps: Crm) -> None:
    with pytest.raises(InvalidInput) as broken:
        opps.editor().update_field("opp", "amount", {"type": "text"})
    assert "breaks the formula 'weighted'" in broken.value.problems[0].message
    with pytest.raises(InvalidInput) as converted:
        opps.editor().update_field("opp", "probability", {"type": "formula", "expression": "50"})
    assert "cannot become a formula" in converted.value.problems[0].message
    assert opps.records.list("opp", ListQuery(filters=[Filter("name", "eq", "a")])).records[0]["weighted"] == 500


def test_archiving_and_renaming_a_formula_touch_no_column(opps: Crm) -> None:
    columns = set(opps.columns("opp"))
    opps.editor().update_field("opp", "client", {"api_name": "customer"})
    assert opps.records.list("opp", ListQuery(sort=[("name", False)])).records[0]["customer"] == "ACME"
    opps.editor().archive_field("opp", "customer")
    assert set(opps.columns("opp")) == columns
    assert "customer" not in opps.records.list("opp").records[0]
    opps.editor().restore_field("opp", "customer")
    opps.editor().archive_field("opp", "customer")
    opps.editor().purge_field("opp", "customer")
    assert set(opps.columns("opp")) == columns and opps.editor().archived_fields("opp") == []
