"""Formula fields through the REST API, as an integration sees them: added as metadata, computed by the
database, filterable and sortable with cursors, read-only, documented in OpenAPI (both backends)."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

WEIGHTED = {"api_name": "weighted", "label": "Weighted", "type": "formula", "expression": "amount * probability / 100"}
CLIENT = {"api_name": "client", "label": "Client", "type": "formula", "expression": "account.name"}


def _every(client, url: str, auth: dict, **params) -> list[dict]:
    records, cursor = [], None
    while True:
        response = client.get(url, query_string={**params, **({"cursor": cursor} if cursor else {})}, headers=auth)
        assert response.status_code == 200, response.get_json()
        records += response.get_json()["data"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return records


def _expected(deal: dict) -> Decimal | None:
    if deal["amount"] is None or deal["probability"] is None:
        return None
    return Decimal(str(deal["amount"])) * Decimal(str(deal["probability"])) / 100


def _add(client, api: str, auth: dict, *fields: dict) -> None:
    for field in fields:
        response = client.post(f"{api}/metadata/objects/deal/fields", json=field, headers=auth)
        assert response.status_code == 201, response.get_json()


def test_a_formula_is_filtered_sorted_and_paged_by_the_database(client, api, auth):
    _add(client, api, auth, WEIGHTED, CLIENT)
    deals = _every(client, f"{api}/records/deal", auth, limit=500)
    assert deals and all(Decimal(str(d["weighted"])) == _expected(d) for d in deals if d["weighted"] is not None)
    heavy = _every(client, f"{api}/records/deal", auth, weighted__gte="100000", sort="-weighted", limit=7)
    expected = sorted((d for d in deals if (_expected(d) or 0) >= 100000),
                      key=lambda d: (_expected(d), d["id"]), reverse=True)
    assert expected and len(expected) < len(deals)
    assert [d["id"] for d in heavy] == [d["id"] for d in expected]
    where = _every(client, f"{api}/records/deal", auth, where='weighted >= 100000 AND client != ""', limit=500)
    assert {d["id"] for d in where} == {d["id"] for d in expected}
    named = client.get(f"{api}/records/deal/{deals[0]['id']}", headers=auth).get_json()
    account = client.get(f"{api}/records/account/{named['account']}", headers=auth).get_json()
    assert named["client"] == account["name"]


def test_a_formula_follows_its_inputs_and_refuses_writes(client, api, auth, problem_fields):
    _add(client, api, auth, WEIGHTED)
    deal = client.get(f"{api}/records/deal/1", headers=auth).get_json()
    changed = client.patch(f"{api}/records/deal/1", json={"amount": 2000, "probability": 25}, headers=auth)
    assert changed.status_code == 200 and changed.get_json()["weighted"] == 500
    assert client.get(f"{api}/records/deal/1", headers=auth).get_json()["weighted"] == 500
    refused = client.patch(f"{api}/records/deal/1", json={"weighted": 1}, headers=auth)
    assert refused.status_code == 422 and problem_fields(refused) == ["weighted"]
    created = client.post(f"{api}/records/deal", json={"name": "X", "account": deal["account"], "weighted": 3},
                          headers=auth)
    assert created.status_code == 422 and problem_fields(created) == ["weighted"]


def test_bad_formulas_and_cycles_are_refused_with_the_position(client, api, auth, problem_fields):
    typo = client.post(f"{api}/metadata/objects/deal/fields", headers=auth,
                       json={**WEIGHTED, "expression": "amount * probabilty"})
    assert typo.status_code == 422 and problem_fields(typo) == ["$.expression"]
    assert "position 10" in typo.get_json()["errors"][0]["message"]
    _add(client, api, auth, {**WEIGHTED, "expression": "IF(ISBLANK(amount), 0, amount)"},
         {"api_name": "doubled", "label": "Doubled", "type": "formula", "expression": "weighted * 2"})
    cycle = client.patch(f"{api}/metadata/objects/deal/fields/weighted", json={"expression": "doubled / 2"},
                         headers=auth)
    assert cycle.status_code == 422 and problem_fields(cycle) == ["$.expression"]
    assert "weighted → doubled → weighted" in cycle.get_json()["errors"][0]["message"]


def test_openapi_documents_a_formula_as_a_read_only_value_of_its_result_type(client, api, auth):
    _add(client, api, auth, WEIGHTED, {**CLIENT, "result": "text"})
    spec = client.get(f"{api}/openapi.json", headers=auth).get_json()
    properties = spec["components"]["schemas"]["deal"]["properties"]
    assert properties["weighted"] == {"type": ["number", "null"], "readOnly": True}
    assert properties["client"] == {"type": ["string", "null"], "readOnly": True}
    assert "weighted" not in spec["components"]["schemas"]["deal_create"]["properties"]
    parameters = {p["name"] for p in spec["paths"]["/records/deal"]["get"]["parameters"]}
    assert {"weighted__gte", "client"} <= parameters


def test_the_list_screen_shows_and_sorts_by_a_formula_which_no_form_edits(client, api, auth, demo):
    _add(client, api, auth, WEIGHTED)
    base = f"/t/{demo.tenant}"
    login = client.get(f"{base}/login").text
    token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)[1])
    client.post(f"{base}/login", data={"email": demo.email, "password": demo.password, "csrf_token": token})
    page = client.get(f"{base}/records/deal/").text
    column = re.search(r'sort=(\d+)[^"]*"[^>]*>\s*Weighted', page)[1]
    shown = client.get(f"{base}/records/deal/", query_string={"sort": column, "desc": 1}).text
    values = [Decimal(v) for v in re.findall(r'class="col-weighted">\s*([0-9.]+)\s*<', shown)]
    top = _every(client, f"{api}/records/deal", auth, sort="-weighted", limit=500)[:len(values)]
    assert len(values) == 20 and values == [Decimal(str(d["weighted"])) for d in top]
    at_least = re.search(r'"Weighted": \[.*?"index": (\d+), "operation": "at least"', page)[1]
    filtered = client.get(f"{base}/records/deal/", query_string={f"flt0_{at_least}": "100000"}).text
    kept = [Decimal(v) for v in re.findall(r'class="col-weighted">\s*([0-9.]+)\s*<', filtered)]
    assert kept and min(kept) >= 100000
    assert 'name="weighted"' not in client.get(f"{base}/records/deal/new/").text
    assert 'name="weighted"' not in client.get(f"{base}/records/deal/edit/?id=1").text
    assert "Weighted" in client.get(f"{base}/records/deal/details/?id=1").text
