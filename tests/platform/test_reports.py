"""Reports run in the database as the user who asks: groups, buckets, subtotals, matrix, child counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from crm_kit import Crm

from trellis.platform.errors import InvalidInput
from trellis.platform.reports import run_report

CASE = {"api_name": "ticket", "label": "Ticket", "name_field": "subject", "fields": [
    {"api_name": "subject", "label": "Subject", "type": "text", "required": True},
    {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
    {"api_name": "status", "label": "Status", "type": "picklist",
     "values": [{"value": "open", "label": "Open"}, {"value": "closed", "label": "Closed"}]},
]}

PIPELINE = {"api_name": "pipeline", "label": "Pipeline", "object": "deal",
            "columns": [{"field": "name"}, {"field": "amount"}, {"field": "account.name"}],
            "group_by": [{"field": "stage"}, {"field": "close_date", "bucket": "month"}],
            "aggregates": [{"op": "sum", "column": "amount"}, {"op": "count"}],
            "sort": [{"by": "amount", "desc": True}], "limit": 2}


@pytest.fixture
def deals(sales: Crm) -> Crm:
    acme = sales.records.create("account", {"name": "Acme"})["id"]
    globex = sales.records.create("account", {"name": "Globex"})["id"]
    for name, account, stage, amount, close in [
        ("a", acme, "won", 100, "2025-01-15"), ("b", acme, "won", 50, "2025-01-31"),
        ("c", globex, "new", 10, "2025-02-01"), ("d", globex, "lost", 5, None), ("e", acme, "new", None, "2025-02-03"),
    ]:
        sales.records.create("deal", {"name": name, "account": account, "stage": stage, "amount": amount,
                                      "close_date": close})
    return sales


def test_groups_in_pipeline_order_with_subtotals_and_a_grand_total(deals: Crm) -> None:
    result = run_report(deals.records, PIPELINE)
    assert [g["key"] for g in result["groups"]] == ["new", "won", "lost"]
    new, won, lost = result["groups"]
    assert won["values"] == {"sum_amount": Decimal(150), "count": 2}
    assert [(g["label"], g["values"]["count"]) for g in won["groups"]] == [("2025-01", 2)]
    assert [g["key"] for g in new["groups"]] == ["2025-02-01"]
    assert lost["groups"][0]["label"] == "(blank)"
    assert result["total"]["values"] == {"sum_amount": Decimal(165), "count": 5}
    assert [r["name"] for r in result["rows"]] == ["a", "b"]
    assert result["rows"][0]["account.name"] == "Acme"
    assert won["where"] == 'stage = "won"'


def test_matrix_and_child_counts(deals: Crm) -> None:
    deals.create(CASE)
    acme = deals.records.list("account").records[0]["id"]
    for status in ("open", "open", "closed"):
        deals.records.create("ticket", {"subject": "s", "account": acme, "status": status})
    report = {"api_name": "by_account", "label": "By account", "object": "account",
              "columns": [{"name": "open_cases", "children": {"object": "ticket", "via": "account",
                                                              "where": 'status = "open"'}}],
              "group_by": [{"field": "name"}], "aggregates": [{"op": "sum", "column": "open_cases"}]}
    result = run_report(deals.records, report)
    assert [(g["key"], g["values"]["sum_open_cases"]) for g in result["groups"]] == [("Acme", 2), ("Globex", 0)]
    matrix = {**PIPELINE, "group_by": [{"field": "account.name"}], "column_group": {"field": "stage"}}
    result = run_report(deals.records, matrix)
    acme_row = result["groups"][0]
    assert acme_row["across"]["won"]["count"] == 2 and acme_row["values"]["count"] == 3
    assert result["total"]["across"]["new"]["sum_amount"] == Decimal(10)
    assert [k["key"] for k in result["column_keys"]] == ["new", "won", "lost"]


@pytest.mark.parametrize("bucket, expected", [
    ("week", ["2025-01-13", "2025-01-27", "2025-02-03"]),
    ("quarter", ["2024-11-01", "2025-02-01"]),
    ("year", ["2024-02-01", "2025-02-01"]),
])
def test_date_buckets_agree_on_both_backends(deals: Crm, bucket: str, expected: list[str]) -> None:
    report = {"api_name": "r", "label": "R", "object": "deal", "fiscal_year_start": 2,
              "group_by": [{"field": "close_date", "bucket": bucket}], "where": "NOT ISBLANK(close_date)"}
    assert [g["key"] for g in run_report(deals.records, report)["groups"]] == expected


def test_bad_reports_are_refused_with_their_path(deals: Crm) -> None:
    with pytest.raises(InvalidInput) as refused:
        deals.editor().put_definition("report", {"api_name": "bad", "label": "Bad", "object": "deal",
                                                 "columns": [{"field": "name"}, {"field": "acount.name"}],
                                                 "aggregates": [{"op": "sum", "column": "name"}]})
    paths = {p.field: p.message for p in refused.value.problems}
    assert "Did you mean 'account'" in paths["$.columns[1].field"]
    assert "sum needs numbers" in paths["$.aggregates[0].op"]
    deals.editor().put_definition("report", PIPELINE)
    assert "pipeline" in deals.runtime.definitions("report")


def test_dashboards_name_reports_and_aggregates_that_exist(deals: Crm) -> None:
    deals.editor().put_definition("report", PIPELINE)
    bad = {"api_name": "board", "label": "Board", "filters": [{"field": "nothing"}],
           "widgets": [{"report": "pipelin"}, {"report": "pipeline", "type": "number", "aggregate": "avg"}]}
    with pytest.raises(InvalidInput) as refused:
        deals.editor().put_definition("dashboard", bad)
    paths = {p.field: p.message for p in refused.value.problems}
    assert "Did you mean 'pipeline'" in paths["$.widgets[0].report"]
    assert "sum_amount, count" in paths["$.widgets[1].aggregate"]
    assert "$.filters[0].field" in paths
    good = {**bad, "filters": [{"field": "owner"}], "widgets": [{"report": "pipeline"}]}
    deals.editor().put_definition("dashboard", good)
    assert "board" in deals.runtime.definitions("dashboard")


def test_lookup_groups_are_labelled_with_the_related_records_titles(deals: Crm) -> None:
    report = {**PIPELINE, "group_by": [{"field": "stage"}, {"field": "account"}], "column_group": {"field": "account"}}
    result = run_report(deals.records, report)
    won = next(g for g in result["groups"] if g["key"] == "won")
    assert [g["label"] for g in won["groups"]] == ["Acme"]
    assert sorted(k["label"] for k in result["column_keys"]) == ["Acme", "Globex"]


def test_the_organizations_fiscal_year_start_applies_unless_a_report_sets_its_own(deals: Crm) -> None:
    by_year = {**PIPELINE, "group_by": [{"field": "close_date", "bucket": "year"}]}
    assert [g["label"] for g in run_report(deals.records, by_year)["groups"]] == ["2025", "(blank)"]
    deals.editor().put_definition("settings", {"api_name": "organization", "label": "Acme Corp",
                                               "fiscal_year_start": 2})
    groups = run_report(deals.records, by_year)["groups"]
    assert [(g["key"], g["label"], g["values"]["count"]) for g in groups] == [
        ("2024-02-01", "FY2025", 2), ("2025-02-01", "FY2026", 2), ("", "(blank)", 1)]
    assert [g["label"] for g in run_report(deals.records, {**by_year, "fiscal_year_start": 1})["groups"]][0] == "2025"
    with pytest.raises(InvalidInput):
        deals.editor().put_definition("settings", {"api_name": "company", "label": "X", "fiscal_year_start": 13})


def test_owner_groups_are_labelled_with_the_users_name(deals: Crm) -> None:
    from trellis.platform.controlplane.accounts import create_user

    with deals.platform.control() as session:
        owner = create_user(session, email="ada@reports.example", password="long enough pw", name="Ada").id
    deals.records.create("deal", {"name": "f", "account": deals.records.list("account").records[0]["id"],
                                  "stage": "new", "owner": owner})
    result = run_report(deals.records, {**PIPELINE, "group_by": [{"field": "owner"}]})
    assert {g["label"] for g in result["groups"]} >= {"Ada"}
