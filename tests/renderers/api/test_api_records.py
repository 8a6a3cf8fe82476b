"""Records through the REST API as an integration sees them: CRUD, lists, validation, concurrency."""

from __future__ import annotations

import pytest


def test_create_read_update_delete_with_a_lookup(client, api, auth):
    account = client.post(f"{api}/records/account", json={"name": "Northwind", "industry": "retail"},
                          headers=auth)
    assert account.status_code == 201
    account_id = account.get_json()["id"]
    assert account.headers["Location"].endswith(f"{api}/records/account/{account_id}")

    created = client.post(f"{api}/records/contact", headers=auth,
                          json={"full_name": "Nancy Davolio", "account": account_id, "email": "nancy@northwind.test"})
    assert created.status_code == 201, created.get_json()
    contact = created.get_json()
    assert contact["account"] == account_id and contact["do_not_call"] is False  # the default applied
    assert contact["version"] == 1 and created.headers["ETag"] == '"1"'

    location = created.headers["Location"]
    read = client.get(location, headers=auth)
    assert read.status_code == 200 and read.get_json() == contact

    changed = client.patch(location, json={"phone": "+1 206 555 0101"}, headers={**auth, "If-Match": '"1"'})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["phone"] == "+1 206 555 0101" and changed.get_json()["full_name"] == "Nancy Davolio"
    assert changed.headers["ETag"] == '"2"'

    assert client.delete(location, headers={**auth, "If-Match": '"2"'}).status_code == 204
    assert client.get(location, headers=auth).status_code == 404


def test_a_lookup_to_a_missing_record_is_refused_naming_the_field(client, shared_api, shared_auth, problem_fields):
    response = client.post(f"{shared_api}/records/contact", json={"full_name": "Ghost", "account": 999999},
                           headers=shared_auth)
    assert response.status_code == 422
    assert problem_fields(response) == ["account"]


@pytest.mark.parametrize(("values", "field"), [
    ({"name": "Big", "account": 1, "amount": "abc"}, "amount"),
    ({"name": "Big", "account": 1, "amount": 10.555}, "amount"),
    ({"name": "Big", "account": 1, "stage": "sleeping"}, "stage"),
    ({"account": 1}, "name"),
    ({"name": "Big", "account": 1, "probability": 2.5e300}, "probability"),
    ({"name": "Big", "account": 1, "colour": "red"}, "colour"),
    ({"name": "Big", "account": 1, "owner": 2**64}, "owner"),
    ({"name": "Big\u0000Bang", "account": 1}, "name"),
    ({"name": "Big", "account": 1, "tags": "strategic"}, "tags"),
    ({"name": "Big", "account": 1, "close_date": "31/12/2025"}, "close_date"),
])
def test_bad_values_are_refused_naming_the_field(client, shared_api, shared_auth, problem_fields, values, field):
    response = client.post(f"{shared_api}/records/deal", json=values, headers=shared_auth)
    assert response.status_code == 422
    assert field in problem_fields(response)
    assert client.get(f"{shared_api}/records/deal?name=Big", headers=shared_auth).get_json()["data"] == []


@pytest.mark.parametrize("value", [0, 1, "yes", "true", "on"])
def test_a_boolean_takes_only_true_or_false(client, shared_api, shared_auth, problem_fields, value):
    response = client.post(f"{shared_api}/records/contact", json={"full_name": "Bo", "do_not_call": value},
                           headers=shared_auth)
    assert response.status_code == 422 and problem_fields(response) == ["do_not_call"]


def test_a_body_that_is_not_a_json_object_names_the_document(client, shared_api, shared_auth, problem_fields):
    url = f"{shared_api}/records/account"
    not_object = client.post(url, json=["name", "Acme"], headers=shared_auth)
    assert not_object.status_code == 422 and problem_fields(not_object) == ["$"]
    broken = client.post(url, data="{name: Acme", headers={**shared_auth, "Content-Type": "application/json"})
    assert broken.status_code == 400 and problem_fields(broken) == ["$"]
    form = client.post(url, data={"name": "Acme"}, headers=shared_auth)
    assert form.status_code == 415 and form.mimetype == "application/problem+json"


def test_a_stale_version_is_a_conflict_not_a_lost_update(client, api, auth, problem_fields):
    url = client.post(f"{api}/records/account", json={"name": "Contoso"}, headers=auth).headers["Location"]
    assert client.patch(url, json={"employees": 10, "version": 1}, headers=auth).status_code == 200

    stale_body = client.patch(url, json={"employees": 20, "version": 1}, headers=auth)
    assert stale_body.status_code == 409 and problem_fields(stale_body) == ["version"]
    stale_header = client.patch(url, json={"employees": 20}, headers={**auth, "If-Match": '"1"'})
    assert stale_header.status_code == 412 and problem_fields(stale_header) == ["If-Match"]
    stale_delete = client.delete(url, headers={**auth, "If-Match": '"1"'})
    assert stale_delete.status_code == 412

    record = client.get(url, headers=auth).get_json()
    assert record["employees"] == 10 and record["version"] == 2
    for malformed in ("yesterday", '"two"', '"2", "3"'):
        response = client.patch(url, json={}, headers={**auth, "If-Match": malformed})
        assert response.status_code == 400 and problem_fields(response) == ["If-Match"]
    assert client.patch(url, json={}, headers={**auth, "If-Match": 'W/"2"'}).status_code == 200


def test_a_value_that_must_be_unique_is_a_conflict(client, api, auth, problem_fields):
    assert client.post(f"{api}/records/account", json={"name": "Fabrikam"}, headers=auth).status_code == 201
    again = client.post(f"{api}/records/account", json={"name": "Fabrikam"}, headers=auth)
    assert again.status_code == 409 and problem_fields(again) == ["name"]


def test_filters_sort_and_cursor_paging(client, shared_api, shared_auth):
    url = f"{shared_api}/records/deal"
    everything = client.get(f"{url}?limit=500&total=true", headers=shared_auth).get_json()
    assert everything["total"] == len(everything["data"]) == 24 and everything["next_cursor"] is None

    big = [d for d in everything["data"] if d["amount"] >= 100000 and d["stage"] in ("won", "lost")]
    expected = sorted(big, key=lambda d: (-d["amount"], d["id"]))
    seen, cursor = [], None
    while True:
        query = f"{url}?amount__gte=100000&stage__in=won,lost&sort=-amount&limit=2&total=true"
        page = client.get(query + (f"&cursor={cursor}" if cursor else ""), headers=shared_auth).get_json()
        assert page["total"] == len(expected)
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [d["id"] for d in seen] == [d["id"] for d in expected]

    first = everything["data"][0]
    by_name = client.get(f"{url}?name={first['name']}", headers=shared_auth).get_json()["data"]
    assert first["id"] in [d["id"] for d in by_name] and all(d["name"] == first["name"] for d in by_name)
    searched = client.get(f"{url}?q={first['name'][:4].upper()}", headers=shared_auth).get_json()["data"]
    assert first["id"] in [d["id"] for d in searched]
    no_description = client.get(f"{url}?description__blank=true&limit=1&total=true", headers=shared_auth).get_json()
    assert no_description["total"] == 24


@pytest.mark.parametrize(("query", "field"), [
    ("colour=red", "colour"),
    ("amount__near=5", "amount__near"),
    ("amount__contains=5", "amount"),
    ("amount__gt=lots", "amount"),
    ("sort=-colour", "sort"),
    ("sort=description", "sort"),
    ("limit=0", "limit"),
    ("limit=ten", "limit"),
    ("total=maybe", "total"),
    ("cursor=not-a-cursor", "cursor"),
    ("id=99999999999999999999", "id"),
    ("version__gt=3000000000", "version"),
    ("q=a%00b", "q"),
    ("created_at__in=", "created_at"),
    ("stage__in=won,,lost", "stage"),
])
def test_unusable_list_parameters_are_refused_naming_them(client, shared_api, shared_auth, problem_fields,
                                                          query, field):
    response = client.get(f"{shared_api}/records/deal?{query}", headers=shared_auth)
    assert response.status_code == 422
    assert problem_fields(response) == [field]


@pytest.mark.parametrize("path", [
    "/records/planet", "/records/planet/1", "/records/deal/999999",
    "/records/deal/99999999999999999999", "/records/deal/-1", "/records/deal/abc",
])
def test_what_does_not_exist_is_a_404_problem(client, shared_api, shared_auth, problem_fields, path):
    response = client.get(shared_api + path, headers=shared_auth)
    assert response.status_code == 404
    problem_fields(response)


def test_an_unknown_object_is_404_whatever_the_body(client, shared_api, shared_auth, problem_fields):
    response = client.post(f"{shared_api}/records/planet", data="not json", headers=shared_auth)
    assert response.status_code == 404
    problem_fields(response)
