"""A user works a record end to end in Chromium: sign in, create with a lookup, find, open, edit."""

from __future__ import annotations

import re

import pytest
from browsing import sign_in
from playwright.sync_api import Page, expect

from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor
from trellis.tenants.demo import DemoLogin

pytestmark = pytest.mark.browser





def _choose_lookup(page: Page, field: str, typed: str, title: str) -> None:
    """Pick a record in a lookup's Select2 box by typing part of its title."""
    page.locator(f"#s2id_{field} .select2-choice").click()
    page.locator(".select2-drop-active input.select2-input").fill(typed)
    page.locator(".select2-drop-active .select2-result-selectable", has_text=title).click()
    expect(page.locator(f"#s2id_{field} .select2-chosen")).to_have_text(title)


def test_create_find_open_and_edit_a_contact(page: Page, live_server: str, demo: DemoLogin,
                                             platform: Platform) -> None:
    base = f"{live_server}/t/{demo.tenant}"
    sign_in(page, f"{base}/records/contact/", demo)

    page.get_by_role("link", name="Create").click()
    page.get_by_label("Full name").fill("Hedy Lamarr")
    page.get_by_label("Email").fill("hedy@example.com")
    _choose_lookup(page, "account", "glob", "Globex")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(f"{base}/records/contact/") + r"(\?.*)?$"))
    expect(page.get_by_text("Record was successfully created.")).to_be_visible()
    row = page.locator("table tbody tr", has_text="Hedy Lamarr")
    expect(row).to_contain_text("Globex")

    row.locator("a[title='View Record']").click()
    expect(page.locator("table")).to_contain_text("hedy@example.com")
    expect(page.get_by_role("link", name="Globex")).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Full name")).to_have_value("Hedy Lamarr")
    page.get_by_label("Phone").fill("+1 555 0199")
    page.get_by_label("Full name").fill("Hedy Kiesler Lamarr")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text("Record was successfully saved.")).to_be_visible()
    expect(page.locator("table tbody tr", has_text="Hedy Kiesler Lamarr")).to_contain_text("+1 555 0199")
    records = platform.records(platform.runtime(demo.tenant), Actor(None))
    saved = records.list("contact", ListQuery(search="Hedy Kiesler Lamarr")).records[0]
    globex = records.list("account", ListQuery(search="Globex")).records[0]
    assert (saved["account"], saved["phone"], saved["version"]) == (globex["id"], "+1 555 0199", 2)
