"""Tenant isolation: from tenant A, every door answers as if tenant B did not exist.

Two demo tenants share one installation. B gets records whose ids are beyond A's
(so "id 11 of account" is a real row in B and nothing in A), names only B uses
and an object only B has. A's own user (not a member of B) and A's token then try
B's ids and names through the API and the screens. Both backends.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.controlplane.tables import Tenant
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.tenants.demo import install_demo

SECRET = "Bonly Secret"
A_PASSWORD = "alice-password-1"

INVOICE = {"api_name": "invoice", "label": "Invoice", "name_field": "title",
           "fields": [{"api_name": "title", "label": "Title", "type": "text"}]}


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    a_email: str
    a_token: str
    b_accounts: list[int]
    b_deals: list[int]
    b_invoice: int


@pytest.fixture(scope="module")
def pair(platform: Platform) -> Pair:
    """Demo tenants A and B; B has extra accounts, deals and an object of its own; A has a user of its own."""
    a = install_demo(platform, slug=f"iso-a-{uuid.uuid4().hex[:8]}").tenant
    b = install_demo(platform, slug=f"iso-b-{uuid.uuid4().hex[:8]}").tenant
    actor = Actor(user_id=None)
    platform.editor(platform.runtime(b), actor).create_object(INVOICE)
    records = platform.records(platform.runtime(b), actor)
    accounts = [records.create("account", {"name": f"{SECRET} {i}"})["id"] for i in range(5)]
    deals = [records.create("deal", {"name": f"{SECRET} deal {i}", "account": accounts[i], "stage": "won"})["id"]
             for i in range(3)]
    invoice = records.create("invoice", {"title": f"{SECRET} invoice"})["id"]
    email = f"alice-{uuid.uuid4().hex[:8]}@a-only.example"
    with platform.control() as session:
        tenant = find_tenant(session, a)
        user = create_user(session, email=email, password=A_PASSWORD, name="Alice")
        add_membership(session, tenant, user, role="admin")
        token, _ = create_token(session, tenant=tenant, user=user, name="isolation")
    return Pair(a, b, email, token, accounts, deals, invoice)


@pytest.fixture
def auth(pair: Pair) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair.a_token}"}


@pytest.fixture
def signed_in(app: Flask, pair: Pair) -> FlaskClient:
    """A browser signed in to A's screens as A's own user."""
    client = app.test_client()
    page = client.get(f"/t/{pair.a}/login")
    token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)[1])
    response = client.post(f"/t/{pair.a}/login",
                           data={"email": pair.a_email, "password": A_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text
    return client


def test_b_ids_beyond_a_are_really_only_in_b(platform: Platform, pair: Pair) -> None:
    """The premise: B's ids are rows in B and nothing in A, so a leak would show."""
    a_ids = [r["id"] for r in platform.records(platform.runtime(pair.a), Actor(None)).list("account").records]
    assert max(a_ids) < min(pair.b_accounts)
    assert platform.records(platform.runtime(pair.b), Actor(None)).get("account", pair.b_accounts[0])


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_api_records_by_b_ids_are_not_found(client: FlaskClient, platform: Platform, pair: Pair,
                                            auth: dict[str, str], method: str) -> None:
    for object_name, record_id in (("account", pair.b_accounts[-1]), ("deal", pair.b_deals[-1])):
        url = f"/t/{pair.a}/api/v1/records/{object_name}/{record_id}"
        kwargs = {"json": {"name": "Stolen", "version": 1}} if method == "patch" else {}
        response = getattr(client, method)(url, headers={**auth, "If-Match": '"1"'}, **kwargs)
        assert response.status_code == 404, response.get_data(as_text=True)
        assert SECRET not in response.get_data(as_text=True)
    b_records = platform.records(platform.runtime(pair.b), Actor(None))
    assert b_records.get("account", pair.b_accounts[-1])["name"] == f"{SECRET} 4"  # untouched
    assert b_records.get("deal", pair.b_deals[-1])["version"] == 1


def test_api_lists_filters_and_search_see_only_a(client: FlaskClient, pair: Pair, auth: dict[str, str]) -> None:
    api = f"/t/{pair.a}/api/v1/records"
    for b_account in pair.b_accounts:
        deals = client.get(f"{api}/deal?account={b_account}", headers=auth)
        assert deals.status_code == 200 and deals.get_json()["data"] == []
        contacts = client.get(f"{api}/contact?account={b_account}", headers=auth)
        assert contacts.status_code == 200 and contacts.get_json()["data"] == []
    for query in (SECRET, "Bonly"):
        for object_name in ("account", "deal"):
            found = client.get(f"{api}/{object_name}", query_string={"q": query}, headers=auth)
            assert found.status_code == 200 and found.get_json()["data"] == []
    everything = client.get(f"{api}/account?limit=500", headers=auth).get_data(as_text=True)
    assert SECRET not in everything


def test_api_metadata_and_openapi_know_only_a(client: FlaskClient, pair: Pair, auth: dict[str, str]) -> None:
    api = f"/t/{pair.a}/api/v1"
    for url in ("/metadata/objects/invoice", "/metadata/objects/invoice/fields/title", "/records/invoice",
                f"/records/invoice/{pair.b_invoice}"):
        assert client.get(api + url, headers=auth).status_code == 404, url
    names = [o["api_name"] for o in client.get(f"{api}/metadata/objects", headers=auth).get_json()["data"]]
    assert "invoice" not in names and "account" in names
    spec = client.get(f"{api}/openapi.json", headers=auth)
    assert spec.status_code == 200 and "invoice" not in spec.get_data(as_text=True).lower()


def test_a_token_on_b_url_is_unauthorized(client: FlaskClient, pair: Pair, auth: dict[str, str]) -> None:
    for url in ("/records/account", f"/records/account/{pair.b_accounts[0]}", "/metadata/objects",
                "/openapi.json", "/records/invoice"):
        response = client.get(f"/t/{pair.b}/api/v1{url}", headers=auth)
        assert response.status_code == 401, url
        assert SECRET not in response.get_data(as_text=True)


def test_a_session_cookie_opens_nothing_of_b(app: Flask, signed_in: FlaskClient, pair: Pair) -> None:
    cookie = signed_in.get_cookie("trellis_session", path=f"/t/{pair.a}/")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("trellis_session", cookie.value, path=f"/t/{pair.b}/")
    for page in ("/", "/records/account/", f"/records/account/details/?id={pair.b_accounts[0]}",
                 "/records/invoice/", "/records/deal/ajax/lookup/?name=account&query=Bonly"):
        response = thief.get(f"/t/{pair.b}{page}")
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith(f"/t/{pair.b}/login"), page


def test_screens_details_of_b_ids_are_not_found(signed_in: FlaskClient, pair: Pair) -> None:
    base = f"/t/{pair.a}"
    for object_name, record_id in (("account", pair.b_accounts[-1]), ("deal", pair.b_deals[-1])):
        for page in ("details", "edit"):
            response = signed_in.get(f"{base}/records/{object_name}/{page}/", query_string={"id": record_id})
            assert response.status_code == 302, (object_name, page)
            assert "Record does not exist." in signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert signed_in.get(f"{base}/records/invoice/").status_code == 404
    listing = signed_in.get(f"{base}/records/account/", query_string={"search": SECRET})
    assert listing.status_code == 200 and f"{SECRET} 0" not in listing.get_data(as_text=True)
    assert "List (" not in listing.get_data(as_text=True)  # flask-admin shows no count when nothing matched


def test_screens_lookup_search_offers_only_a_titles(signed_in: FlaskClient, pair: Pair) -> None:
    url = f"/t/{pair.a}/records/deal/ajax/lookup/"
    for query in ("Bonly", SECRET, ""):
        response = signed_in.get(url, query_string={"name": "account", "query": query, "limit": 100})
        assert response.status_code == 200
        titles = [title for _, title in response.get_json()]
        assert not any(SECRET in title for title in titles), query
        assert all(record_id < min(pair.b_accounts) for record_id, _ in response.get_json())


def test_the_tenants_stay_apart_in_the_control_plane(platform: Platform, pair: Pair) -> None:
    with platform.control() as session:
        stores = session.scalars(select(Tenant.schema_name).where(Tenant.slug.in_([pair.a, pair.b]))).all()
    assert len(set(stores)) == 2
