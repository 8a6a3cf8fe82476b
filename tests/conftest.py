"""Fixtures that run the suite against both storage backends.

Every test that takes ``platform`` (or anything built on it) runs twice: on
the embedded default (SQLite files) and on PostgreSQL + Redis. The services'
addresses come from ``TRELLIS_TEST_DATABASE_URL`` and ``TRELLIS_TEST_REDIS_URL``
(defaults: the local servers). If they are unreachable those tests fail —
they never skip — so a green run always means both backends were exercised.
``TRELLIS_TEST_BACKENDS=sqlite`` narrows a local run on purpose.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.tenants.demo import DemoLogin, install_demo
from trellis.tenants.registry import create_tenant

PG_URL = os.environ.get("TRELLIS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TRELLIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = [b for b in os.environ.get("TRELLIS_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test session on the PostgreSQL server, dropped afterwards."""
    name = f"trellis_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    redis.Redis.from_url(REDIS_URL).ping()
    return REDIS_URL


@pytest.fixture(scope="session", params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    if request.param == "sqlite":
        return Settings(data_dir=data_dir, secret_key="test-secret")
    # Redis is shared by every test session on the machine: a queue of this session's own.
    return Settings(database_url=request.getfixturevalue("postgres_url"),
                    redis_url=request.getfixturevalue("redis_url"), data_dir=data_dir, secret_key="test-secret",
                    job_queue=f"trellis-test-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def platform(settings: Settings) -> Iterator[Platform]:
    platform = Platform(settings)
    platform.migrate()
    yield platform
    platform.dispose()


@pytest.fixture
def tenant(platform: Platform) -> str:
    """A new, empty tenant for one test; returns its slug."""
    slug = f"t-{uuid.uuid4().hex[:12]}"
    create_tenant(platform, slug, "Test tenant")
    return slug


@pytest.fixture
def actor() -> Actor:
    return Actor(user_id=None)


@pytest.fixture
def demo(platform: Platform) -> DemoLogin:
    """A fresh copy of the demo tenant (accounts, contacts, deals) with a login and an API token."""
    return install_demo(platform, slug=f"demo-{uuid.uuid4().hex[:10]}")
