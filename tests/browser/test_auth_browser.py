"""Sign-in limit and CSRF through Chromium and through raw HTTP on the same live server.

Repeated wrong passwords end in the "too many attempts" answer, and then even the right password waits;
a form whose CSRF token was tampered with in the page is refused and nothing is saved. The raw-HTTP
tests send the same requests over a socket, as a script would, without a browser's help.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html import unescape

import pytest
from browsing import sign_in
from limits import parse
from playwright.sync_api import Page, expect

from trellis.platform.controlplane.accounts import add_membership, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor
from trellis.renderers.screens import auth
from trellis.tenants.demo import DemoLogin

pytestmark = pytest.mark.browser

PASSWORD = "browser-password-1"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """Three failures per account within a minute; the live server runs in this process, so it sees this."""
    monkeypatch.setattr(auth, "ACCOUNT_LIMIT", parse("3 per 1 minute"))
    return 3


def new_member(platform: Platform, slug: str) -> str:
    email = f"b-{uuid.uuid4().hex[:10]}@example.com"
    with platform.control() as session:
        add_membership(session, find_tenant(session, slug), create_user(session, email=email, password=PASSWORD),
                       role="admin")
    return email


def deals_named(platform: Platform, slug: str, name: str) -> list[dict]:
    service = platform.records(platform.runtime(slug), Actor(None))
    return [r for r in service.list("deal", ListQuery(search=name, limit=200)).records if r["name"] == name]


def test_wrong_passwords_in_the_browser_end_in_too_many_attempts(
        page: Page, live_server: str, platform: Platform, demo: DemoLogin, small_limit: int) -> None:
    email = new_member(platform, demo.tenant)
    page.goto(f"{live_server}/t/{demo.tenant}/login")
    for _ in range(small_limit):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Too many sign-in attempts")).to_have_count(0)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 429
    expect(page.get_by_text(re.compile(r"Too many sign-in attempts; try again in \d+ minutes"))).to_be_visible()
    page.goto(f"{live_server}/t/{demo.tenant}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))  # the right password did not sign in


def test_a_form_with_a_tampered_csrf_token_is_refused_in_the_browser(
        page: Page, live_server: str, platform: Platform, demo: DemoLogin) -> None:
    url = f"{live_server}/t/{demo.tenant}/records/deal/new/"
    sign_in(page, url, demo)
    name = f"Tampered {uuid.uuid4().hex[:6]}"
    page.get_by_label("Deal name").fill(name)
    page.evaluate("""() => document.querySelectorAll('input[name="csrf_token"]')
                          .forEach(input => { input.value = input.value.slice(0, -4) + 'AAAA'; })""")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=re.compile(r"^Save$")).first.click()
    assert answer.value.status == 400
    expect(page.get_by_text("CSRF")).to_be_visible()
    assert deals_named(platform, demo.tenant, name) == []


# -- the same through raw HTTP ----------------------------------------------------


def opener() -> urllib.request.OpenerDirector:
    """A cookie-keeping client that follows redirects and answers 4xx as responses instead of raising."""

    class Keep(urllib.request.HTTPErrorProcessor):
        def http_response(self, request, response):  # noqa: ANN001, ANN202 - urllib's signature
            return response if response.status >= 400 else super().http_response(request, response)

    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Keep)


def submit(client: urllib.request.OpenerDirector, url: str, fields: dict[str, str], token: str | None = None):
    """POST ``fields`` with the CSRF token of the page at ``url`` (or ``token`` instead)."""
    page = client.open(url).read().decode()
    found = token if token is not None else unescape(_CSRF.search(page)[1])
    data = urllib.parse.urlencode({**fields, "csrf_token": found}).encode()
    response = client.open(urllib.request.Request(url, data=data, method="POST"))
    return response.status, response.read().decode(), response.url


def test_wrong_passwords_over_raw_http_end_in_429(
        live_server: str, platform: Platform, demo: DemoLogin, small_limit: int) -> None:
    email, client = new_member(platform, demo.tenant), opener()
    login = f"{live_server}/t/{demo.tenant}/login"
    for _ in range(small_limit):
        assert submit(client, login, {"email": email, "password": "nope"})[0] == 200
    status, body, _ = submit(client, login, {"email": email, "password": PASSWORD})
    assert status == 429 and "Too many sign-in attempts" in body
    assert "/login" in client.open(f"{live_server}/t/{demo.tenant}/").url


def test_a_tampered_csrf_token_over_raw_http_is_refused(live_server: str, platform: Platform,
                                                        demo: DemoLogin) -> None:
    client, base = opener(), f"{live_server}/t/{demo.tenant}"
    status, _, landed = submit(client, f"{base}/login", {"email": demo.email, "password": demo.password})
    assert status == 200 and "/login" not in landed
    new = f"{base}/records/deal/new/"
    token = unescape(_CSRF.search(client.open(new).read().decode())[1])
    name = f"Raw tampered {uuid.uuid4().hex[:6]}"
    status, body, _ = submit(client, new, {"name": name}, token=token[:-4] + "AAAA")
    assert status == 400 and "CSRF" in body
    assert submit(client, new, {"name": name}, token="")[0] == 400
    assert deals_named(platform, demo.tenant, name) == []
