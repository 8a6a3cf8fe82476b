"""The automation doors of the API: a rule saved through the metadata API, its run log and the delivery log."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from trellis.platform.controlplane.tables import OutboxMessage
from trellis.platform.core import Platform

WON = {"name": "tell_finance", "trigger": {"on": "field_changed", "fields": ["stage"]},
       "condition": 'stage = "won"',
       "actions": [{"type": "send_email", "to": '"finance@example.com"', "subject": '"Won: " & name',
                    "body": '"Amount: " & TEXT(amount)'}]}


def _work(platform: Platform, client: FlaskClient, url: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    """The runs once none is waiting (on rq, worked off here; embedded, by the in-process runner)."""
    deadline = time.monotonic() + 30
    while True:
        if platform.settings.redis_url:
            platform.jobs.work(burst=True)
        runs = client.get(url, headers=auth).get_json()["data"]
        if all(run["status"] in ("succeeded", "failed") for run in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(0.05)


def test_a_rule_saved_through_the_api_runs_and_its_run_log_is_served(client: FlaskClient, api: str,
                                                                      auth: dict[str, str],
                                                                      platform: Platform) -> None:
    bad = client.patch(f"{api}/metadata/objects/deal", headers=auth, json={"automations": [
        {**WON, "condition": 'stage = "won" AND amount > "x"'}]})
    assert bad.status_code == 422
    (problem,) = bad.get_json()["errors"]
    assert problem["field"] == "$.automations[0].condition" and "position" in problem["message"]

    assert client.patch(f"{api}/metadata/objects/deal", headers=auth, json={"automations": [WON]}).status_code == 200
    deal = next(d for d in client.get(f"{api}/records/deal", headers=auth).get_json()["data"] if d["stage"] != "won")
    changed = client.patch(f"{api}/records/deal/{deal['id']}", headers={**auth, "If-Match": str(deal["version"])},
                           json={"stage": "won"})
    assert changed.status_code == 200

    url = f"{api}/automations/deal/tell_finance/runs"
    (run,) = _work(platform, client, url, auth)
    assert (run["record_id"], run["trigger"], run["status"], run["depth"]) == (deal["id"], "field_changed",
                                                                               "succeeded", 0)
    with platform.control() as session:
        subjects = list(session.scalars(select(OutboxMessage.subject).where(OutboxMessage.to == "finance@example.com")))
    assert f"Won: {deal['name']}" in subjects

    assert client.get(f"{url}?status=failed", headers=auth).get_json()["data"] == []
    assert client.get(f"{url}?status=nope", headers=auth).status_code == 422
    assert client.get(f"{api}/automations/deal/nope/runs", headers=auth).status_code == 404
    assert client.get(f"{api}/webhooks/deliveries", headers=auth).get_json()["data"] == []
    assert client.get(f"{api}/webhooks/deliveries?delivery_id=XYZ", headers=auth).status_code == 422
    paths = client.get(f"{api}/openapi.json", headers=auth).get_json()["paths"]
    assert "/automations/{object_name}/{rule}/runs" in paths and "/webhooks/deliveries" in paths
