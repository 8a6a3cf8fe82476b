"""Create, edit and delete: forms generated from metadata, saved through the record service, errors kept."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from screen_helpers import account_id, csrf_token, field_html, post_form, text_of

from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor, RecordService
from trellis.tenants.demo import DemoLogin


def test_create_a_deal_through_the_form(signed_in: FlaskClient, base: str, records: RecordService) -> None:
    globex = account_id(records, "Globex")
    response = post_form(signed_in, f"{base}/records/deal/new/", {
        "name": "Screens deal", "account": str(globex), "stage": "proposal", "amount": "12500.50",
        "probability": "40", "close_date": "2031-05-17", "tags": ["strategic", "upsell"],
        "description": "Line one\nline two",
    })
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"].endswith("/records/deal/")
    saved = records.list("deal", ListQuery(search="Screens deal")).records[0]
    assert saved["account"] == globex and saved["stage"] == "proposal" and saved["amount"] == 12500.5
    assert saved["close_date"] == "2031-05-17" and saved["tags"] == ["strategic", "upsell"]
    assert saved["description"] == "Line one\nline two" and saved["number"] == "DEAL-0025"
    listing = text_of(signed_in.get(response.headers["Location"]))
    assert "Record was successfully created." in listing and "Screens deal" in listing


def test_a_new_record_gets_defaults_for_fields_left_empty(signed_in: FlaskClient, base: str,
                                                          records: RecordService) -> None:
    response = post_form(signed_in, f"{base}/records/contact/new/", {"full_name": "Mary Jackson"})
    assert response.status_code == 302, text_of(response)
    saved = records.list("contact", ListQuery(search="Mary Jackson")).records[0]
    assert saved["do_not_call"] is False and saved["account"] is None and saved["email"] is None


def test_edit_a_deal(signed_in: FlaskClient, base: str, records: RecordService) -> None:
    deal = records.list("deal", ListQuery(limit=1)).records[0]
    url = f"{base}/records/deal/edit/?id={deal['id']}"
    page = signed_in.get(url).text
    assert f'value="{deal["name"]}"' in field_html(page, "name")
    assert re.search(r'name="version"[^>]*value="1"|value="1"[^>]*name="version"', page)
    assert "readonly" in field_html(page, "number")
    form = {"name": "Renamed deal", "account": str(deal["account"]), "stage": "negotiation",
            "amount": "999", "probability": "", "close_date": "", "tags": [], "description": "",
            "number": "HACKED", "version": "1"}
    response = post_form(signed_in, url, form)
    assert response.status_code == 302, text_of(response)
    saved = records.get("deal", deal["id"])
    assert saved["name"] == "Renamed deal" and saved["amount"] == 999 and saved["stage"] == "negotiation"
    assert saved["probability"] is None and saved["close_date"] is None and saved["tags"] == []
    assert saved["number"] == deal["number"] and saved["version"] == 2


def test_saving_over_a_newer_version_is_refused_and_keeps_the_input(signed_in: FlaskClient, base: str,
                                                                   records: RecordService) -> None:
    deal = records.list("deal", ListQuery(limit=1)).records[0]
    url = f"{base}/records/deal/edit/?id={deal['id']}"
    token = csrf_token(signed_in, url)  # the user opens the form (version 1) ...
    records.update("deal", deal["id"], {"amount": 1}, expected_version=1)  # ... someone else saves first
    response = signed_in.post(url, data={
        "csrf_token": token, "name": "My late change", "account": str(deal["account"]), "stage": deal["stage"],
        "version": "1"})
    assert response.status_code == 200
    assert "Someone else saved this record after you opened it" in text_of(response)
    assert 'value="My late change"' in field_html(response.text, "name")
    saved = records.get("deal", deal["id"])
    assert saved["name"] == deal["name"] and saved["amount"] == 1 and saved["version"] == 2


def test_a_new_field_appears_on_the_form_at_the_next_request(signed_in: FlaskClient, base: str,
                                                             platform: Platform, demo: DemoLogin) -> None:
    assert 'name="region"' not in signed_in.get(f"{base}/records/deal/new/").text
    editor = platform.editor(platform.runtime(demo.tenant), Actor(None))
    editor.add_field("deal", {"api_name": "region", "label": {"en": "Sales region", "zh-CN": "销售区域"},
                              "type": "picklist", "values": [{"value": "emea", "label": "EMEA"}]})
    page = signed_in.get(f"{base}/records/deal/new/").text
    assert 'name="region"' in page and "Sales region" in page and ">EMEA</option>" in page
    account = str(platform.records(platform.runtime(demo.tenant), Actor(None))
                  .list("account", ListQuery(limit=1)).records[0]["id"])
    response = post_form(signed_in, f"{base}/records/deal/new/", {"name": "Regional", "account": account,
                                                                   "stage": "won", "region": "emea"})
    assert response.status_code == 302, text_of(response)


def test_delete_removes_a_record_and_explains_a_refusal(signed_in: FlaskClient, base: str,
                                                        records: RecordService) -> None:
    deal = records.list("deal", ListQuery(limit=1)).records[0]
    token = csrf_token(signed_in, f"{base}/records/deal/")
    response = signed_in.post(f"{base}/records/deal/delete/", data={"id": deal["id"], "csrf_token": token},
                              follow_redirects=True)
    assert "successfully deleted" in text_of(response)
    assert records.list("deal", ListQuery(with_total=True)).total == 23
    in_use = records.get("deal", records.list("deal", ListQuery(limit=1)).records[0]["id"])["account"]
    response = signed_in.post(f"{base}/records/account/delete/", data={"id": in_use, "csrf_token": token},
                              follow_redirects=True)
    assert "Other records point at this Account" in text_of(response)
    assert records.get("account", in_use)["id"] == in_use
