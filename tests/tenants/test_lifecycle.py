"""A tenant's lifecycle as its users and its operators notice it: rename, suspend, resume, archive, delete.

Both backends. A suspended tenant says so (403) through the API and the screens,
an archived one answers like a tenant that never existed (404), and delete keeps a
final backup unless told not to and leaves nothing half-deleted.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from trellis.platform.core import Platform
from trellis.platform.errors import InvalidInput, NotFound
from trellis.platform.records.service import Actor
from trellis.renderers.app import create_app
from trellis.renderers.cli import main as trellis_cli
from trellis.tenants import lifecycle
from trellis.tenants.backup import restore_tenant
from trellis.tenants.demo import DemoLogin, install_demo
from trellis.tenants.placement import move_tenant
from trellis.tenants.registry import find_tenant, list_tenants


def _api(client: FlaskClient, demo: DemoLogin, path: str = "/records/deal", method: str = "get", **kw):
    return getattr(client, method)(f"/t/{demo.tenant}/api/v1{path}",
                                   headers={"Authorization": f"Bearer {demo.token}"}, **kw)


def _sign_in(client: FlaskClient, demo: DemoLogin) -> None:
    page = client.get(f"/t/{demo.tenant}/login")
    token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)[1])
    response = client.post(f"/t/{demo.tenant}/login",
                           data={"email": demo.email, "password": demo.password, "csrf_token": token})
    assert response.status_code == 302


def test_suspended_tenant_says_so_and_resumes(platform: Platform, demo: DemoLogin, client: FlaskClient) -> None:
    _sign_in(client, demo)
    assert _api(client, demo).status_code == 200
    lifecycle.set_status(platform, demo.tenant, "suspended")

    api = _api(client, demo)
    assert api.status_code == 403 and api.mimetype == "application/problem+json"
    assert "suspended" in api.json["detail"] and api.json["type"].endswith("/tenant-suspended")
    write = _api(client, demo, method="post", json={"name": "x"})
    assert write.status_code == 403
    screen = client.get(f"/t/{demo.tenant}/records/deal/")
    assert screen.status_code == 403 and "suspended" in screen.text
    assert demo.tenant not in client.get("/").text  # the index lists only served tenants
    unknown = client.get(f"/t/no-such-{uuid.uuid4().hex[:6]}/")
    assert unknown.status_code == 404 and "suspended" not in unknown.text

    lifecycle.set_status(platform, demo.tenant, "active")
    assert _api(client, demo).status_code == 200
    assert client.get(f"/t/{demo.tenant}/records/deal/").status_code == 200  # the session survived


def test_archived_tenant_answers_like_an_unknown_one(platform: Platform, demo: DemoLogin,
                                                     client: FlaskClient) -> None:
    unknown = f"/t/nope-{uuid.uuid4().hex[:6]}"
    lifecycle.set_status(platform, demo.tenant, "archived")
    assert _api(client, demo).status_code == 401
    assert client.get(f"{unknown}/api/v1/records/deal",
                      headers={"Authorization": f"Bearer {demo.token}"}).json["detail"] == _api(
        client, demo).json["detail"]
    assert client.get(f"/t/{demo.tenant}/").status_code == client.get(f"{unknown}/").status_code == 404
    with pytest.raises(NotFound):
        platform.runtime(demo.tenant)
    assert find_tenant(platform, demo.tenant).status == "archived"  # kept for the operator


def test_rename_changes_the_name_people_see(platform: Platform, demo: DemoLogin, client: FlaskClient) -> None:
    _sign_in(client, demo)
    lifecycle.rename(platform, demo.tenant, "Acme Sales 雪")
    assert find_tenant(platform, demo.tenant).name == "Acme Sales 雪"
    assert "Acme Sales 雪" in client.get("/").text


def test_delete_keeps_a_final_backup_that_restores(platform: Platform, demo: DemoLogin) -> None:
    path = lifecycle.delete(platform, demo.tenant)
    assert path is not None and path.parent == Path(platform.settings.data_dir) / "backups"
    assert demo.tenant not in [t.slug for t in list_tenants(platform)]
    with zipfile.ZipFile(path) as archive:
        assert "records/deal.jsonl" in archive.namelist()
    copy = restore_tenant(platform, path, f"back-{uuid.uuid4().hex[:8]}")
    assert len(platform.records(platform.runtime(copy.slug), _actor()).list("deal").records) > 0


def test_delete_is_all_or_nothing(platform: Platform, demo: DemoLogin, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kw):
        raise OSError("disk full")

    monkeypatch.setattr(lifecycle, "backup_tenant", broken)
    with pytest.raises(OSError):
        lifecycle.delete(platform, demo.tenant)
    assert platform.runtime(demo.tenant).objects  # still there, whole

    monkeypatch.setattr(platform.stores, "drop", broken)
    with pytest.raises(OSError):
        lifecycle.delete(platform, demo.tenant, backup=False)
    assert find_tenant(platform, demo.tenant).status == "active"
    assert platform.records(platform.runtime(demo.tenant), _actor()).list("deal").records


def test_cli_lifecycle(platform: Platform, demo: DemoLogin, cli: CliRunner) -> None:
    def run(*args: str, code: int = 0) -> str:
        result = cli.invoke(trellis_cli, ["tenants", *args])
        assert result.exit_code == code, result.output
        return result.output

    assert "Renamed" in run("rename", demo.tenant, "Renamed Co")
    assert "suspended" in run("suspend", demo.tenant)
    assert f"{demo.tenant}\tsuspended\t" in run("list")
    assert "archived" in run("archive", demo.tenant)
    assert "resumed" in run("resume", demo.tenant)
    assert "Error: There is no such tenant. slug: No tenant is named 'zz-none'" in run("suspend", "zz-none", code=1)
    out = run("delete", demo.tenant, "--no-backup", "--yes")
    assert "Final backup" not in out and demo.tenant not in run("list")


def _actor() -> Actor:
    return Actor(user_id=None)


def test_delete_from_cli_writes_backup(platform: Platform, cli: CliRunner) -> None:
    slug = install_demo(platform, slug=f"del-{uuid.uuid4().hex[:8]}").tenant
    result = cli.invoke(trellis_cli, ["tenants", "delete", slug, "--yes"])
    assert result.exit_code == 0, result.output
    assert Path(result.output.split("Final backup: ")[1].strip()).is_file()


def test_a_single_database_has_nowhere_to_move_to(platform: Platform, tenant: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        move_tenant(platform, tenant, "main")
    assert [p.field for p in refused.value.problems] == ["database"]


def test_another_process_stops_serving_a_suspended_tenant_at_once(platform: Platform, demo: DemoLogin) -> None:
    """A second Platform plays another app server: it has the tenant cached and must not keep serving it."""
    second = Platform(platform.settings)
    try:
        other = create_app(platform=second).test_client()
        assert _api(other, demo).status_code == 200
        lifecycle.set_status(platform, demo.tenant, "suspended")
        assert _api(other, demo).status_code == 403
        lifecycle.set_status(platform, demo.tenant, "active")
        assert _api(other, demo).status_code == 200
    finally:
        second.dispose()
