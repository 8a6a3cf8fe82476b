"""The demo deal's rules through the REST API (both backends): a validation rule and the default layout's
required_if are refused with a 422 naming the field and carrying the admin's message; metadata that
would break in the browser is refused with the JSON path and the function's name."""

from __future__ import annotations


def _account(client, api: str, auth: dict) -> int:
    return client.get(f"{api}/records/account", query_string={"limit": 1}, headers=auth).get_json()["data"][0]["id"]


def test_a_validation_rule_is_refused_with_its_field_and_message(client, shared_api, shared_auth, problem_fields):
    response = client.post(f"{shared_api}/records/deal", headers=shared_auth,
                           json={"name": "Free", "account": _account(client, shared_api, shared_auth), "amount": 0})
    assert response.status_code == 422 and problem_fields(response) == ["amount"]
    assert response.get_json()["errors"][0]["message"].startswith("The amount of a deal must be more than zero")


def test_a_lost_deal_needs_a_reason_on_every_door(client, api, auth, problem_fields):
    account = _account(client, api, auth)
    refused = client.post(f"{api}/records/deal", headers=auth,
                          json={"name": "Gone", "account": account, "stage": "lost"})
    assert refused.status_code == 422 and problem_fields(refused) == ["lost_reason"]
    assert refused.get_json()["errors"][0]["message"] == "Lost reason is required here; fill it in."

    deal = client.post(f"{api}/records/deal", headers=auth, json={"name": "Gone", "account": account}).get_json()
    moved = client.patch(f"{api}/records/deal/{deal['id']}", headers=auth, json={"stage": "lost"})
    assert moved.status_code == 422 and problem_fields(moved) == ["lost_reason"]
    assert client.get(f"{api}/records/deal/{deal['id']}", headers=auth).get_json()["stage"] == "prospecting"
    saved = client.patch(f"{api}/records/deal/{deal['id']}", headers=auth,
                         json={"stage": "lost", "lost_reason": "competitor"})
    assert saved.status_code == 200 and saved.get_json()["lost_reason"] == "competitor"


def test_a_form_rule_the_browser_cannot_run_is_refused_by_name(client, api, auth, problem_fields):
    layout = {"name": "bad", "sections": [{"fields": [{"field": "amount", "visible_if": "USER() = 1"}]}]}
    response = client.patch(f"{api}/metadata/objects/deal", headers=auth, json={"layouts": [layout]})
    assert response.status_code == 422
    assert problem_fields(response) == ["$.layouts[0].sections[0].fields[0].visible_if"]
    assert "USER cannot be used in a form rule" in response.get_json()["errors"][0]["message"]
