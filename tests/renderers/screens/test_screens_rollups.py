"""The demo's account rollups (open pipeline, deal count) on the list screen: shown, sorted and filtered by the
database, shown on the detail page, never on a form (both backends; read only: one shared demo)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import RecordService
from trellis.renderers.screens.filters import object_filters
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    return shared_demo


def _pipelines(page: str) -> list[Decimal]:
    return [Decimal(v.replace(",", "")) for v in re.findall(r'class="col-open_pipeline">\s*([0-9.,]+)\s*<', page)]


def test_the_account_list_shows_and_sorts_by_the_open_pipeline(signed_in: FlaskClient, base: str,
                                                                records: RecordService) -> None:
    page = signed_in.get(f"{base}/records/account/").text
    assert "Open pipeline" in page and "col-deal_count" in page
    column = re.search(r'sort=(\d+)[^"]*"[^>]*>\s*Open pipeline', page)[1]
    shown = _pipelines(signed_in.get(f"{base}/records/account/", query_string={"sort": column, "desc": 1}).text)
    expected = records.list("account", ListQuery(sort=[("open_pipeline", True)], limit=20)).records
    assert len(shown) == len(expected) > 1 and shown == [Decimal(str(r["open_pipeline"])) for r in expected]
    assert shown == sorted(shown, reverse=True) and shown[0] > shown[-1]


def test_the_account_list_filters_by_the_open_pipeline(signed_in: FlaskClient, base: str, records: RecordService,
                                                       platform: Platform, demo: DemoLogin) -> None:
    filters = object_filters(platform.runtime(demo.tenant).object("account"))
    greater = next(i for i, f in enumerate(filters) if f.field.api_name == "open_pipeline" and f.op == "gt")
    everyone = records.list("account", ListQuery(limit=100)).records
    threshold = sorted(a["open_pipeline"] for a in everyone)[len(everyone) // 2]
    page = signed_in.get(f"{base}/records/account/", query_string={f"flt0_{greater}": str(threshold)}).text
    kept = _pipelines(page)
    assert kept and all(value > threshold for value in kept)
    assert len(kept) == len([a for a in everyone if a["open_pipeline"] > threshold])


def test_a_rollup_is_on_the_detail_page_and_on_no_form(signed_in: FlaskClient, base: str) -> None:
    assert "Open pipeline" in signed_in.get(f"{base}/records/account/details/?id=1").text
    assert 'name="open_pipeline"' not in signed_in.get(f"{base}/records/account/new/").text
    assert 'name="deal_count"' not in signed_in.get(f"{base}/records/account/edit/?id=1").text
