"""``GET /records/<object>/<id>/history``: tracked fields' changes through the API, newest first and paged."""

from __future__ import annotations

from trellis.platform.records.service import RecordService


def _track(client, api: str, auth: dict[str, str], *fields: str) -> None:
    for name in fields:
        response = client.patch(f"{api}/metadata/objects/deal/fields/{name}", json={"tracked": True}, headers=auth)
        assert response.status_code == 200, response.get_json()


def _a_deal(client, api: str, auth: dict[str, str]) -> dict:
    account = client.get(f"{api}/records/account?limit=1", headers=auth).get_json()["data"][0]["id"]
    created = client.post(f"{api}/records/deal", json={"name": "Tracked", "account": account, "amount": 10},
                          headers=auth)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_changes_of_tracked_fields_are_listed_newest_first_with_who(client, api, auth, demo) -> None:
    _track(client, api, auth, "amount", "close_date")
    deal = _a_deal(client, api, auth)
    for amount in (20, 30, 40):
        client.patch(f"{api}/records/deal/{deal['id']}", json={"amount": amount, "description": "not tracked"},
                     headers=auth)
    client.patch(f"{api}/records/deal/{deal['id']}", json={"close_date": "2026-12-31"}, headers=auth)
    first = client.get(f"{api}/records/deal/{deal['id']}/history?limit=3", headers=auth)
    assert first.status_code == 200
    body = first.get_json()
    assert [(e["field"], e["old"], e["new"]) for e in body["data"]] == [
        ("close_date", None, "2026-12-31"), ("amount", "30", "40"), ("amount", "20", "30")]
    assert body["data"][0]["changed_by_name"] and body["data"][0]["changed_by"]
    rest = client.get(f"{api}/records/deal/{deal['id']}/history?before={body['next_before']}", headers=auth)
    assert [(e["old"], e["new"]) for e in rest.get_json()["data"]] == [("10", "20"), (None, "10")]
    assert rest.get_json()["next_before"] is None


def test_hidden_fields_history_is_absent(client, api, auth, monkeypatch) -> None:
    _track(client, api, auth, "amount", "stage")
    deal = _a_deal(client, api, auth)
    monkeypatch.setattr(RecordService, "readable_fields",
                        lambda self, name: [f.api_name for f in self.runtime.object(name).fields
                                            if f.api_name != "amount"])
    entries = client.get(f"{api}/records/deal/{deal['id']}/history", headers=auth).get_json()["data"]
    assert {entry["field"] for entry in entries} == {"stage"}


def test_history_problems(client, shared_api, shared_auth, problem_fields) -> None:
    assert client.get(f"{shared_api}/records/deal/999999999/history", headers=shared_auth).status_code == 404
    assert client.get(f"{shared_api}/records/planet/1/history", headers=shared_auth).status_code == 404
    assert client.get(f"{shared_api}/records/deal/99999999999999999999/history",
                      headers=shared_auth).status_code == 404
    bad = client.get(f"{shared_api}/records/deal/1/history?limit=abc", headers=shared_auth)
    assert bad.status_code == 422 and problem_fields(bad) == ["limit"]


def test_tracking_a_formula_is_refused_with_its_path(client, api, auth, problem_fields) -> None:
    field = {"api_name": "double", "label": "Double", "type": "formula", "expression": "amount * 2", "tracked": True}
    response = client.post(f"{api}/metadata/objects/deal/fields", json=field, headers=auth)
    assert response.status_code == 422
    assert any("tracked" in name for name in problem_fields(response))
