"""The list screen's condition box: the API's where= on the generated screens, run by the database, kept
across sorting, and a mistake shown as a message with its position, never an error page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from trellis.platform.records.query import ListQuery, where_condition
from trellis.platform.records.service import RecordService
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    return shared_demo


def _ids(page: str) -> set[int]:
    """The records a list page shows, by the id in each row's details link."""
    return {int(i) for i in re.findall(r'/records/deal/details/\?id=(\d+)', page)}


def test_a_condition_lists_only_the_records_it_holds_for(signed_in: FlaskClient, base: str,
                                                         records: RecordService) -> None:
    condition = 'amount >= 200000 AND NOT (stage IN ("won", "lost"))'
    deal = records.runtime.object("deal")
    expected = records.list("deal", ListQuery(limit=100, where=where_condition(condition, deal,
                                                                                 records.runtime.objects, None)))
    page = signed_in.get(f"{base}/records/deal/", query_string={"where": condition})
    assert page.status_code == 200
    assert _ids(page.text) == {r["id"] for r in expected.records} and expected.records
    assert f'value="{escape(condition)}"' in page.text  # the box keeps what was typed
    everyone = records.list("deal", ListQuery(limit=100)).records
    assert len(everyone) > len(expected.records)
    sort = re.search(r'href="([^"]*sort=\d+[^"]*)"[^>]*>\s*Amount', page.text)[1].replace("&amp;", "&")
    assert "where=" in sort  # sorting keeps the condition
    resorted = signed_in.get(sort if sort.startswith("http") else f"{base}/records/deal/{sort[sort.index('?'):]}")
    assert _ids(resorted.text) == _ids(page.text)
    assert all(Decimal(str(r["amount"])) >= 200000 for r in expected.records)


def test_a_mistaken_condition_is_explained_with_its_position(signed_in: FlaskClient, base: str) -> None:
    page = signed_in.get(f"{base}/records/deal/", query_string={"where": "amount >> 5"})
    assert page.status_code == 200
    assert "The where expression cannot be used." in page.text and "position" in page.text.lower()
    assert _ids(page.text) == set()
