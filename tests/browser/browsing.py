"""What every browser test does first: sign in as the demo admin on the way to a page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from trellis.tenants.demo import DemoLogin


def sign_in(page: Page, url: str, demo: DemoLogin) -> None:
    """Open ``url``, get sent to the sign-in form, sign in, and land on ``url``."""
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url)
