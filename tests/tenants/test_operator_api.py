"""The operator API (``/api/v1/tenants``) and the operator flag, as an operator's script would use them.

Both backends: operator tokens only, problem documents naming the field for bad
input, and the lifecycle changes seen by the tenant's own users at once.
"""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from trellis.platform.controlplane.accounts import create_user
from trellis.platform.core import Platform
from trellis.renderers.cli import main as trellis_cli
from trellis.tenants.demo import DemoLogin
from trellis.tenants.registry import create_tenant

BASE = "/api/v1/tenants"


@pytest.fixture(scope="module")
def existing(platform: Platform) -> str:
    """An empty tenant the bad requests aim at (none of them may change it)."""
    return create_tenant(platform, f"ex-{uuid.uuid4().hex[:8]}").slug


@pytest.fixture
def operator(cli: CliRunner) -> dict[str, str]:
    """An operator made and given a token through the CLI, as an installation's admin would."""
    email = f"op-{uuid.uuid4().hex[:8]}@ops.example"
    made = cli.invoke(trellis_cli, ["users", "create", email, "--operator", "--password", "operator-pass-1"])
    assert made.exit_code == 0, made.output
    token = cli.invoke(trellis_cli, ["tokens", "create", email, "--operator"])
    assert token.exit_code == 0, token.output
    return {"Authorization": f"Bearer {token.output.strip()}"}


def test_only_operator_tokens_are_let_in(client: FlaskClient, demo: DemoLogin, operator: dict[str, str]) -> None:
    for headers in ({}, {"Authorization": f"Bearer {demo.token}"}, {"Authorization": "Bearer trlop_guess"}):
        response = client.get(BASE, headers=headers)
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert demo.tenant in [t["slug"] for t in client.get(BASE, headers=operator).json["tenants"]]


def test_operator_flag_granted_and_revoked(platform: Platform, client: FlaskClient, cli: CliRunner) -> None:
    email = f"later-{uuid.uuid4().hex[:8]}@ops.example"
    with platform.control() as session:
        create_user(session, email=email, password="some-password-1")
    refused = cli.invoke(trellis_cli, ["tokens", "create", email, "--operator"])
    assert refused.exit_code == 1 and "is not an operator" in refused.output
    assert cli.invoke(trellis_cli, ["users", "operator", email]).exit_code == 0
    token = cli.invoke(trellis_cli, ["tokens", "create", email, "--operator"]).output.strip()
    assert client.get(BASE, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert cli.invoke(trellis_cli, ["users", "operator", email, "--revoke"]).exit_code == 0
    assert client.get(BASE, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_create_patch_delete(platform: Platform, client: FlaskClient, operator: dict[str, str]) -> None:
    slug = f"op-{uuid.uuid4().hex[:8]}"
    created = client.post(BASE, json={"slug": slug, "name": "Ops Co"}, headers=operator)
    assert created.status_code == 201 and created.headers["Location"].endswith(f"{BASE}/{slug}")
    assert created.json["status"] == "active" and created.json["database"]
    assert client.get(f"{BASE}/{slug}", headers=operator).json["name"] == "Ops Co"

    patched = client.patch(f"{BASE}/{slug}", json={"name": "Renamed", "status": "suspended"}, headers=operator)
    assert patched.status_code == 200 and patched.json | {"name": "Renamed", "status": "suspended"} == patched.json
    resumed = client.patch(f"{BASE}/{slug}", json={"status": "active"}, headers=operator)
    assert resumed.json["status"] == "active"
    assert platform.runtime(slug).tenant.name == "Renamed"

    deleted = client.delete(f"{BASE}/{slug}?backup=false", headers=operator)
    assert deleted.status_code == 200 and deleted.json["backup"] is None
    assert client.get(f"{BASE}/{slug}", headers=operator).status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("post", "", {"slug": "Bad Slug"}, 422, "slug"),
    ("post", "", {"slug": "a" * 57}, 422, "slug"),  # its schema name would pass PostgreSQL's 63 bytes
    ("post", "", {"name": "no slug"}, 422, "slug"),
    ("post", "", {"slug": "ok-slug", "colour": "red"}, 422, "colour"),
    ("post", "", {"slug": "ok-slug", "database": "mars"}, 422, "database"),
    ("post", "", {"slug": 7}, 422, "slug"),
    ("post", "", [1], 422, "$"),
    ("patch", "/{demo}", {"status": "sleeping"}, 422, "status"),
    ("patch", "/{demo}", {"name": ""}, 422, "name"),
    ("patch", "/nobody-here", {"name": "x"}, 404, "slug"),
    ("delete", "/{demo}?backup=maybe", None, 422, "backup"),
])
def test_bad_requests_name_the_field(client: FlaskClient, operator: dict[str, str], existing: str,
                                     method: str, path: str, body: object, status: int, field: str) -> None:
    response = getattr(client, method)(BASE + path.format(demo=existing), json=body, headers=operator)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.json["errors"]], response.json


def test_duplicate_slug_is_a_conflict(client: FlaskClient, operator: dict[str, str], existing: str) -> None:
    response = client.post(BASE, json={"slug": existing}, headers=operator)
    assert response.status_code == 409 and response.json["errors"][0]["field"] == "slug"


def test_a_refused_patch_changes_nothing(client: FlaskClient, operator: dict[str, str], existing: str) -> None:
    before = client.get(f"{BASE}/{existing}", headers=operator).json
    refused = client.patch(f"{BASE}/{existing}", json={"name": "New name", "status": "sleeping"}, headers=operator)
    assert refused.status_code == 422 and [e["field"] for e in refused.json["errors"]] == ["status"]
    assert client.get(f"{BASE}/{existing}", headers=operator).json == before
