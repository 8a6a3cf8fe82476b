"""Who may call the API: a Bearer token of a member, for the tenant in the URL, and nobody else."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic YWRtaW46c2VjcmV0", "Bearer trl_not-a-real-token"])
def test_without_a_valid_token_every_route_is_a_401_problem(client, shared_api, problem_fields, header):
    headers = {"Authorization": header} if header is not None else {}
    for method, path in [("get", "/records/deal"), ("post", "/records/deal"),
                         ("get", "/metadata/objects"), ("get", "/openapi.json")]:
        response = getattr(client, method)(shared_api + path, headers=headers, json={})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        problem_fields(response)


def test_a_token_works_only_for_its_own_tenant(client, platform, shared_demo, shared_auth, tenant):
    other = client.get(f"/t/{tenant}/api/v1/metadata/objects", headers=shared_auth)
    missing = client.get("/t/no-such-tenant/api/v1/metadata/objects", headers=shared_auth)
    own = client.get(f"/t/{shared_demo.tenant}/api/v1/metadata/objects", headers=shared_auth)
    assert own.status_code == 200
    # Another tenant and a tenant that does not exist look exactly alike: nothing leaks.
    assert other.status_code == missing.status_code == 401
    assert other.get_json()["detail"] == missing.get_json()["detail"]


def test_the_token_scheme_is_case_insensitive(client, shared_api, shared_demo):
    response = client.get(f"{shared_api}/records/account?limit=1",
                          headers={"Authorization": f"bearer {shared_demo.token}"})
    assert response.status_code == 200


def test_records_are_written_as_the_tokens_user(client, api, auth):
    seeded = client.get(f"{api}/records/account?limit=1", headers=auth).get_json()["data"][0]
    created = client.post(f"{api}/records/account", json={"name": "Tailspin"}, headers=auth).get_json()
    assert seeded["created_by"] is not None
    assert created["created_by"] == created["owner"] == created["updated_by"] == seeded["created_by"]
