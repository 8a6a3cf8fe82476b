"""The template doors an admin uses: the ``trellis templates`` CLI and the /templates API (both backends)."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from html import unescape
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from template_kit import version_1, version_2

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.renderers.cli import main as trellis_cli
from trellis.tenants.demo import DemoLogin
from trellis.tenants.packages.package import write_package


def _api(client: FlaskClient, demo: DemoLogin, path: str, **kw):
    return client.post(f"/t/{demo.tenant}/api/v1{path}", headers={"Authorization": f"Bearer {demo.token}"}, **kw)


def test_cli_validate_install_upgrade_uninstall_export(cli: CliRunner, platform: Platform, tenant: str,
                                                       actor: Actor, tmp_path: Path) -> None:
    broken = version_1()
    broken.objects["deal"]["fields"][1]["target"] = "acount"
    write_package(broken, tmp_path / "broken")
    result = cli.invoke(trellis_cli, ["templates", "validate", str(tmp_path / "broken")])
    assert result.exit_code == 1 and "objects/deal.json $.fields[1].target" in result.output
    assert cli.invoke(trellis_cli, ["templates", "validate", "sales"]).exit_code == 0
    write_package(version_1(), tmp_path / "v1")
    write_package(version_2(), tmp_path / "v2")
    dry = cli.invoke(trellis_cli, ["templates", "install", tenant, str(tmp_path / "v1"), "--dry-run"])
    assert dry.exit_code == 0 and "Dry run" in dry.output and "deal" not in platform.runtime(tenant).documents
    assert cli.invoke(trellis_cli, ["templates", "install", tenant, str(tmp_path / "v1")]).exit_code == 0
    platform.editor(platform.runtime(tenant), actor).update_object("deal", {"label": "Opportunity"})
    refused = cli.invoke(trellis_cli, ["templates", "upgrade", tenant, str(tmp_path / "v2")])
    assert refused.exit_code == 1 and "objects/deal.json:$.label" in refused.output
    done = cli.invoke(trellis_cli, ["templates", "upgrade", tenant, str(tmp_path / "v2"),
                                    "--resolve", "objects/deal.json:$.label=tenant"])
    assert done.exit_code == 0, done.output
    listed = cli.invoke(trellis_cli, ["templates", "list", "--tenant", tenant])
    assert "mini\t1.1.0\tinstalled" in listed.output and "sales" in listed.output
    exported = cli.invoke(trellis_cli, ["templates", "export", tenant, str(tmp_path / "out.zip"), "--name", "mine"])
    assert exported.exit_code == 0 and zipfile.is_zipfile(tmp_path / "out.zip")
    assert cli.invoke(trellis_cli, ["templates", "uninstall", tenant, "mini"]).exit_code == 0
    assert "deal" not in platform.runtime(tenant).documents


def test_api_lists_plans_installs_and_exports(client: FlaskClient, demo: DemoLogin, platform: Platform,
                                              tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {demo.token}"}
    listed = client.get(f"/t/{demo.tenant}/api/v1/templates", headers=headers).get_json()["data"]
    assert "sales" in {t["name"] for t in listed["available"]} and listed["installed"] == []
    clash = _api(client, demo, "/templates/sales/install?dry_run=true")
    assert clash.status_code == 422  # the demo already has account, contact and deal
    assert any(p["field"].startswith("objects/account.json") for p in clash.get_json()["errors"])
    write_package(version_1(), tmp_path / "mini.zip")
    mini = (tmp_path / "mini.zip").read_bytes()
    dry = _api(client, demo, "/templates/package/install?dry_run=true", data=mini, content_type="application/zip")
    assert dry.status_code == 422  # mini's account clashes too: the whole problem list names files and paths
    missing = _api(client, demo, "/templates/nothing/install")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    exported = _api(client, demo, "/templates/export", json={"name": "demo_copy", "objects": ["account"]})
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert names == ["manifest.json", "objects/account.json"]


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _signed_in_admin(platform: Platform, client: FlaskClient, slug: str) -> None:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    with platform.control() as session:
        user = create_user(session, email=email, password="a long password 1", name="Admin")
        add_membership(session, find_tenant(session, slug), user, role="admin")
    page = client.get(f"/t/{slug}/login")
    token = unescape(_CSRF.search(page.text)[1])
    answer = client.post(f"/t/{slug}/login", data={"email": email, "password": "a long password 1",
                                                    "csrf_token": token})
    assert answer.status_code == 302


def test_screen_previews_then_installs(client: FlaskClient, platform: Platform, tenant: str) -> None:
    _signed_in_admin(platform, client, tenant)
    page = client.get(f"/t/{tenant}/templates/")
    assert page.status_code == 200 and 'data-template="sales"' in page.text and "Preview install" in page.text
    preview = client.get(f"/t/{tenant}/templates/?preview=install&name=sales")
    assert "Create the table for deal." in preview.text and "deal" not in platform.runtime(tenant).documents
    token = unescape(_CSRF.search(preview.text)[1])
    done = client.post(f"/t/{tenant}/templates/install/sales", data={"csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200 and "Preview upgrade" in done.text
    assert "deal" in platform.runtime(tenant).documents


def test_api_upgrade_lists_conflicts_then_applies_resolutions(client: FlaskClient, platform: Platform, tenant: str,
                                                              actor: Actor, tmp_path: Path) -> None:
    with platform.control() as session:
        user = create_user(session, email=f"api-{uuid.uuid4().hex[:8]}@example.com", password="a long password 1",
                           name="Admin")
        found = find_tenant(session, tenant)
        add_membership(session, found, user, role="admin")
        token, _ = create_token(session, tenant=found, user=user, name="templates")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/t/{tenant}/api/v1/templates/package"
    write_package(version_1(), tmp_path / "v1.zip")
    write_package(version_2(), tmp_path / "v2.zip")
    made = client.post(f"{url}/install", data=(tmp_path / "v1.zip").read_bytes(), content_type="application/zip",
                       headers=headers)
    assert made.status_code == 201 and made.get_json()["data"]["records"] == {"account": 2, "deal": 2}
    platform.editor(platform.runtime(tenant), actor).update_object("deal", {"label": "Opportunity"})
    v2 = (tmp_path / "v2.zip").read_bytes()
    refused = client.post(f"{url}/upgrade", data=v2, content_type="application/zip", headers=headers)
    assert refused.status_code == 409
    assert [c["key"] for c in refused.get_json()["conflicts"]] == ["objects/deal.json:$.label"]
    # A zip body has no room for JSON: resolutions go in the query string as resolve=<key>=<choice>.
    done = client.post(f"{url}/upgrade?resolve=objects/deal.json:$.label=tenant", data=v2,
                       content_type="application/zip", headers=headers)
    assert done.status_code == 200 and done.get_json()["data"]["version"] == "1.1.0"
    assert platform.runtime(tenant).documents["deal"]["label"] == "Opportunity"
