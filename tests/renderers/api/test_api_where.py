"""The list parameter ``where=``: an expression filter run by the database, as an integration uses it."""

from __future__ import annotations

from decimal import Decimal

import pytest


def _all(client, url: str, auth: dict, **params) -> list[dict]:
    """Every record of a list, following next_cursor page by page."""
    records, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, query_string=query, headers=auth)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        records += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return records


@pytest.fixture(scope="module")
def deals(client, shared_api, shared_auth) -> list[dict]:
    return _all(client, f"{shared_api}/records/deal", shared_auth, limit=500)


@pytest.fixture(scope="module")
def industries(client, shared_api, shared_auth) -> dict[int, str | None]:
    accounts = _all(client, f"{shared_api}/records/account", shared_auth, limit=500)
    return {a["id"]: a["industry"] for a in accounts}


def _ids(records: list[dict]) -> list[int]:
    return [r["id"] for r in records]


def test_where_filters_by_an_expression(client, shared_api, shared_auth, deals):
    got = _all(client, f"{shared_api}/records/deal", shared_auth, limit=500,
               where='amount > 1000 AND stage IN ("won","lost")')
    expected = [d for d in deals if d["amount"] is not None and Decimal(str(d["amount"])) > 1000
                and d["stage"] in ("won", "lost")]
    assert expected and len(expected) < len(deals)  # the sample data makes this a real filter
    assert _ids(got) == _ids(expected)


def test_where_follows_lookup_paths_and_keywords_in_any_case(client, shared_api, shared_auth, deals, industries):
    got = _all(client, f"{shared_api}/records/deal", shared_auth, limit=500,
               where='account.industry = "retail" or isblank(amount)')
    expected = [d for d in deals if industries[d["account"]] == "retail" or d["amount"] is None]
    assert expected and _ids(got) == _ids(expected)


def test_where_combines_with_filters_sort_total_and_cursor_paging(client, shared_api, shared_auth, deals):
    url = f"{shared_api}/records/deal"
    params = {"where": "NOT ISBLANK(amount) AND amount >= 100", "stage__ne": "lost", "sort": "-amount,name"}
    first = client.get(url, query_string={**params, "limit": 3, "total": "true"}, headers=shared_auth).get_json()
    pages = _all(client, url, shared_auth, limit=3, **params)
    expected = [d for d in deals if d["amount"] is not None and d["amount"] >= 100 and d["stage"] != "lost"]
    expected.sort(key=lambda d: (d["name"], d["id"]))
    expected.sort(key=lambda d: Decimal(str(d["amount"])), reverse=True)
    assert len(expected) > 3  # more than one page
    assert first["total"] == len(expected)
    assert [d["amount"] for d in pages] == [d["amount"] for d in expected]
    assert sorted(_ids(pages)) == sorted(_ids(expected))


def test_where_knows_the_calling_user_and_today(client, shared_api, shared_auth, deals):
    mine = _all(client, f"{shared_api}/records/deal", shared_auth, limit=500, where="owner = USER()")
    assert _ids(mine) == _ids([d for d in deals if d["owner"] is not None])
    old = _all(client, f"{shared_api}/records/deal", shared_auth, limit=500,
               where="DAYS_BETWEEN(created_at, TODAY()) > 3650")
    assert old == []


@pytest.mark.parametrize(("where", "position", "words"), [
    ("amount >", 9, "Expected a value"),
    ('amount > "big"', 10, "convert"),
    ("amont > 5", 1, "Did you mean 'amount'"),
    ("amount + 1", 8, "boolean"),
    ("ISCHANGED(stage)", 1, "validation rules"),
    ('stage = "won" AND (amount > 5', 30, "')'"),
    ("tags = 1", 1, "multi_picklist"),
    ("amount = BLANK", 10, "ISBLANK"),
    ("ABS(" * 40 + "amount" + ")" * 40 + " > 1", 208, "too complex"),
])
def test_a_bad_expression_is_a_422_naming_where_and_the_position(client, shared_api, shared_auth, problem_fields,
                                                                   where, position, words):
    response = client.get(f"{shared_api}/records/deal", query_string={"where": where}, headers=shared_auth)
    assert response.status_code == 422
    assert problem_fields(response) == ["where"]
    message = response.get_json()["errors"][0]["message"]
    assert f"position {position}," in message and words in message, message


def test_text_in_an_expression_is_only_ever_a_value(client, shared_api, shared_auth, deals):
    attack = "name = \"x'; DROP TABLE deal; --\" OR name = 'a\"\" OR 1=1 --'"
    response = client.get(f"{shared_api}/records/deal", query_string={"where": attack}, headers=shared_auth)
    assert response.status_code == 200 and response.get_json()["data"] == []
    assert len(_all(client, f"{shared_api}/records/deal", shared_auth, limit=500)) == len(deals)


def test_the_parameter_is_documented(client, shared_api, shared_auth):
    spec = client.get(f"{shared_api}/openapi.json", headers=shared_auth).get_json()
    parameters = {p["name"]: p for p in spec["paths"]["/records/deal"]["get"]["parameters"]}
    assert parameters["where"]["schema"] == {"type": "string", "maxLength": 4000}
