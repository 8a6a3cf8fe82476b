"""The dispatcher: which app answers which address, and when a tenant's app is rebuilt."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import Client

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.renderers.screens import ScreenDispatcher, mount_screens
from trellis.renderers.screens.appcache import AppCache
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    """The tests here only read, so they share one demo tenant."""
    return shared_demo


def _outer(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"outer {environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()]


def test_api_and_everything_outside_tenants_stay_with_the_outer_app(platform: Platform, demo: DemoLogin) -> None:
    client = Client(mount_screens(_outer, platform))
    for path in ("/", "/health", f"/t/{demo.tenant}/api/v1/objects", f"/t/{demo.tenant}/api", "/t/"):
        assert client.get(path).text == f"outer |{path}", path
    screens = client.get(f"/t/{demo.tenant}/records/deal/")
    assert screens.status_code == 302
    assert screens.headers["Location"].startswith(f"/t/{demo.tenant}/login?next=")


def test_the_served_app_keeps_the_rest_api_beside_the_screens(client: FlaskClient, demo: DemoLogin) -> None:
    answer = client.get(f"/t/{demo.tenant}/api/v1/records/deal",
                        headers={"Authorization": f"Bearer {demo.token}"})
    assert answer.status_code == 200
    assert answer.is_json
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("path", ["/t/no-such-tenant/", "/t/no-such-tenant/records/deal/", "/t/NOT_A_SLUG/", "/t/x/"])
def test_an_unknown_tenant_is_a_404_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "no such CRM" in response.text


def test_the_tenant_root_without_a_slash_redirects_to_it(client: FlaskClient, demo: DemoLogin) -> None:
    response = client.get(f"/t/{demo.tenant}")
    assert response.status_code == 308
    assert response.headers["Location"] == f"/t/{demo.tenant}/"


def test_one_app_per_revision_and_a_new_one_after_a_metadata_change(platform: Platform, demo: DemoLogin) -> None:
    dispatcher = ScreenDispatcher(_outer, platform)
    first = dispatcher.app_for(demo.tenant)
    assert dispatcher.app_for(demo.tenant) is first
    runtime = platform.runtime(demo.tenant)
    platform.editor(runtime, Actor(None)).add_field("deal", {"api_name": "region", "label": "Region", "type": "text"})
    second = dispatcher.app_for(demo.tenant)
    assert second is not first
    assert dispatcher.apps.keys() == [(demo.tenant, runtime.revision.number + 1)]


def test_bundled_assets_are_served_without_asking_the_database(platform: Platform, demo: DemoLogin,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dispatcher = ScreenDispatcher(_outer, platform)
    client = Client(dispatcher)
    asset = f"/t/{demo.tenant}/static/admin/vendor/jquery.min.js"
    first = client.get(asset)  # builds the tenant's app
    assert first.status_code == 200
    first.close()

    def unreachable(*args: Any) -> None:
        raise AssertionError("the tenant and its revision were looked up")

    monkeypatch.setattr(platform, "runtime", unreachable)
    response = client.get(asset)
    assert response.status_code == 200 and b"jQuery" in response.data
    response.close()


def test_the_app_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    cache = AppCache(capacity=2)
    built: list[str] = []

    def build(name: str):
        def make() -> str:
            built.append(name)
            return name
        return make

    assert cache.get("a", 1, "a", build("a")) == "a"
    assert cache.get("b", 1, "b", build("b")) == "b"
    assert cache.get("a", 1, "a", build("a-again")) == "a"  # cached; "a" is now the most recent
    cache.get("c", 1, "c", build("c"))
    assert cache.keys() == [("a", 1), ("c", 1)]
    assert cache.get("a", 1, "renamed", build("a-renamed")) == "a-renamed"  # other control-plane facts
    assert built == ["a", "b", "c", "a-renamed"]
