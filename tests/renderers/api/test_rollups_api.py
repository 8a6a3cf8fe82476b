"""Rollup fields through the REST API (both backends): the demo's account.open_pipeline (sum of open deals'
amounts) and account.deal_count, filtered with ``?open_pipeline__gt=``, ``where=`` and sorted by the
database, right after deals change, typed in OpenAPI, and refused when written."""

from __future__ import annotations

from decimal import Decimal


def _every(client, url: str, auth: dict, **params) -> list[dict]:
    records, cursor = [], None
    while True:
        response = client.get(url, query_string={**params, **({"cursor": cursor} if cursor else {})}, headers=auth)
        assert response.status_code == 200, response.get_json()
        records += response.get_json()["data"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return records


def _expected(client, api: str, auth: dict) -> dict[int, tuple[Decimal, int]]:
    """Each account's open pipeline and deal count, added up here from the deals the API lists."""
    totals: dict[int, tuple[Decimal, int]] = {a["id"]: (Decimal(0), 0)
                                              for a in _every(client, f"{api}/records/account", auth, limit=500)}
    for deal in _every(client, f"{api}/records/deal", auth, limit=500):
        if deal["account"] is None:
            continue
        amount, count = totals[deal["account"]]
        open_amount = Decimal(str(deal["amount"] or 0)) if deal["stage"] not in ("won", "lost") else 0
        totals[deal["account"]] = (amount + open_amount, count + 1)
    return totals


def test_rollups_filter_where_and_sort_through_the_api(client, api, auth):
    expected = _expected(client, api, auth)
    accounts = _every(client, f"{api}/records/account", auth, limit=500)
    assert {a["id"]: (Decimal(str(a["open_pipeline"])), a["deal_count"]) for a in accounts} == expected
    threshold = sorted(total for total, _ in expected.values())[len(expected) // 2]
    over = _every(client, f"{api}/records/account", auth, open_pipeline__gt=str(threshold), limit=3)
    assert {a["id"] for a in over} == {i for i, (total, _) in expected.items() if total > threshold}
    where = _every(client, f"{api}/records/account", auth, where=f"open_pipeline > {threshold} AND deal_count >= 2",
                   limit=500)
    assert {a["id"] for a in where} == {i for i, (total, n) in expected.items() if total > threshold and n >= 2}
    ordered = _every(client, f"{api}/records/account", auth, sort="-open_pipeline", limit=4)
    assert [a["id"] for a in ordered] == sorted(expected, key=lambda i: (expected[i][0], i), reverse=True)


def test_a_rollup_follows_deals_moved_changed_and_deleted(client, api, auth):
    accounts = _every(client, f"{api}/records/account", auth, limit=500)
    first, second = accounts[0]["id"], accounts[1]["id"]
    created = client.post(f"{api}/records/deal", headers=auth, json={
        "name": "Big one", "account": first, "stage": "negotiation", "amount": 123456, "close_date": "2026-12-01"})
    assert created.status_code == 201, created.get_json()
    deal = created.get_json()
    assert _expected(client, api, auth)[first] == _account(client, api, auth, first)
    moved = client.patch(f"{api}/records/deal/{deal['id']}", json={"account": second}, headers=auth)
    assert moved.status_code == 200, moved.get_json()
    assert _expected(client, api, auth)[first] == _account(client, api, auth, first)
    assert _expected(client, api, auth)[second] == _account(client, api, auth, second)
    assert client.delete(f"{api}/records/deal/{deal['id']}", headers=auth).status_code == 204
    assert _expected(client, api, auth)[second] == _account(client, api, auth, second)


def _account(client, api: str, auth: dict, account_id: int) -> tuple[Decimal, int]:
    record = client.get(f"{api}/records/account/{account_id}", headers=auth).get_json()
    return Decimal(str(record["open_pipeline"])), record["deal_count"]


def test_writing_a_rollup_is_refused_by_name(client, shared_api, shared_auth, problem_fields):
    refused = client.patch(f"{shared_api}/records/account/1", json={"deal_count": 3}, headers=shared_auth)
    assert refused.status_code == 422 and problem_fields(refused) == ["deal_count"]
    assert "rollup" in refused.get_json()["errors"][0]["message"]


def test_openapi_types_a_rollup_as_a_read_only_number_with_filters(client, shared_api, shared_auth):
    spec = client.get(f"{shared_api}/openapi.json", headers=shared_auth).get_json()
    properties = spec["components"]["schemas"]["account"]["properties"]
    assert properties["open_pipeline"] == {"type": ["number", "null"], "readOnly": True}
    assert properties["deal_count"] == {"type": ["number", "null"], "readOnly": True}
    assert "open_pipeline" not in spec["components"]["schemas"]["account_create"]["properties"]
    parameters = {p["name"]: p for p in spec["paths"]["/records/account"]["get"]["parameters"]}
    assert parameters["open_pipeline__gt"]["schema"]["type"] == "number"
    assert {"deal_count", "deal_count__lte"} <= set(parameters)


def test_a_bad_rollup_is_refused_with_the_setting_through_the_metadata_api(client, api, auth, problem_fields):
    field = {"api_name": "won_total", "label": "Won", "type": "rollup", "child_object": "deal", "via": "account",
             "function": "sum", "field": "amount", "filter": 'stage = "won'}
    refused = client.post(f"{api}/metadata/objects/account/fields", json=field, headers=auth)
    assert refused.status_code == 422 and problem_fields(refused) == ["$.filter"]
    fixed = client.post(f"{api}/metadata/objects/account/fields", json={**field, "filter": 'stage = "won"'},
                        headers=auth)
    assert fixed.status_code == 201, fixed.get_json()
    won = _every(client, f"{api}/records/account", auth, won_total__gt="0", limit=500)
    assert won and all(a["won_total"] > 0 for a in won)
