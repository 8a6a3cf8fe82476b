"""Extension routes under the tenant's API, and the two extensions shipped with Trellis (rating,
leads_inbound), through the served app; both backends."""

from __future__ import annotations

import json
import time
from typing import Any

from ext_screens import sign_in
from flask.testing import FlaskClient

from trellis.extensions.api import Extension, ExtensionContext, RecordContext
from trellis.extensions.leads_inbound import signature
from trellis.platform.core import Platform
from trellis.platform.extensions import registry
from trellis.tenants.demo import DemoLogin

relay = Extension("relay", "0.1.0", "Relay")


@relay.route("/echo/<int:number>", methods=["POST"])
def echo(ctx: ExtensionContext, number: int) -> dict[str, Any]:
    accounts = ctx.records.list("account", filters={"name": ctx.body["name"]})
    return {"number": number, "user_id": ctx.user_id, "tenant": ctx.tenant, "found": len(accounts)}


@relay.hook("after_create", object="account")
def crash(ctx: RecordContext) -> None:
    if ctx.record and ctx.record["name"] == "Crash":
        raise RuntimeError("relay is down")


registry.install(relay)


def _enable(client: FlaskClient, api: str, auth: dict[str, str], name: str, settings: dict | None = None) -> None:
    answer = client.post(f"{api}/metadata/extensions", headers=auth,
                         json={"api_name": name, "label": name.title(), "settings": settings or {}})
    assert answer.status_code == 201, answer.text


def test_routes_answer_under_the_tenant_api_only_when_enabled_and_authenticated(client, api, auth) -> None:
    url = f"{api}/x/relay/echo/7"
    assert client.post(url, json={"name": "x"}, headers=auth).status_code == 404  # not enabled
    _enable(client, api, auth, "relay")
    name = client.get(f"{api}/records/account?limit=1", headers=auth).get_json()["data"][0]["name"]
    answer = client.post(url, json={"name": name}, headers=auth)
    assert answer.status_code == 200
    assert answer.get_json()["number"] == 7 and answer.get_json()["found"] == 1
    assert answer.get_json()["user_id"] is not None and answer.get_json()["tenant"] in api
    assert client.post(url, json={"name": name}).status_code == 401  # a token, like the rest of the API
    missing = client.post(f"{api}/x/relay/nowhere", headers=auth)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get(url, headers=auth).status_code == 400  # POST only, said in a problem
    document = client.get(f"{api}/openapi.json", headers=auth).get_json()
    assert "post" in document["paths"]["/x/relay/echo/{number}"]


def test_admins_read_failed_after_hooks_in_the_extension_log(client, api, auth) -> None:
    _enable(client, api, auth, "relay")
    created = client.post(f"{api}/records/account", json={"name": "Crash"}, headers=auth)
    assert created.status_code == 201  # the write stands
    [run] = client.get(f"{api}/extensions/runs", headers=auth).get_json()["data"]
    assert run["rule"] == "relay.after_create" and run["status"] == "failed"
    assert run["record_id"] == created.get_json()["id"] and "relay is down" in run["error"]


def test_rating_stars_are_a_field_type_with_its_own_rules_and_widget(client, api, auth, demo: DemoLogin) -> None:
    _enable(client, api, auth, "rating")
    field = {"api_name": "satisfaction", "label": "Satisfaction", "type": "rating.stars"}
    assert client.post(f"{api}/metadata/objects/account/fields", json=field, headers=auth).status_code == 201
    created = client.post(f"{api}/records/account", json={"name": "Starry", "satisfaction": 4}, headers=auth)
    assert created.status_code == 201 and created.get_json()["satisfaction"] == 4
    too_many = client.post(f"{api}/records/account", json={"name": "Nova", "satisfaction": 7}, headers=auth)
    assert too_many.status_code == 422 and "from 1 to 5 stars" in too_many.text
    found = client.get(f"{api}/records/account?satisfaction__gte=4", headers=auth).get_json()["data"]
    assert [r["name"] for r in found] == ["Starry"]

    base = sign_in(client, demo)
    form = client.get(f"{base}/records/account/edit/?id={created.get_json()['id']}").text
    assert 'type="radio"' in form and "★★★★★" in form
    assert "★★★★☆" in client.get(f"{base}/records/account/details/?id={created.get_json()['id']}").text


def test_leads_inbound_creates_records_from_signed_posts_only(client, api, auth, monkeypatch) -> None:
    monkeypatch.setenv("TRELLIS_TEST_LEADS_SECRET", "s3cret")
    _enable(client, api, auth, "leads_inbound", {"secret_env": "TRELLIS_TEST_LEADS_SECRET", "object": "contact"})
    body = json.dumps({"full_name": "Ada Inbound", "email": "ada.inbound@example.com"}).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Trellis-Timestamp": stamp,
               "X-Trellis-Signature": signature("s3cret", stamp, body)}
    url = f"{api}/x/leads_inbound/leads"
    created = client.post(url, data=body, headers=headers)  # no API token: the signature is the credential
    assert created.status_code == 201, created.text
    assert created.get_json()["full_name"] == "Ada Inbound"
    forged = client.post(url, data=body, headers={**headers, "X-Trellis-Signature": signature("guess", stamp, body)})
    assert forged.status_code == 422 and forged.get_json()["errors"][0]["field"] == "X-Trellis-Signature"
    old = str(int(time.time()) - 3600)
    replayed = client.post(url, data=body, headers={**headers, "X-Trellis-Timestamp": old,
                                                    "X-Trellis-Signature": signature("s3cret", old, body)})
    assert replayed.status_code == 422
    contacts = client.get(f"{api}/records/contact?email=ada.inbound@example.com", headers=auth).get_json()["data"]
    assert len(contacts) == 1


def test_leads_inbound_notify_queues_a_signed_webhook(client, api, auth, platform: Platform, demo: DemoLogin,
                                                      ) -> None:
    _enable(client, api, auth, "leads_inbound", {"notify_url": "http://127.0.0.1:9/hook"})
    contact = client.get(f"{api}/records/contact?limit=1", headers=auth).get_json()["data"][0]
    answer = client.post(f"{api}/records/contact/{contact['id']}/actions/leads_inbound.notify", headers=auth)
    assert answer.status_code == 200, answer.text
    delivery = answer.get_json()["data"]["delivery_id"]
    [job] = [j for j in platform.jobs.list(platform.tenant(demo.tenant).id) if j.kind == "automation.webhook"]
    assert job.args["delivery_id"] == delivery and job.args["url"] == "http://127.0.0.1:9/hook"
    assert job.args["payload"]["record"]["id"] == contact["id"]


def test_notify_without_a_url_says_what_to_set(client, api, auth) -> None:
    _enable(client, api, auth, "leads_inbound")
    contact = client.get(f"{api}/records/contact?limit=1", headers=auth).get_json()["data"][0]
    answer = client.post(f"{api}/records/contact/{contact['id']}/actions/leads_inbound.notify", headers=auth)
    assert answer.status_code == 409 and "notify_url" in answer.get_json()["detail"]
