"""The metadata API: an admin's changes take effect at once, and a refused change leaves no trace."""

from __future__ import annotations

from sqlalchemy import inspect

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant

PROJECT = {
    "api_name": "project",
    "label": {"en": "Project", "fr": "Projet"},
    "fields": [
        {"api_name": "title", "label": "Title", "type": "text", "required": True},
        {"api_name": "budget", "label": "Budget", "type": "currency", "min": 0},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
        {"api_name": "phase", "label": "Phase", "type": "picklist", "default": "plan",
         "values": [{"value": "plan", "label": "Plan"}, {"value": "build", "label": "Build"}]},
    ],
}


def _tables(platform, slug: str) -> set[str]:
    store = platform.runtime(slug).store
    return set(inspect(store.engine).get_table_names(schema=store.schema))


def _revision(client, api, auth) -> int:
    return client.get(f"{api}/metadata/revisions", headers=auth).get_json()["revision"]


def test_a_created_object_takes_records_at_once_and_is_documented(client, platform, demo, api, auth):
    before = _revision(client, api, auth)
    created = client.post(f"{api}/metadata/objects", json=PROJECT, headers=auth)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["revision"] == before + 1
    assert body["data"]["api_name"] == "project" and body["data"]["id"].startswith("obj_")
    assert all(field["id"].startswith("fld_") for field in body["data"]["fields"])
    assert created.headers["Location"].endswith(f"{api}/metadata/objects/project")
    assert "project" in _tables(platform, demo.tenant)

    record = client.post(f"{api}/records/project", json={"title": "Rollout", "budget": 1250.5, "account": 1},
                         headers=auth)
    assert record.status_code == 201, record.get_json()
    assert record.get_json()["phase"] == "plan" and record.get_json()["budget"] == 1250.5

    document = client.get(f"{api}/openapi.json", headers=auth).get_json()
    assert "/records/project" in document["paths"]
    assert document["components"]["schemas"]["project_create"]["required"] == ["title"]


def test_an_invalid_object_is_refused_with_json_paths_and_leaves_no_trace(client, platform, demo, api, auth,
                                                                         problem_fields):
    before, tables = _revision(client, api, auth), _tables(platform, demo.tenant)
    broken = {**PROJECT, "fields": [
        PROJECT["fields"][0],
        {"api_name": "budget", "label": "Budget", "type": "currency", "scale": 30},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "acount"},
        {"api_name": "select", "label": "Select", "type": "text"},
    ]}
    response = client.post(f"{api}/metadata/objects", json=broken, headers=auth)
    assert response.status_code == 422
    assert problem_fields(response) == ["$.fields[1].scale", "$.fields[2].target", "$.fields[3].api_name"]
    assert _revision(client, api, auth) == before
    assert _tables(platform, demo.tenant) == tables
    assert client.get(f"{api}/records/project", headers=auth).status_code == 404


def test_fields_are_added_and_changed_one_by_one(client, api, auth, problem_fields):
    added = client.post(f"{api}/metadata/objects/deal/fields", headers=auth,
                        json={"api_name": "region", "label": "Region", "type": "text", "max_length": 40})
    assert added.status_code == 201, added.get_json()
    assert added.headers["Location"].endswith("/metadata/objects/deal/fields/region")
    deal = client.patch(f"{api}/records/deal/1", json={"region": "EMEA"}, headers=auth)
    assert deal.status_code == 200 and deal.get_json()["region"] == "EMEA"

    relabelled = client.patch(f"{api}/metadata/objects/deal/fields/region", json={"label": "Sales region"},
                              headers=auth)
    assert relabelled.status_code == 200 and relabelled.get_json()["data"]["label"] == "Sales region"
    assert client.get(f"{api}/metadata/objects/deal/fields/region", headers=auth).get_json()["data"]["label"] == (
        "Sales region")

    retyped = client.patch(f"{api}/metadata/objects/deal/fields/region", json={"type": "integer"}, headers=auth)
    assert retyped.status_code == 409 and problem_fields(retyped) == ["type"]  # "EMEA" is not a number
    duplicate = client.post(f"{api}/metadata/objects/deal/fields", json={"api_name": "region", "label": "R",
                                                                         "type": "text"}, headers=auth)
    assert duplicate.status_code == 422 and problem_fields(duplicate) == ["$.api_name"]


def test_object_settings_change_and_the_log_records_every_revision(client, api, auth, problem_fields):
    installed = client.get(f"{api}/metadata/revisions", headers=auth).get_json()["revision"]  # the demo's
    changed = client.patch(f"{api}/metadata/objects/account", json={"description": "Companies we sell to"},
                           headers=auth)
    assert changed.status_code == 200 and changed.get_json()["data"]["description"] == "Companies we sell to"
    fields = client.patch(f"{api}/metadata/objects/account", json={"fields": []}, headers=auth)
    assert fields.status_code == 422 and problem_fields(fields) == ["$.fields"]

    log = client.get(f"{api}/metadata/revisions", headers=auth).get_json()
    assert [entry["number"] for entry in log["data"]] == list(range(installed + 1, 0, -1))
    assert log["revision"] == installed + 1
    assert log["data"][0]["summary"] == "Changed object account" and log["data"][0]["author_id"] is not None
    assert log["data"][0]["created_at"].endswith("+00:00")


def test_reading_metadata(client, shared_api, shared_auth, problem_fields):
    listing = client.get(f"{shared_api}/metadata/objects", headers=shared_auth).get_json()
    assert [doc["api_name"] for doc in listing["data"]] == ["account", "contact", "deal"]
    deal = client.get(f"{shared_api}/metadata/objects/deal", headers=shared_auth).get_json()["data"]
    assert deal["name_field"] == "name"
    for path in ("/metadata/objects/planet", "/metadata/objects/deal/fields/colour",
                 "/metadata/objects/planet/fields"):
        response = client.get(shared_api + path, headers=shared_auth)
        assert response.status_code in (404, 405)
        problem_fields(response)


def test_only_admins_change_the_configuration(client, platform, demo, api):
    with platform.control() as session:
        tenant = find_tenant(session, demo.tenant)
        user = create_user(session, email=f"rep@{demo.tenant}.example", password="sales-rep-password")
        add_membership(session, tenant, user, role="member")
        token, _ = create_token(session, tenant=tenant, user=user, name="rep")
    member = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{api}/metadata/objects", headers=member).status_code == 200
    assert client.post(f"{api}/records/account", json={"name": "Rep's account"}, headers=member).status_code == 201
    refused = client.post(f"{api}/metadata/objects", json=PROJECT, headers=member)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "admin" in refused.get_json()["detail"]
    assert "project" not in _tables(platform, demo.tenant)
