"""Renaming, archiving, restoring and purging fields through the metadata API (admins only).

An archived field disappears from the records API and the OpenAPI document at
once, and comes back with every value when restored.
"""

from __future__ import annotations

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant


def _contact(client, api, auth) -> dict:
    account = client.post(f"{api}/records/account", json={"name": "Northwind"}, headers=auth).get_json()
    created = client.post(f"{api}/records/contact", headers=auth, json={
        "full_name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0000",
        "account": account["id"]})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _contact_schema(client, api, auth) -> dict:
    spec = client.get(f"{api}/openapi.json", headers=auth).get_json()
    schemas = {name: schema for name, schema in spec["components"]["schemas"].items() if "contact" in name.lower()}
    assert any("phone" in schema.get("properties", {}) for schema in schemas.values())
    return schemas


def test_a_rename_shows_the_values_under_the_new_name(client, api, auth):
    contact = _contact(client, api, auth)
    renamed = client.patch(f"{api}/metadata/objects/contact/fields/phone", json={"api_name": "mobile"},
                           headers=auth)
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["data"]["api_name"] == "mobile"
    record = client.get(f"{api}/records/contact/{contact['id']}", headers=auth).get_json()
    assert record["mobile"] == contact["phone"] and "phone" not in record


def test_archive_hides_the_field_and_restore_brings_back_its_values(client, api, auth, problem_fields):
    contact = _contact(client, api, auth)
    archived = client.delete(f"{api}/metadata/objects/contact/fields/email", headers=auth)
    assert archived.status_code == 200, archived.get_json()
    assert "email" not in [f["api_name"] for f in archived.get_json()["data"]["fields"]]
    assert "email" not in client.get(f"{api}/records/contact/{contact['id']}", headers=auth).get_json()
    assert all("email" not in r for r in client.get(f"{api}/records/contact", headers=auth).get_json()["data"])
    refused = client.post(f"{api}/records/contact", json={"full_name": "Grace", "email": "g@example.com"},
                          headers=auth)
    assert refused.status_code == 422 and problem_fields(refused) == ["email"]
    assert all("email" not in str(schema.get("properties", {})) for schema in
               _contact_schema(client, api, auth).values())

    listing = client.get(f"{api}/metadata/objects/contact/archived-fields", headers=auth).get_json()["data"]
    [entry] = listing
    assert entry["field"]["api_name"] == "email" and entry["column"].startswith("zz_archived_")
    restored = client.post(f"{api}/metadata/objects/contact/archived-fields/{entry['field']['id']}/restore",
                           headers=auth)
    assert restored.status_code == 200, restored.get_json()
    record = client.get(f"{api}/records/contact/{contact['id']}", headers=auth).get_json()
    assert record["email"] == "ada@example.com"


def test_restore_is_refused_while_the_name_is_taken(client, api, auth, problem_fields):
    client.delete(f"{api}/metadata/objects/contact/fields/phone", headers=auth)
    added = client.post(f"{api}/metadata/objects/contact/fields", headers=auth,
                        json={"api_name": "phone", "label": "Phone", "type": "text"})
    assert added.status_code == 201, added.get_json()
    refused = client.post(f"{api}/metadata/objects/contact/archived-fields/phone/restore", headers=auth)
    assert refused.status_code == 422 and "phone" in refused.get_json()["detail"]
    assert problem_fields(refused) == ["$.field.api_name"]


def test_purge_deletes_the_archived_field_for_good(client, api, auth):
    client.delete(f"{api}/metadata/objects/contact/fields/phone", headers=auth)
    purged = client.delete(f"{api}/metadata/objects/contact/archived-fields/phone", headers=auth)
    assert purged.status_code == 200, purged.get_json()
    assert client.get(f"{api}/metadata/objects/contact/archived-fields", headers=auth).get_json()["data"] == []
    missing = client.post(f"{api}/metadata/objects/contact/archived-fields/phone/restore", headers=auth)
    assert missing.status_code == 404


def test_only_admins_archive_restore_or_purge(client, platform, demo, api, auth):
    with platform.control() as session:
        tenant = find_tenant(session, demo.tenant)
        user = create_user(session, email=f"rep@{demo.tenant}.example", password="sales-rep-password")
        add_membership(session, tenant, user, role="member")
        token, _ = create_token(session, tenant=tenant, user=user, name="rep")
    member = {"Authorization": f"Bearer {token}"}
    one = f"{api}/metadata/objects/contact"
    assert client.delete(f"{one}/fields/phone", headers=member).status_code == 403
    client.delete(f"{one}/fields/phone", headers=auth)
    assert client.get(f"{one}/archived-fields", headers=member).status_code == 200
    assert client.post(f"{one}/archived-fields/phone/restore", headers=member).status_code == 403
    assert client.delete(f"{one}/archived-fields/phone", headers=member).status_code == 403


def test_a_renamed_object_serves_its_records_under_the_new_name(client, api, auth):
    contact = _contact(client, api, auth)
    renamed = client.patch(f"{api}/metadata/objects/account", json={"api_name": "company"}, headers=auth)
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["data"]["api_name"] == "company"
    assert client.get(f"{api}/records/company/{contact['account']}", headers=auth).status_code == 200
    assert client.get(f"{api}/records/account", headers=auth).status_code == 404
    lookup = client.get(f"{api}/metadata/objects/contact/fields/account", headers=auth).get_json()["data"]
    assert lookup["target"] == "company"
