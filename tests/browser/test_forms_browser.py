"""Form layouts in Chromium: a field that appears only while another has a certain value, live and without
a reload; the server refusing the same rule through the API; and the browser's rule evaluator giving the
same answers as the Python one over a table of expressions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from browsing import sign_in
from playwright.sync_api import Page, expect

from trellis.metadata.expressions import Checked, Scope, check, parse
from trellis.metadata.layouts import check_form_rule
from trellis.platform.core import Platform
from trellis.platform.expressions import Context, evaluate
from trellis.platform.records.service import Actor
from trellis.renderers.screens.layouts import rule_json
from trellis.tenants.demo import DemoLogin

pytestmark = pytest.mark.browser





def test_a_field_appears_live_when_another_has_a_value_and_the_api_refuses_the_rule(
        page: Page, live_server: str, demo: DemoLogin, platform: Platform) -> None:
    base = f"{live_server}/t/{demo.tenant}"
    editor = platform.editor(platform.runtime(demo.tenant), Actor(None))
    layouts = editor.object("deal")["layouts"]
    forecast = layouts[0]["sections"][1]["fields"]
    forecast[0] = {"field": "amount", "readonly_if": 'stage = "won"'}
    editor.update_object("deal", {"layouts": layouts})
    sign_in(page, f"{base}/records/deal/new/", demo)
    reason = page.locator('[data-trellis-field="lost_reason"]')
    expect(page.locator(".trellis-section h5", has_text="Forecast")).to_be_visible()
    expect(reason).to_be_hidden()

    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    page.get_by_label("Deal name").fill("Lost to a rival")
    page.locator("select#stage").select_option("lost")
    expect(reason).to_be_visible()
    expect(reason.locator(".trellis-required-mark")).to_be_visible()
    expect(page.locator("select#lost_reason")).to_have_attribute("required", "")
    expect(page.locator("input#amount")).not_to_have_attribute("readonly", "")
    page.locator("select#stage").select_option("won")
    expect(reason).to_be_hidden()
    expect(page.locator("input#amount")).to_have_attribute("readonly", "")
    page.locator("select#stage").select_option("lost")
    expect(reason).to_be_visible()
    assert navigations == [] and page.url == f"{base}/records/deal/new/"

    account = platform.records(platform.runtime(demo.tenant), Actor(None)).list("account").records[0]["id"]
    refused = page.request.post(f"{base}/api/v1/records/deal", headers={"Authorization": f"Bearer {demo.token}"},
                                data={"name": "Lost to a rival", "account": account, "stage": "lost"})
    assert refused.status == 422
    assert [(e["field"], e["message"]) for e in refused.json()["errors"]] == [
        ("lost_reason", "Lost reason is required here; fill it in.")]


NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
RECORD: dict[str, Any] = {"name": "Alpha deal", "stage": "lost", "amount": Decimal("1250.5"),
                          "probability": Decimal(25), "close_date": date(2026, 2, 28), "description": None,
                          "created_at": datetime(2026, 1, 31, 23, 30, tzinfo=UTC)}
EXPRESSIONS = [
    'stage = "lost"', 'stage != "won" AND amount > 1000', 'stage IN ("won", "lost")', "NOT ISBLANK(description)",
    "ISBLANK(description) OR amount < 0", "amount / 0", "amount * probability / 100", "-amount + 1",
    'IF(amount > 1000, "big", "small")', 'CASE(stage, "won", 1, "lost", 2, 0)', "BLANKVALUE(description, name)",
    "TODAY()", "NOW()", "DATE(2024, 2, 29)", "DATE(2023, 2, 29)", "YEAR(close_date)", "MONTH(created_at)",
    "DAYS_BETWEEN(created_at, close_date)", "DAYS_BETWEEN(close_date, TODAY())", "ADD_DAYS(close_date, 1)",
    "ADD_DAYS(close_date, -1.9)", "TEXT(amount)", "TEXT(close_date)", "TEXT(created_at)", "TEXT(amount > 1)",
    'VALUE("12.50")', 'VALUE("1e3")', 'CONCAT(name, "-", description, "!")', "LEFT(name, 3)", "RIGHT(name, 4)",
    "LEFT(name, -1)", "LEN(description)", "LEN(name)", "UPPER(name)", "LOWER(name)", 'CONTAINS(name, "deal")',
    'CONTAINS(description, "x")', "ROUND(amount)", "ROUND(amount / 3, 2)", "ROUND(-2.5)", "ABS(0 - amount)",
    "MIN(amount, probability, description_len)", "MAX(close_date, ADD_DAYS(TODAY(), 0))",
    'name & " / " & stage', "close_date < TODAY()", "created_at < NOW()", 'stage = "won" OR ISBLANK(stage)',
]


def _python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "")
    if isinstance(value, date):
        return value.isoformat()
    return value


def test_the_browser_evaluator_agrees_with_python(page: Page, live_server: str, demo: DemoLogin,
                                                 platform: Platform) -> None:
    runtime = platform.runtime(demo.tenant)
    deal = runtime.object("deal")
    sign_in(page, f"{live_server}/t/{demo.tenant}/records/deal/new/", demo)
    page.wait_for_function("window.TrellisRules !== undefined")
    values = {name: _python(value) for name, value in RECORD.items()}
    for text in [e.replace("description_len", "LEN(name)") for e in EXPRESSIONS]:
        checked = _checked(text, deal, runtime.objects)
        expected = _python(evaluate(checked, RECORD, Context(now=NOW)))
        got = page.evaluate("""([tree, values, now]) => {
            const value = TrellisRules.evaluate(tree, values, {now});
            if (value === null) return null;
            if (tree.t === "date") return TrellisRules.text(value, "date");
            if (tree.t === "datetime") return TrellisRules.text(value, "datetime").replace(" ", "T");
            return value;
        }""", [rule_json(checked), values, int(NOW.timestamp() * 1000)])
        if isinstance(expected, float) and isinstance(got, int | float):
            assert got == pytest.approx(expected, rel=1e-12), text
        else:
            assert got == expected, text


def _checked(text: str, obj: Any, objects: Any) -> Checked:
    """The table's expressions give any type, so they are checked as such, after the form-rule check (which
    wants a boolean) has confirmed the browser can run every function they use."""
    check_form_rule(f"ISBLANK({text}) OR TRUE", obj, objects)
    return check(parse(text), Scope(obj, objects))
