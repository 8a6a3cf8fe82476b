"""Placement across two PostgreSQL databases, and moving a tenant between them.

PostgreSQL only (placement is a PostgreSQL feature): a second database is created on
the test server for this module and dropped afterwards. Another ``Platform`` plays a
second app server, to show that a move made by one process is followed by the others
on their next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.errors import TrellisError
from trellis.platform.records.service import Actor
from trellis.renderers.app import create_app
from trellis.renderers.cli import main as trellis_cli
from trellis.renderers.cli import root as cli_root
from trellis.tenants import placement
from trellis.tenants.backup import archive_contents, backup_tenant
from trellis.tenants.demo import install_demo
from trellis.tenants.registry import create_tenant, find_tenant, list_tenants

ACTOR = Actor(user_id=None)


@pytest.fixture(scope="module")
def settings_two(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    name = f"trellis_test_eu_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eu = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    yield Settings(database_url=postgres_url, databases={"main": postgres_url, "eu": eu},
                   data_dir=tmp_path_factory.mktemp("placement"), secret_key="test-secret")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def one(settings_two: Settings) -> Iterator[Platform]:
    platform = Platform(settings_two)
    platform.migrate()
    yield platform
    platform.dispose()


@pytest.fixture(scope="module")
def other(settings_two: Settings) -> Iterator[Platform]:
    """A second app server's platform over the same databases."""
    platform = Platform(settings_two)
    yield platform
    platform.dispose()


def _schemas(platform: Platform, database: str) -> set[str]:
    with platform.stores.engine(database).connect() as conn:
        return set(inspect(conn).get_schema_names())


def _counts(platform: Platform) -> dict[str, int]:
    tenants = list_tenants(platform)
    return {name: sum(t.database == name for t in tenants) for name in ("main", "eu")}


def test_new_tenants_go_to_the_least_loaded_database(one: Platform) -> None:
    for _ in range(3):
        counts = _counts(one)
        expected = "eu" if counts["eu"] < counts["main"] else "main"
        ref = create_tenant(one, f"pl-{uuid.uuid4().hex[:8]}")
        assert find_tenant(one, ref.slug).database == expected
        assert ref.store_name in _schemas(one, expected)
    pinned = create_tenant(one, f"pl-{uuid.uuid4().hex[:8]}", database="eu")
    assert find_tenant(one, pinned.slug).database == "eu"


def test_move_copies_switches_and_drops_the_old_copy(one: Platform, other: Platform, tmp_path: Path) -> None:
    slug = install_demo(one, slug=f"mv-{uuid.uuid4().hex[:8]}").tenant
    source = find_tenant(one, slug).database
    target = "eu" if source == "main" else "main"
    before = other.records(other.runtime(slug), ACTOR).list("deal").records  # the other server has it cached
    backup_tenant(one, slug, tmp_path / "before.zip")

    moved = placement.move_tenant(one, slug, target)

    assert (moved.database, moved.moving_to) == (target, None)
    assert moved.store in _schemas(one, target) and moved.store not in _schemas(one, source)
    assert other.records(other.runtime(slug), ACTOR).list("deal").records == before
    backup_tenant(one, slug, tmp_path / "after.zip")
    was, now = archive_contents(tmp_path / "before.zip"), archive_contents(tmp_path / "after.zip")
    assert now["records"] == was["records"] and now["members"] == was["members"]
    assert now["revisions"][:-1] == was["revisions"]
    assert now["revisions"][-1]["summary"] == f"Moved from database {source} to {target}"
    created = other.records(other.runtime(slug), ACTOR).create("account", {"name": "After the move"})
    assert one.records(one.runtime(slug), ACTOR).get("account", created["id"])["name"] == "After the move"


def test_writes_wait_during_a_move_and_reads_continue(one: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = install_demo(one, slug=f"mw-{uuid.uuid4().hex[:8]}")
    client: FlaskClient = create_app(platform=one).test_client()
    auth = {"Authorization": f"Bearer {demo.token}"}
    seen: dict[str, object] = {}
    restore = placement._restore_moved

    def during(*args: object) -> None:
        write = client.post(f"/t/{demo.tenant}/api/v1/records/account", json={"name": "x"}, headers=auth)
        seen["write"] = (write.status_code, write.headers.get("Retry-After"), write.json["type"])
        seen["read"] = client.get(f"/t/{demo.tenant}/api/v1/records/account", headers=auth).status_code
        restore(*args)

    monkeypatch.setattr(placement, "_restore_moved", during)
    target = "eu" if find_tenant(one, demo.tenant).database == "main" else "main"
    placement.move_tenant(one, demo.tenant, target)
    assert seen == {"write": (503, "30", "https://trellis.dev/problems/tenant-moving"), "read": 200}
    after = client.post(f"/t/{demo.tenant}/api/v1/records/account", json={"name": "y"}, headers=auth)
    assert after.status_code == 201


def test_a_failed_move_leaves_the_tenant_where_it_was(one: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    slug = install_demo(one, slug=f"mf-{uuid.uuid4().hex[:8]}").tenant
    info = find_tenant(one, slug)
    target = "eu" if info.database == "main" else "main"

    def broken(*_args: object) -> None:
        raise RuntimeError("network gone")

    monkeypatch.setattr(placement, "_restore_moved", broken)
    with pytest.raises(RuntimeError):
        placement.move_tenant(one, slug, target)
    assert find_tenant(one, slug) == info
    assert info.store not in _schemas(one, target)
    assert one.records(one.runtime(slug), ACTOR).create("account", {"name": "still writable"})["id"]


def test_moves_that_cannot_work_are_refused(one: Platform) -> None:
    slug = create_tenant(one, f"mr-{uuid.uuid4().hex[:8]}", database="main").slug
    for target, field in (("mars", "database"), ("main", "database")):
        with pytest.raises(TrellisError) as refused:
            placement.move_tenant(one, slug, target)
        assert [p.field for p in refused.value.problems] == [field]
    assert find_tenant(one, slug).moving_to is None


def test_move_from_the_cli(one: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_root, "Platform", lambda: one)
    monkeypatch.setattr(one, "dispose", lambda: None)
    slug = create_tenant(one, f"mc-{uuid.uuid4().hex[:8]}", database="main").slug
    moved = CliRunner().invoke(trellis_cli, ["tenants", "move", slug, "eu"])
    assert moved.exit_code == 0 and f"Moved {slug} to eu." in moved.output
    listed = CliRunner().invoke(trellis_cli, ["tenants", "list"]).output
    assert f"{slug}\tactive\teu\t" in listed
    again = CliRunner().invoke(trellis_cli, ["tenants", "move", slug, "eu"])
    assert again.exit_code == 1 and "already in eu" in again.output
