"""Fixtures for the generated screens: the served app, a signed-in test client, the demo's records.

Tests talk to the screens through the app that ``create_app`` builds, so the dispatcher,
the API beside it and the tenant apps are exercised as they are served, on both backends.
Tests that change records or metadata take a fresh demo tenant (``demo`` from
tests/conftest.py); modules that only read share one (``shared_demo``), which keeps the
suite fast: installing the demo is most of a test's cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from screen_helpers import sign_in

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor, RecordService
from trellis.renderers.app import create_app
from trellis.tenants.demo import DemoLogin, install_demo


@pytest.fixture(scope="module")
def shared_demo(platform: Platform) -> DemoLogin:
    """One demo tenant for a whole module of tests that do not change it."""
    return install_demo(platform, slug=f"demo-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def web_app(platform: Platform) -> Flask:
    """One served app per backend, as in production: tenants' screen apps are cached across tests."""
    return create_app(platform=platform)


@pytest.fixture
def client(web_app: Flask) -> Iterator[FlaskClient]:
    with web_app.test_client() as client:
        yield client


@pytest.fixture
def base(demo: DemoLogin) -> str:
    """The demo tenant's screens address."""
    return f"/t/{demo.tenant}"


@pytest.fixture
def signed_in(client: FlaskClient, demo: DemoLogin, base: str) -> FlaskClient:
    """A client signed in as the demo admin."""
    response = sign_in(client, base, demo.email, demo.password)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def records(platform: Platform, demo: DemoLogin) -> RecordService:
    """The demo tenant's record service, to arrange data and check what the screens saved."""
    return platform.records(platform.runtime(demo.tenant), Actor(None))
