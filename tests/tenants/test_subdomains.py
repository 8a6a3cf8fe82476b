"""Tenants served on their own subdomain when ``TRELLIS_BASE_DOMAIN`` is set (Flask test client ``base_url``).

``acme.crm.example.com/...`` must behave exactly like ``/t/acme/...``: sign-in,
redirects and generated links, the screens and the API; an unknown subdomain is the
same 404 as an unknown tenant path. Both backends.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.tenants.demo import DemoLogin, install_demo

DOMAIN = "crm.example.com"


@pytest.fixture(scope="module")
def app(platform: Platform) -> Flask:
    """An app on a base domain, sharing the test platform's stores."""
    settings = dataclasses.replace(platform.settings, base_domain=DOMAIN)
    on_domain = Platform(settings)
    app = create_app(platform=on_domain)
    app.config.update(TESTING=True)
    yield app
    on_domain.dispose()


class _Host:
    """A test client whose every request goes to ``host`` (Flask takes ``base_url`` per request)."""

    def __init__(self, client: FlaskClient, host: str) -> None:
        self.client, self.base_url = client, f"http://{host}"

    def get(self, path: str, **kw):
        return self.client.get(path, base_url=self.base_url, **kw)

    def post(self, path: str, **kw):
        return self.client.post(path, base_url=self.base_url, **kw)


@pytest.fixture(scope="module")
def demo(platform: Platform) -> DemoLogin:
    """One demo tenant for the module: these tests only read it."""
    return install_demo(platform, slug=f"sub-{uuid.uuid4().hex[:8]}")


def _client(app: Flask, host: str) -> _Host:
    return _Host(app.test_client(), host)


def test_screens_on_a_subdomain(app: Flask, demo: DemoLogin) -> None:
    client = _client(app, f"{demo.tenant}.{DOMAIN}")
    first = client.get("/records/deal/")
    assert first.status_code == 302 and "/login" in first.headers["Location"]
    login = client.get(first.headers["Location"])
    assert login.status_code == 200
    token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login.text)[1])
    signed_in = client.post(first.headers["Location"], data={"email": demo.email, "password": demo.password,
                                                            "csrf_token": token}, follow_redirects=True)
    assert signed_in.status_code == 200
    page = client.get("/records/deal/")
    assert page.status_code == 200
    links = re.findall(r'href="(/[^"]*records/deal/[^"]*)"', page.text)
    assert links and all(client.get(unescape(link)).status_code == 200 for link in links[:3])
    assert client.get("/").status_code == 200


def test_api_on_a_subdomain(app: Flask, demo: DemoLogin) -> None:
    client = _client(app, f"{demo.tenant}.{DOMAIN}:8443")
    auth = {"Authorization": f"Bearer {demo.token}"}
    by_host = client.get("/api/v1/records/deal", headers=auth)
    by_path = client.get(f"/t/{demo.tenant}/api/v1/records/deal", headers=auth)
    assert by_host.status_code == 200 and by_host.json == by_path.json
    assert client.get("/api/v1/openapi.json", headers=auth).json["paths"]


def test_unknown_subdomains_reveal_nothing(app: Flask, demo: DemoLogin) -> None:
    auth = {"Authorization": f"Bearer {demo.token}"}
    unknown = _client(app, f"nobody-{uuid.uuid4().hex[:6]}.{DOMAIN}")
    assert unknown.get("/").status_code == 404
    assert unknown.get("/api/v1/records/deal", headers=auth).status_code == 401
    for host in (f"a.b.{DOMAIN}", f"Bad_Name.{DOMAIN}"):
        assert _client(app, host).get("/").status_code == 404
    other = _client(app, f"{demo.tenant}.{DOMAIN}").get("/t/someone-else/api/v1/records/deal", headers=auth)
    assert other.status_code == 302 and other.headers["Location"].startswith(f"/t/{demo.tenant}/login")


def test_base_domain_and_other_hosts_are_untouched(app: Flask, demo: DemoLogin) -> None:
    assert _client(app, DOMAIN).get("/").status_code == 200
    assert _client(app, "localhost").get(f"/t/{demo.tenant}/api/v1/records/deal",
                                         headers={"Authorization": f"Bearer {demo.token}"}).status_code == 200
