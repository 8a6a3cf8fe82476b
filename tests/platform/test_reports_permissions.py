"""Two users, one report, different numbers — each equal to what that user can read; a hidden field is left
out of the columns and refused in groups, filters and aggregates."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from permission_org import EXPECTED, build_org

from trellis.platform.core import Platform
from trellis.platform.errors import Forbidden
from trellis.platform.records.query import ListQuery
from trellis.platform.reports import run_report

REPORT = {"api_name": "by_region", "label": "By region", "object": "deal",
          "columns": [{"field": "name"}, {"field": "amount"}, {"field": "margin"}],
          "group_by": [{"field": "region"}], "aggregates": [{"op": "count"}, {"op": "sum", "column": "amount"}]}


@pytest.fixture
def org(platform: Platform, tenant: str):
    return build_org(platform, tenant)


@pytest.mark.parametrize("who", ["admin", "mgr", "rep1", "rep2"])
def test_each_user_gets_the_numbers_of_the_records_they_can_read(org, who: str) -> None:
    service = org.service(who)
    visible = service.list("deal", ListQuery(limit=500)).records
    assert {d["name"] for d in visible} == EXPECTED[who][0]
    result = run_report(service, REPORT)
    counts = Counter(d["region"] for d in visible)
    assert {g["key"]: g["values"]["count"] for g in result["groups"]} == dict(counts)
    amounts = sum((Decimal(str(d["amount"])) for d in visible if d["amount"] is not None), Decimal(0))
    assert (result["total"]["values"]["sum_amount"] or 0) == amounts
    assert {r["name"] for r in result["rows"]} == EXPECTED[who][0]
    shown = [c["name"] for c in result["columns"]]
    assert ("margin" in shown) == (who in ("admin", "mgr"))


def test_a_hidden_field_cannot_be_grouped_filtered_or_summed(org) -> None:
    rep = org.service("rep1")
    for report in ({**REPORT, "group_by": [{"field": "margin"}]},
                   {**REPORT, "filters": [{"field": "margin", "op": "gt", "value": 0}]},
                   {**REPORT, "where": "margin > 0"},
                   {**REPORT, "aggregates": [{"op": "max", "column": "margin"}]},
                   {**REPORT, "group_by": [{"expression": "margin * 2"}]}):
        with pytest.raises(Forbidden):
            run_report(rep, report)
