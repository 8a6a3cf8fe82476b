"""The demo's form layouts on the screens (both backends): sections and columns in the layout's order with
its help texts, read-only fields kept on save, rule violations shown under their field, related lists."""

from __future__ import annotations

from flask.testing import FlaskClient
from screen_helpers import field_html, post_form, text_of

from trellis.platform.core import Platform
from trellis.platform.records.query import Filter, ListQuery
from trellis.platform.records.service import Actor, RecordService
from trellis.tenants.demo import DemoLogin


def test_the_create_form_follows_the_layout_and_sends_its_rules(signed_in: FlaskClient, base: str) -> None:
    page = signed_in.get(f"{base}/records/deal/new/").text
    assert page.index(">Deal</h5>") < page.index(">Forecast</h5>") < page.index(">More</h5>")
    assert page.index('data-trellis-field="stage"') < page.index('data-trellis-field="lost_reason"') \
        < page.index('data-trellis-field="amount"') < page.index('data-trellis-field="tags"')
    assert 'class="col-md-4" data-trellis-field="amount"' in page  # three columns
    assert "Where the deal is in the sales pipeline." in field_html(page, "stage")
    assert 'id="trellis-form-rules"' in page and '"visible": {"k": "bin"' in page
    script = signed_in.get(f"{base}/records/deal/trellis-rules.js")
    assert script.status_code == 200 and "TrellisRules" in script.text


def test_a_rule_violated_on_the_form_is_shown_under_its_field(signed_in: FlaskClient, base: str,
                                                               records: RecordService) -> None:
    deal = records.list("deal", ListQuery(filters=[Filter("stage", "eq", "prospecting")], limit=1)).records[0]
    url = f"{base}/records/deal/edit/?id={deal['id']}"
    form = {"name": deal["name"], "account": str(deal["account"]), "stage": "lost", "lost_reason": "",
            "amount": "0", "version": str(deal["version"]), "number": "HACKED"}
    response = post_form(signed_in, url, form)
    assert response.status_code == 200
    assert "Lost reason is required here; fill it in." in field_html(response.text, "lost_reason")
    assert "The amount of a deal must be more than zero" in field_html(response.text, "amount")
    saved = post_form(signed_in, url, {**form, "lost_reason": "timing", "amount": "5"})
    assert saved.status_code == 302, text_of(saved)
    after = records.get("deal", deal["id"])
    assert (after["stage"], after["lost_reason"], after["number"]) == ("lost", "timing", deal["number"])


def test_an_account_page_lists_its_deals_and_contacts(signed_in: FlaskClient, base: str, records: RecordService,
                                                      platform: Platform, demo: DemoLogin) -> None:
    platform.editor(platform.runtime(demo.tenant), Actor(None)).update_object("account", {"layouts": [{
        "name": "standard", "sections": [{"columns": 2, "fields": [{"field": "name"}, {"field": "industry"}]}],
        "related_lists": [{"object": "deal", "via": "account", "fields": ["name", "stage", "amount", "close_date"]},
                          {"object": "contact", "via": "account", "fields": ["full_name", "email"]}]}]})
    deal = records.list("deal", ListQuery(limit=1)).records[0]
    page = signed_in.get(f"{base}/records/account/details/?id={deal['account']}").text
    deals = page[page.index('data-trellis-related="deal"'):page.index('data-trellis-related="contact"')]
    assert f'/records/deal/details/?id={deal["id"]}"' in deals and deal["name"] in deals
    assert "Close date" in deals
