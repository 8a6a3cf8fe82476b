"""Moving a deal through the demo's sales pipeline with the REST API: an ordinary PATCH that obeys the stage
rules, errors that name the missing fields, the stage history, and its OpenAPI (both backends)."""

from __future__ import annotations


def _new_deal(client, api: str, auth: dict, **values) -> dict:
    account = client.get(f"{api}/records/account", query_string={"limit": 1}, headers=auth).get_json()["data"][0]
    response = client.post(f"{api}/records/deal", json={"name": "Pipeline test", "account": account["id"], **values},
                           headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_stage_move_without_its_required_fields_names_them(client, api, auth, problem_fields):
    deal = _new_deal(client, api, auth, amount=None, close_date=None)
    refused = client.patch(f"{api}/records/deal/{deal['id']}", json={"stage": "proposal"}, headers=auth)
    assert refused.status_code == 422
    assert problem_fields(refused) == ["amount", "close_date"]
    assert [e["message"] for e in refused.get_json()["errors"]] == [
        "Amount is required to enter Proposal.", "Close date is required to enter Proposal."]
    assert client.get(f"{api}/records/deal/{deal['id']}", headers=auth).get_json()["stage"] == "prospecting"

    moved = client.patch(f"{api}/records/deal/{deal['id']}", headers={**auth, "If-Match": '"1"'},
                         json={"stage": "proposal", "amount": 12000, "close_date": "2027-02-01"})
    assert moved.status_code == 200 and moved.get_json()["stage"] == "proposal"

    history = client.get(f"{api}/records/deal/{deal['id']}/stage-history", headers=auth)
    assert history.status_code == 200
    entries = history.get_json()["data"]
    assert [(e["field"], e["from"], e["to"]) for e in entries] == [
        ("stage", None, "prospecting"), ("stage", "prospecting", "proposal")]
    assert entries[0]["left_at"] == entries[1]["changed_at"] and entries[1]["left_at"] is None
    assert entries[1]["changed_by"] is not None


def test_creating_into_a_stage_and_closed_deals_follow_the_transitions(client, api, auth, problem_fields):
    refused = client.post(f"{api}/records/deal", headers=auth, json={
        "name": "Straight to proposal", "account": 1, "stage": "proposal", "amount": 10})
    assert refused.status_code == 422 and problem_fields(refused) == ["close_date"]
    deal = _new_deal(client, api, auth, stage="won", amount=10, close_date="2027-01-01")
    lost = client.patch(f"{api}/records/deal/{deal['id']}", json={"stage": "lost"}, headers=auth)
    assert lost.status_code == 422 and problem_fields(lost) == ["stage"]
    assert "can move only to Negotiation" in lost.get_json()["errors"][0]["message"]
    back = client.patch(f"{api}/records/deal/{deal['id']}", json={"stage": "negotiation"}, headers=auth)
    assert back.status_code == 200


def test_stage_history_of_unknown_records_and_objects_without_a_pipeline(client, shared_api, shared_auth):
    assert client.get(f"{shared_api}/records/deal/999999/stage-history", headers=shared_auth).status_code == 404
    assert client.get(f"{shared_api}/records/deal/{2**70}/stage-history", headers=shared_auth).status_code == 404
    assert client.get(f"{shared_api}/records/account/1/stage-history", headers=shared_auth).status_code == 404
    assert client.get(f"{shared_api}/records/nothing/1/stage-history", headers=shared_auth).status_code == 404
    assert client.get(f"{shared_api}/records/deal/1/stage-history").status_code == 401


def test_openapi_documents_the_history_of_objects_with_a_pipeline(client, shared_api, shared_auth):
    document = client.get(f"{shared_api}/openapi.json", headers=shared_auth).get_json()
    assert "/records/deal/{id}/stage-history" in document["paths"]
    assert "/records/account/{id}/stage-history" not in document["paths"]
    operation = document["paths"]["/records/deal/{id}/stage-history"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/stage_history"}
    assert set(document["components"]["schemas"]["stage_history"]["properties"]["data"]["items"]["required"]) == {
        "field", "from", "to", "changed_by", "changed_at", "left_at"}
