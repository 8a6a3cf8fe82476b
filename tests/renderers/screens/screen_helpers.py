"""Helpers for screen tests: submit forms with their CSRF token, read a page's text and fields."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import RecordService

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str, **kwargs: object) -> str:
    """The CSRF token a page's form carries, as a browser would submit it."""
    page = client.get(url, **kwargs)
    assert page.status_code == 200, page.text
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {url}"
    return unescape(match[1])


def sign_in(client: FlaskClient, base: str, email: str, password: str, **kwargs: object) -> TestResponse:
    token = csrf_token(client, f"{base}/login")
    return client.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs)


def post_form(client: FlaskClient, url: str, data: dict[str, object], **kwargs: object) -> TestResponse:
    """Submit a form the way the page would: with the token scraped from the page at ``url``."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)}, **kwargs)


def text_of(response: TestResponse) -> str:
    """The page's visible text (tags and scripts removed), for readable assertions."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def list_count(response: TestResponse) -> int:
    """The number of matching records a list page reports (flask-admin omits it when there are none)."""
    match = re.search(r"List \((\d+)\)", text_of(response))
    return int(match[1]) if match else 0


def field_html(page: str, name: str) -> str:
    """The form-group around the input named ``name`` (found by its label), to check one field's state."""
    start = page.index(f'<label for="{name}"')
    end = page.find('<div class="form-group', start)
    return page[page.rindex('<div class="form-group', 0, start):end if end != -1 else page.index("</form>", start)]


def account_id(records: RecordService, name: str) -> int:
    """The id of the demo account called ``name``."""
    return records.list("account", ListQuery(search=name)).records[0]["id"]
