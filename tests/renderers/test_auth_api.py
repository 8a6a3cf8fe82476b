"""API tokens and the audit log through the API: create, list, revoke (401 at once), who may read the log."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.renderers.app import create_app
from trellis.tenants.demo import DemoLogin


@pytest.fixture(scope="module")
def client(platform: Platform) -> FlaskClient:
    app: Flask = create_app(platform=platform)
    return app.test_client()


def member_token(platform: Platform, slug: str) -> str:
    """A token of a new non-admin member of ``slug``."""
    with platform.control() as session:
        user = create_user(session, email=f"m-{uuid.uuid4().hex[:8]}@example.com", password="member-pass-1")
        tenant = find_tenant(session, slug)
        add_membership(session, tenant, user, role="member")
        token, _ = create_token(session, tenant=tenant, user=user, name="member")
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_created_token_is_shown_once_listed_used_and_revoked_at_once(client, demo: DemoLogin):
    api = f"/t/{demo.tenant}/api/v1"
    created = client.post(f"{api}/tokens", json={"name": "sync"}, headers=bearer(demo.token))
    assert created.status_code == 201
    token = created.get_json()["data"]
    assert token["token"].startswith(token["prefix"]) and token["last_used_at"] is None

    assert client.get(f"{api}/records/account?limit=1", headers=bearer(token["token"])).status_code == 200
    listed = {t["id"]: t for t in client.get(f"{api}/tokens", headers=bearer(demo.token)).get_json()["data"]}
    assert "token" not in listed[token["id"]]
    assert listed[token["id"]]["name"] == "sync" and listed[token["id"]]["last_used_at"] is not None

    revoked = client.delete(f"{api}/tokens/{token['id']}", headers=bearer(token["token"]))
    assert revoked.status_code == 200 and revoked.get_json()["data"]["revoked_at"]
    again = client.get(f"{api}/records/account?limit=1", headers=bearer(token["token"]))
    assert again.status_code == 401


def test_members_see_and_revoke_only_their_own_tokens(client, platform, demo: DemoLogin):
    api = f"/t/{demo.tenant}/api/v1"
    member = member_token(platform, demo.tenant)
    mine = client.get(f"{api}/tokens", headers=bearer(member)).get_json()["data"]
    assert [t["name"] for t in mine] == ["member"]
    admins = client.get(f"{api}/tokens", headers=bearer(demo.token)).get_json()["data"]
    admin_token = next(t for t in admins if t["name"] != "member")
    refused = client.delete(f"{api}/tokens/{admin_token['id']}", headers=bearer(member))
    assert refused.status_code == 404
    assert client.get(f"{api}/records/account?limit=1", headers=bearer(demo.token)).status_code == 200
    # An admin may revoke a member's token.
    assert client.delete(f"{api}/tokens/{mine[0]['id']}", headers=bearer(demo.token)).status_code == 200
    assert client.get(f"{api}/tokens", headers=bearer(member)).status_code == 401


def test_a_token_needs_a_name(client, demo: DemoLogin):
    response = client.post(f"/t/{demo.tenant}/api/v1/tokens", json={"name": " "}, headers=bearer(demo.token))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["name"]


def test_audit_log_records_token_use_revocation_and_metadata_changes_for_admins_only(client, platform, demo):
    api = f"/t/{demo.tenant}/api/v1"
    admin = bearer(demo.token)
    field = {"api_name": "nickname", "label": "Nickname", "type": "text", "max_length": 40}
    dry = client.post(f"{api}/metadata/objects/account/fields?dry_run=true", json=field, headers=admin)
    assert dry.status_code == 200
    added = client.post(f"{api}/metadata/objects/account/fields", json=field, headers=admin)
    assert added.status_code == 201, added.text
    spare = client.post(f"{api}/tokens", json={"name": "spare"}, headers=admin).get_json()["data"]
    client.delete(f"{api}/tokens/{spare['id']}", headers=admin)

    log = client.get(f"{api}/audit", headers=admin).get_json()
    actions = [entry["action"] for entry in log["data"]]
    assert {"token_used", "token_created", "token_revoked", "metadata_changed"} <= set(actions)
    changes = client.get(f"{api}/audit?action=metadata_changed", headers=admin).get_json()["data"]
    assert len(changes) == 1  # the dry run changed nothing and is not logged
    assert changes[0]["target"] == "metadata/objects/account/fields"
    assert changes[0]["details"]["revision"] == added.get_json()["revision"]
    assert changes[0]["actor"] == demo.email

    page = client.get(f"{api}/audit?limit=1&offset=1", headers=admin).get_json()
    assert len(page["data"]) == 1 and page["total"] == len(actions) and page["data"][0] == log["data"][1]
    bad = client.get(f"{api}/audit?action=nope", headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "action"
    assert client.get(f"{api}/audit", headers=bearer(member_token(platform, demo.tenant))).status_code == 403


def test_the_openapi_document_describes_tokens_and_the_audit_log(client, demo: DemoLogin):
    paths = client.get(f"/t/{demo.tenant}/api/v1/openapi.json", headers=bearer(demo.token)).get_json()["paths"]
    assert {"get", "post"} <= set(paths["/tokens"]) and "delete" in paths["/tokens/{token_id}"]
    assert {p["name"] for p in paths["/audit"]["get"]["parameters"]} == {"action", "limit", "offset"}
    assert "403" in paths["/audit"]["get"]["responses"]  # only admins read the log
