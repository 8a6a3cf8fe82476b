"""Fixtures for the REST API tests: an app over the session's platform, a client, a token's headers.

Tests that change records or metadata take ``api``/``auth``: a fresh demo
tenant (accounts, contacts, deals and an API token) of their own. Tests that
only read, or whose requests are refused, share one per module through
``shared_api``/``shared_auth``, since installing the demo takes about a second.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.tenants.demo import DemoLogin, install_demo


@pytest.fixture(scope="module")
def app(platform: Platform) -> Flask:
    app = create_app(platform=platform)
    app.config.update(TESTING=True)
    return app


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(demo: DemoLogin) -> dict[str, str]:
    """Headers that authenticate as the admin of this test's own demo tenant."""
    return {"Authorization": f"Bearer {demo.token}"}


@pytest.fixture
def api(demo: DemoLogin) -> str:
    """The API root of this test's own demo tenant, free to change."""
    return f"/t/{demo.tenant}/api/v1"


@pytest.fixture(scope="module")
def shared_demo(platform: Platform) -> DemoLogin:
    """A demo tenant shared by a module's tests that only read it or are refused (installing one takes ~1 s)."""
    return install_demo(platform, slug=f"demo-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def shared_auth(shared_demo: DemoLogin) -> dict[str, str]:
    return {"Authorization": f"Bearer {shared_demo.token}"}


@pytest.fixture(scope="module")
def shared_api(shared_demo: DemoLogin) -> str:
    return f"/t/{shared_demo.tenant}/api/v1"


@pytest.fixture
def problem_fields() -> Callable[[Any], list[str]]:
    """Check that a response is a problem document and return the fields its ``errors`` name."""

    def fields(response: Any) -> list[str]:
        assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
        body = response.get_json()
        assert body["status"] == response.status_code
        assert body["type"] and body["title"] and body["detail"]
        return [error["field"] for error in body["errors"]]

    return fields
