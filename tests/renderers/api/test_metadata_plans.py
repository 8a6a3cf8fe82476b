"""Migration plans through the metadata API: dry runs, refusals with their impact, safe conversions.

A refused change answers with a problem document that carries the plan and the
offending values, and the tenant's schema and data are exactly as before.
"""

from __future__ import annotations


def _snapshot(client, api, auth) -> tuple:
    meta = client.get(f"{api}/metadata/objects/account", headers=auth).get_json()
    rows = client.get(f"{api}/records/account?sort=id&limit=500", headers=auth).get_json()["data"]
    return meta, rows


def _accounts_with_employees(client, api, auth, values: list[str]) -> None:
    added = client.post(f"{api}/metadata/objects/account/fields", headers=auth,
                        json={"api_name": "headcount", "label": "Headcount", "type": "text"})
    assert added.status_code == 201, added.get_json()
    for index, value in enumerate(values):
        created = client.post(f"{api}/records/account", headers=auth,
                              json={"name": f"Company {index}", "headcount": value})
        assert created.status_code == 201, created.get_json()


def test_a_dry_run_shows_the_plan_and_changes_nothing(client, api, auth):
    _accounts_with_employees(client, api, auth, ["120", "about 40", "7"])
    before = _snapshot(client, api, auth)
    answer = client.patch(f"{api}/metadata/objects/account/fields/headcount?dry_run=true", headers=auth,
                          json={"type": "integer"})
    assert answer.status_code == 200, answer.get_json()
    plan = answer.get_json()["data"]
    assert plan["safe"] is False
    [step] = plan["steps"]
    assert step["op"] == "convert_field" and [s["value"] for s in step["samples"]] == ["about 40"]
    assert _snapshot(client, api, auth) == before


def test_a_refused_change_is_a_problem_with_the_impact_and_nothing_half_applied(client, api, auth, problem_fields):
    _accounts_with_employees(client, api, auth, ["120", "about 40"])
    before = _snapshot(client, api, auth)
    refused = client.patch(f"{api}/metadata/objects/account/fields/headcount", headers=auth, json={"type": "integer"})
    assert refused.status_code == 409
    assert problem_fields(refused) == ["type"]
    body = refused.get_json()
    assert "cannot become an integer" in body["detail"] and "about 40" in body["detail"]
    assert body["plan"]["steps"][0]["samples"][0]["value"] == "about 40"
    assert _snapshot(client, api, auth) == before


def test_the_admin_makes_it_safe_and_the_originals_stay_archived(client, api, auth):
    _accounts_with_employees(client, api, auth, ["120", "about 40"])
    changed = client.patch(f"{api}/metadata/objects/account/fields/headcount", headers=auth,
                           json={"type": "integer", "migration": {"keep_unconvertible": True}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["data"]["type"] == "integer"
    assert changed.get_json()["plan"]["safe"] is True
    rows = client.get(f"{api}/records/account?headcount__gte=100", headers=auth).get_json()["data"]
    assert [r["headcount"] for r in rows] == [120]
    archived = client.get(f"{api}/metadata/objects/account/archived-fields", headers=auth).get_json()["data"]
    assert [(a["field"]["api_name"], a["field"]["type"]) for a in archived] == [("headcount", "text")]


def test_bad_migration_options_name_the_path(client, api, auth, problem_fields):
    answer = client.patch(f"{api}/metadata/objects/account/fields/name", headers=auth,
                          json={"required": True, "migration": {"fil": 1}})
    assert answer.status_code == 422 and problem_fields(answer) == ["$.migration"]
    answer = client.patch(f"{api}/metadata/objects/account/fields/name?dry_run=maybe", headers=auth,
                          json={"label": "Name"})
    assert answer.status_code == 422 and problem_fields(answer) == ["dry_run"]


def test_revisions_can_be_read_compared_and_rolled_back(client, api, auth, problem_fields):
    log = client.get(f"{api}/metadata/revisions", headers=auth).get_json()
    start = log["revision"]
    _accounts_with_employees(client, api, auth, ["12"])
    one = client.get(f"{api}/metadata/revisions/{start}", headers=auth).get_json()["data"]
    assert one["number"] == start and "headcount" not in str(one["documents"])
    diff = client.get(f"{api}/metadata/revisions/{start}/diff/{start + 1}", headers=auth).get_json()["data"]
    assert diff == [{"op": "add_field", "object": "account", "field": "headcount"}]
    planned = client.post(f"{api}/metadata/revisions/{start}/rollback?dry_run=true", headers=auth).get_json()
    assert [s["op"] for s in planned["data"]["steps"]] == ["archive_field"] and planned["revision"] == start + 1
    rolled = client.post(f"{api}/metadata/revisions/{start}/rollback", headers=auth)
    assert rolled.status_code == 200 and rolled.get_json()["revision"] == start + 2
    archived = client.get(f"{api}/metadata/objects/account/archived-fields", headers=auth).get_json()["data"]
    assert [a["field"]["api_name"] for a in archived] == ["headcount"]
    missing = client.get(f"{api}/metadata/revisions/999", headers=auth)
    assert missing.status_code == 404


def test_deleting_an_object_archives_it_and_restore_brings_its_records_back(client, api, auth, problem_fields):
    deals = client.get(f"{api}/records/deal?limit=500", headers=auth).get_json()["data"]
    refused = client.delete(f"{api}/metadata/objects/account", headers=auth)
    assert refused.status_code == 422 and "contact.account" in refused.get_json()["errors"][0]["message"]
    rolled_up = client.delete(f"{api}/metadata/objects/deal", headers=auth)  # the account's rollups read deals
    assert rolled_up.status_code == 422 and "account.open_pipeline" in rolled_up.get_json()["errors"][0]["message"]
    for rollup in ("open_pipeline", "deal_count"):
        assert client.delete(f"{api}/metadata/objects/account/fields/{rollup}", headers=auth).status_code == 200
    archived = client.delete(f"{api}/metadata/objects/deal", headers=auth)
    assert archived.status_code == 200, archived.get_json()
    assert client.get(f"{api}/records/deal", headers=auth).status_code == 404
    listed = client.get(f"{api}/metadata/archived-objects", headers=auth).get_json()["data"]
    assert [d["api_name"] for d in listed] == ["deal"]
    restored = client.post(f"{api}/metadata/archived-objects/deal/restore", headers=auth)
    assert restored.status_code == 200, restored.get_json()
    assert client.get(f"{api}/records/deal?limit=500", headers=auth).get_json()["data"] == deals
