"""Lists, detail pages and lookups on the demo tenant's record screens (read only: one shared demo)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from screen_helpers import list_count, text_of

from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import RecordService
from trellis.renderers.screens.filters import object_filters
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    """The tests here only read, so they share one demo tenant."""
    return shared_demo


def _rows(page_text: str) -> int:
    return len(re.findall(r'<td class="list-buttons-column">', page_text))


def test_the_home_page_lists_the_objects(signed_in: FlaskClient, base: str) -> None:
    page = text_of(signed_in.get(f"{base}/"))
    assert all(name in page for name in ("Accounts", "Contacts", "Deals", "Demo Company"))


def test_the_deal_list_shows_deals_with_account_titles(signed_in: FlaskClient, base: str,
                                                       records: RecordService) -> None:
    response = signed_in.get(f"{base}/records/deal/")
    assert response.status_code == 200
    page = text_of(response)
    assert "List (24)" in page
    newest = records.list("deal", ListQuery(sort=[("id", True)], limit=1)).records[0]
    account = records.titles("account", {newest["account"]})[newest["account"]]
    row = page[page.index(newest["number"]):][:200]
    assert newest["name"] in page and account in row
    assert f'/records/account/details/?id={newest["account"]}' in response.text
    assert "Deal name" in page and "Stage" in page and "Amount" in page
    assert _rows(response.text) == 20


def test_page_numbers_search_sort_and_filters(signed_in: FlaskClient, base: str, records: RecordService,
                                              platform: Platform, demo: DemoLogin) -> None:
    assert _rows(signed_in.get(f"{base}/records/deal/?page=1").text) == 4
    pilots = records.list("deal", ListQuery(search="Pilot", limit=100)).records
    found = signed_in.get(f"{base}/records/deal/", query_string={"search": "Pilot"})
    assert _rows(found.text) == len(pilots)
    by_amount = signed_in.get(f"{base}/records/deal/", query_string={"sort": 4, "desc": 1})  # column 4: amount
    amount_of = {r["number"]: r["amount"] for r in records.list("deal", ListQuery(limit=100)).records}
    shown = [amount_of[number] for number in re.findall(r"DEAL-\d{4}", text_of(by_amount))]
    assert len(shown) == 20 and shown == sorted(amount_of.values(), reverse=True)[:20]
    filters = object_filters(platform.runtime(demo.tenant).object("deal"))
    stage_eq = next(i for i, f in enumerate(filters) if f.field.api_name == "stage" and f.op == "eq")
    won = [r for r in records.list("deal", ListQuery(limit=100)).records if r["stage"] == "won"]
    filtered = signed_in.get(f"{base}/records/deal/", query_string={f"flt0_{stage_eq}": "won"})
    assert _rows(filtered.text) == len(won)
    assert list_count(filtered) == len(won)


def test_list_and_emptiness_filters(signed_in: FlaskClient, base: str, records: RecordService,
                                    platform: Platform, demo: DemoLogin) -> None:
    filters = object_filters(platform.runtime(demo.tenant).object("deal"))
    index = {(f.field.api_name, f.op): i for i, f in enumerate(filters)}
    deals = records.list("deal", ListQuery(limit=100)).records
    closed = [d for d in deals if d["stage"] in ("won", "lost") and d["description"] is None]
    response = signed_in.get(f"{base}/records/deal/", query_string={
        f"flt0_{index['stage', 'in']}": "won,lost", f"flt1_{index['description', 'blank']}": "1"})
    assert list_count(response) == len(closed)
    later = [d for d in deals if d["close_date"] and d["close_date"] >= "2000-01-01"]
    response = signed_in.get(f"{base}/records/deal/", query_string={f"flt0_{index['close_date', 'gte']}": "2000-01-01"})
    assert list_count(response) == len(later)


def test_a_bad_filter_value_is_reported_not_a_crash(signed_in: FlaskClient, base: str, platform: Platform,
                                                    demo: DemoLogin) -> None:
    filters = object_filters(platform.runtime(demo.tenant).object("deal"))
    amount_gt = next(i for i, f in enumerate(filters) if f.field.api_name == "amount" and f.op == "gt")
    response = signed_in.get(f"{base}/records/deal/", query_string={f"flt0_{amount_gt}": "lots"})
    assert response.status_code == 200
    assert "Invalid Filter Value" in text_of(response)


def test_the_detail_page_shows_labels_titles_and_picklist_labels(signed_in: FlaskClient, base: str,
                                                                  records: RecordService) -> None:
    deal = records.list("deal", ListQuery(limit=1)).records[0]
    page = text_of(signed_in.get(f"{base}/records/deal/details/", query_string={"id": deal["id"]}))
    account = records.titles("account", {deal["account"]})[deal["account"]]
    stage_labels = {"prospecting": "Prospecting", "qualification": "Qualification", "proposal": "Proposal",
                    "negotiation": "Negotiation", "won": "Closed won", "lost": "Closed lost"}
    assert "Deal number" in page and deal["number"] in page
    assert account in page and stage_labels[deal["stage"]] in page
    for missing in (999999, 2**70, -1, "abc"):
        response = signed_in.get(f"{base}/records/deal/details/", query_string={"id": missing})
        assert response.status_code == 302, missing
        assert "Record does not exist." in text_of(signed_in.get(response.headers["Location"]))


def test_the_lookup_endpoint_searches_the_target_by_title(signed_in: FlaskClient, base: str,
                                                          records: RecordService) -> None:
    response = signed_in.get(f"{base}/records/deal/ajax/lookup/", query_string={"name": "account", "query": "glob"})
    globex = records.list("account", ListQuery(search="Globex")).records[0]
    assert response.get_json() == [[globex["id"], "Globex"]]
    first_page = signed_in.get(f"{base}/records/contact/ajax/lookup/", query_string={"name": "account", "query": ""})
    titles = [title for _, title in first_page.get_json()]
    assert len(titles) == 10 and titles == sorted(titles)
