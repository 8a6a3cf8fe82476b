"""Fixtures for the extension tests: the served app over the session's platform, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.tenants.demo import DemoLogin


@pytest.fixture(scope="session")
def web_app(platform: Platform) -> Flask:
    app = create_app(platform=platform)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(web_app: Flask) -> Iterator[FlaskClient]:
    with web_app.test_client() as client:
        yield client


@pytest.fixture
def auth(demo: DemoLogin) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo.token}"}


@pytest.fixture
def api(demo: DemoLogin) -> str:
    return f"/t/{demo.tenant}/api/v1"
