"""Signing in to the screens and posting their forms, for the extension tests."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient

from trellis.tenants.demo import DemoLogin

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(client: FlaskClient, url: str) -> str:
    """The CSRF token the page at ``url`` carries, as a browser would submit it."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return unescape(_CSRF.search(page.text)[1])


def sign_in(client: FlaskClient, demo: DemoLogin) -> str:
    """Sign in as the demo's admin; returns the tenant's screens address."""
    base = f"/t/{demo.tenant}"
    answer = client.post(f"{base}/login", data={"email": demo.email, "password": demo.password,
                                               "csrf_token": csrf(client, f"{base}/login")})
    assert answer.status_code == 302, answer.text
    return base
