"""Permissions through the generated screens: each user's lists, record pages, searches, lookups and
forms show what their roles allow and nothing else; writes they may not make are refused."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from permission_org import DEALS, EXPECTED, PASSWORD, build_org
from screen_helpers import csrf_token, post_form, sign_in, text_of

from trellis.platform.core import Platform

CASES: list[str] = []


@pytest.fixture
def org(platform: Platform, tenant: str):
    return build_org(platform, tenant)


def _client(web_app: Flask, org, who: str):
    client = web_app.test_client()
    assert sign_in(client, f"/t/{org.slug}", org.emails[who], PASSWORD).status_code == 302
    return client


def _names(page) -> set[str]:
    text = text_of(page)
    return {name for name in DEALS if re.search(rf"\b{name}\b", text)}


def test_matrix_through_the_screens(web_app, org) -> None:
    base = f"/t/{org.slug}/records/deal"
    for who, (reads, _, creates, _) in EXPECTED.items():
        client = _client(web_app, org, who)
        listing = client.get(f"{base}/")
        if who == "outsider":
            assert listing.status_code == 403
            assert client.get(f"{base}/details/", query_string={"id": org.deals["d_rep1"]}).status_code == 403
            CASES.append(f"screens:{who}:list")
            continue
        shown = _names(listing)
        assert shown == reads, who
        searched = client.get(f"{base}/", query_string={"search": "d_rep"})
        assert _names(searched) == {n for n in reads if n.startswith("d_rep")}
        for name, record_id in org.deals.items():
            page = client.get(f"{base}/details/", query_string={"id": record_id})
            assert (page.status_code == 200 and name in _names(page)) == (name in reads), (who, name)
            CASES.append(f"screens:{who}:read:{name}")
        lookup = client.get(f"/t/{org.slug}/records/deal/ajax/lookup/", query_string={"name": "account", "query": ""})
        assert "Acme" in lookup.text  # accounts are public read
        assert (client.get(f"{base}/new/").status_code == 200) == creates
        CASES.extend([f"screens:{who}:{op}" for op in ("list", "search", "lookup", "create")])


def test_hidden_and_read_only_fields_on_the_screens(web_app, org) -> None:
    base = f"/t/{org.slug}/records/deal"
    rep = _client(web_app, org, "rep1")
    mine = org.deals["d_rep1"]
    assert "Margin" not in text_of(rep.get(f"{base}/"))
    assert "Margin" not in text_of(rep.get(f"{base}/details/", query_string={"id": mine}))
    form = rep.get(f"{base}/edit/", query_string={"id": mine})
    assert 'name="margin"' not in form.text and 'name="amount"' not in form.text and 'name="region"' in form.text
    before = org.snapshot()
    saved = post_form(rep, f"{base}/edit/?id={mine}", {"name": "d_rep1", "region": "LATAM", "margin": "0",
                                                        "amount": "1"})
    assert saved.status_code in (200, 302)
    after = org.service("admin").get("deal", mine)
    assert after["region"] == "LATAM" and str(after["margin"]) == str(before["deal"][0]["margin"])
    assert str(after["amount"]) == str(before["deal"][0]["amount"])
    admin = _client(web_app, org, "admin")
    assert "Margin" in text_of(admin.get(f"{base}/details/", query_string={"id": mine}))


def test_screens_refuse_other_owners_records(web_app, org) -> None:
    base = f"/t/{org.slug}/records/deal"
    manager = _client(web_app, org, "mgr")
    before = org.snapshot()
    theirs = org.deals["d_rep1"]  # readable by the manager (a report's), not editable (manager_access: read)
    page = post_form(manager, f"{base}/edit/?id={theirs}", {"name": "taken over"}, follow_redirects=True)
    assert page.status_code == 200 and "not change it" in text_of(page)
    token = csrf_token(manager, f"{base}/")
    manager.post(f"{base}/delete/", data={"id": theirs, "csrf_token": token})  # managers may not delete deals
    rep = _client(web_app, org, "rep1")
    rep.post(f"{base}/delete/", data={"id": org.deals["d_rep2"], "csrf_token": csrf_token(rep, f"{base}/")})
    assert org.snapshot() == before


def test_count_of_screen_matrix_cases() -> None:
    print(f"\npermission matrix cases (screens door): {len(CASES)}")


def test_home_and_boards_list_only_the_objects_the_user_reads(web_app, org) -> None:
    base = f"/t/{org.slug}"
    rep, outsider = _client(web_app, org, "rep1"), _client(web_app, org, "outsider")
    assert f'href="{base}/records/deal/"' in rep.get(f"{base}/").text
    assert f"{base}/boards/deal/stage/" in rep.get(f"{base}/boards/").text
    home = outsider.get(f"{base}/").text
    assert f"{base}/records/deal/" not in home and f"{base}/records/account/" not in home
    assert f"{base}/boards/deal/stage/" not in outsider.get(f"{base}/boards/", follow_redirects=True).text
