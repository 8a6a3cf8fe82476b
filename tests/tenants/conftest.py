"""Fixtures the tenant tests share: an app over the test platform, a client, and the real CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.renderers.cli import root as cli_root


@pytest.fixture(scope="module")
def app(platform: Platform) -> Flask:
    app = create_app(platform=platform)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The real ``trellis`` command, run against the test's platform."""
    monkeypatch.setattr(cli_root, "Platform", lambda: platform)
    monkeypatch.setattr(platform, "dispose", lambda: None)
    return CliRunner()
