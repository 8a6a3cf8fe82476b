"""Must-show 2, in Chromium: the demo's pipeline dashboard shows the funnel of open deals by stage and the
forecast chart; clicking a stage of the funnel lands on the deal list filtered to that stage."""

from __future__ import annotations

import re

import pytest
from browsing import sign_in
from playwright.sync_api import Page, expect

from trellis.platform.core import Platform
from trellis.platform.records.query import Filter, ListQuery
from trellis.platform.records.service import Actor
from trellis.tenants.demo import DemoLogin

pytestmark = pytest.mark.browser


def test_click_a_funnel_stage_and_land_on_its_deals(page: Page, live_server: str, demo: DemoLogin,
                                                    platform: Platform) -> None:
    dashboard = f"{live_server}/t/{demo.tenant}/reports/dashboards/pipeline/"
    sign_in(page, f"{live_server}/t/{demo.tenant}/", demo)
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="Pipeline").first.click()
    expect(page).to_have_url(dashboard)

    funnel = page.locator("svg[data-chart=funnel]")
    expect(funnel).to_be_visible()
    expect(page.locator("svg[data-chart=bar]")).to_be_visible()
    expect(page.get_by_role("img", name="Forecast")).to_be_visible()

    stage = funnel.locator("a[data-group]").first
    label = stage.get_attribute("data-group")
    stage.click()
    expect(page).to_have_url(re.compile(r"/deal/.*where="))
    expect(page.locator("#trellis-where")).to_have_value(re.compile(r'stage = "'))

    value = re.search(r'stage = "([a-z_]+)"', page.locator("#trellis-where").input_value()).group(1)
    records = platform.records(platform.runtime(demo.tenant), Actor(None))
    expected = records.list("deal", ListQuery(filters=[Filter("stage", "eq", value)], limit=200)).records
    assert label and expected
    for deal in expected:
        expect(page.get_by_role("cell", name=deal["name"], exact=True).first).to_be_visible()
    others = records.list("deal", ListQuery(filters=[Filter("stage", "ne", value)], limit=200)).records
    shown = {d["name"] for d in expected}
    for deal in (d for d in others if d["name"] not in shown):
        expect(page.get_by_role("cell", name=deal["name"], exact=True)).to_have_count(0)
