"""Permissions through the REST API: the role × operation matrix, attacks that must be refused or harmless
(database unchanged), role assignment with its audit entry, and the OpenAPI document each user gets."""

from __future__ import annotations

import pytest
from permission_org import DEALS, EXPECTED, build_org

from trellis.platform.core import Platform

CASES: list[str] = []


@pytest.fixture
def org(platform: Platform, tenant: str):
    return build_org(platform, tenant)


def _h(org, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.tokens[who]}"}


def _base(org) -> str:
    return f"/t/{org.slug}/api/v1"


def test_matrix_reads_through_the_api(client, org) -> None:
    names = {record_id: name for name, record_id in org.deals.items()}
    for who, (reads, _, _, _) in EXPECTED.items():
        for name, record_id in org.deals.items():
            response = client.get(f"{_base(org)}/records/deal/{record_id}", headers=_h(org, who))
            assert response.status_code == (200 if name in reads else 404), (who, name)
            CASES.append(f"api:{who}:read:{name}")
        listed = client.get(f"{_base(org)}/records/deal?limit=100", headers=_h(org, who))
        searched = client.get(f"{_base(org)}/records/deal?q=d_rep", headers=_h(org, who))
        if who == "outsider":
            assert listed.status_code == searched.status_code == 403
        else:
            assert {names[r["id"]] for r in listed.get_json()["data"]} == reads
            assert {names[r["id"]] for r in searched.get_json()["data"]} == {n for n in reads if n.startswith("d_rep")}
        CASES.extend([f"api:{who}:list", f"api:{who}:search"])


@pytest.mark.parametrize("who", list(EXPECTED))
def test_matrix_writes_through_the_api(client, org, who: str) -> None:
    _, edits, creates, deletes = EXPECTED[who]
    reads = EXPECTED[who][0]
    for name, record_id in org.deals.items():
        response = client.patch(f"{_base(org)}/records/deal/{record_id}", json={"region": "NA"},
                                headers=_h(org, who))
        expected = 200 if name in edits else (403 if name in reads or who == "outsider" else 404)
        assert response.status_code == expected, (who, name, response.get_json())
    for name, record_id in org.deals.items():
        response = client.delete(f"{_base(org)}/records/deal/{record_id}", headers=_h(org, who))
        expected = 204 if name in deletes else (403 if who in ("mgr", "outsider") or name in reads else 404)
        assert response.status_code == expected, (who, name)
    created = client.post(f"{_base(org)}/records/deal", json={"name": "via api"}, headers=_h(org, who))
    assert created.status_code == (201 if creates else 403)
    CASES.extend([f"api:{who}:{op}:{n}" for n in DEALS for op in ("edit", "delete")] + [f"api:{who}:create"])


def test_attacks_are_refused_or_harmless(client, org, problem_fields) -> None:
    before = org.snapshot()
    base, rep = _base(org), _h(org, "rep1")
    mine, theirs = org.deals["d_rep1"], org.deals["d_rep2"]
    for forged in (theirs, 999_999, 2**63 + 5, 0):
        assert client.get(f"{base}/records/deal/{forged}", headers=rep).status_code == 404
        assert client.patch(f"{base}/records/deal/{forged}", json={"name": "x"}, headers=rep).status_code == 404
        assert client.delete(f"{base}/records/deal/{forged}", headers=rep).status_code == 404
    hidden = client.patch(f"{base}/records/deal/{mine}", json={"margin": "0"}, headers=rep)
    assert hidden.status_code == 422 and problem_fields(hidden) == ["margin"]
    assert "margin" not in client.get(f"{base}/records/deal/{mine}", headers=rep).get_json()
    owner = client.patch(f"{base}/records/deal/{mine}", json={"owner": org.users["rep2"]}, headers=rep)
    assert owner.status_code == 422 and problem_fields(owner) == ["owner"]
    for query in ('where=region = "US"', "where=hot", "where=margin > 0", "margin__gt=0", "sort=margin",
                  "region=' OR 1=1 --", "q=%' OR '1'='1", "sort=name;DROP TABLE deal", "where=1=1) OR (1=1",
                  'where=owner <> 0 OR region = "EMEA"'):
        response = client.get(f"{base}/records/deal?{query}", headers=rep)
        assert response.status_code in (200, 422), query
        if response.status_code == 200:
            ids = {r["id"] for r in response.get_json()["data"]}
            assert ids <= {mine, org.deals["d_rep2_emea"]}, query
            assert all("margin" not in r for r in response.get_json()["data"])
    for name in ("deal;DROP TABLE deal", "deal' OR '1'='1", "trellis_revisions"):
        assert client.get(f"{base}/records/{name}", headers=rep).status_code == 404
    assert client.put(f"{base}/metadata/roles/rep", json={"api_name": "rep", "label": "x"},
                      headers=rep).status_code == 403
    assert client.put(f"{base}/members/{org.users['rep1']}/roles", json={"roles": ["director"]},
                      headers=rep).status_code == 403
    admin = _h(org, "admin")
    named = client.post(f"{base}/metadata/roles", json={"api_name": "rep; DROP TABLE deal", "label": "x"},
                        headers=admin)
    assert named.status_code == 422 and problem_fields(named) == ["$.api_name"]
    quoted = client.patch(f"{base}/metadata/objects/deal", headers=admin, json={"sharing": {
        "default": "private", "rules": [{"name": "q", "when": "region = \"x' OR 1=1 --\"", "role": "rep",
                                         "access": "read"}]}})
    assert quoted.status_code == 200, quoted.get_json()
    assert {r["id"] for r in client.get(f"{base}/records/deal", headers=rep).get_json()["data"]} == {mine}
    assert org.snapshot() == before


def test_admins_assign_roles_and_the_change_is_audited(client, org, problem_fields) -> None:
    base, admin = _base(org), _h(org, "admin")
    url = f"{base}/members/{org.users['rep1']}/roles"
    assert client.get(url, headers=admin).get_json()["roles"] == ["rep"]
    assert client.get(url, headers=_h(org, "rep1")).status_code == 200  # one's own roles
    bad = client.put(url, json={"roles": ["manger"]}, headers=admin)
    assert bad.status_code == 422 and problem_fields(bad) == ["roles[0]"]
    assert "manager" in bad.get_json()["errors"][0]["message"]
    assert client.put(url, json={"roles": ["manager"]}, headers=admin).get_json()["roles"] == ["manager"]
    assert client.get(f"{base}/records/deal/{org.deals['d_mgr']}", headers=_h(org, "rep1")).status_code == 200
    entries = client.get(f"{base}/audit?action=permissions_changed", headers=admin).get_json()["data"]
    assert entries[0]["details"] == {"before": ["rep"], "after": ["manager"]}
    members = client.get(f"{base}/members", headers=admin).get_json()["data"]
    assert {m["user_id"] for m in members} == set(org.users.values())


def test_each_user_gets_an_openapi_document_without_their_hidden_fields(client, org) -> None:
    base = _base(org)
    rep = client.get(f"{base}/openapi.json", headers=_h(org, "rep1")).get_json()
    admin = client.get(f"{base}/openapi.json", headers=_h(org, "admin")).get_json()
    assert "margin" in admin["components"]["schemas"]["deal"]["properties"]
    assert "margin" not in rep["components"]["schemas"]["deal"]["properties"]
    assert "amount" in rep["components"]["schemas"]["deal"]["properties"]
    assert "amount" not in rep["components"]["schemas"]["deal_update"]["properties"]
    assert "margin" not in str(rep["paths"]["/records/deal"])
    outsider = client.get(f"{base}/openapi.json", headers=_h(org, "outsider")).get_json()
    assert "/records/deal" not in outsider["paths"]


def test_count_of_api_matrix_cases() -> None:
    print(f"\npermission matrix cases (API door): {len(CASES)}")
