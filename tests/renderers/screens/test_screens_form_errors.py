"""Form screens that refuse input: what the user sees, with nothing they typed lost (read only: shared demo)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient
from screen_helpers import account_id, field_html, post_form, text_of

from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import RecordService
from trellis.tenants.demo import DemoLogin


@pytest.fixture
def demo(shared_demo: DemoLogin) -> DemoLogin:
    """Nothing here is saved, so the tests share one demo tenant."""
    return shared_demo






def test_the_create_form_follows_the_field_types(signed_in: FlaskClient, base: str) -> None:
    page = signed_in.get(f"{base}/records/deal/new/").text
    assert 'name="number"' not in page  # an autonumber is assigned on save
    assert re.search(r'<input[^>]*name="name"[^>]*required|<input[^>]*required[^>]*name="name"', page)
    assert 'type="number"' in field_html(page, "amount") and 'step="any"' in field_html(page, "amount")
    assert 'type="date"' in field_html(page, "close_date")
    assert "<textarea" in field_html(page, "description")
    assert 'data-role="select2-ajax"' in field_html(page, "account")
    assert "/records/deal/ajax/lookup/?name=account" in unescape(field_html(page, "account"))
    stage = field_html(page, "stage")
    assert '<option selected value="prospecting">Prospecting</option>' in stage  # the metadata default
    assert "multiple" in field_html(page, "tags")
    contact = signed_in.get(f"{base}/records/contact/new/").text
    assert 'type="email"' in field_html(contact, "email") and 'type="tel"' in field_html(contact, "phone")
    assert 'type="checkbox"' in field_html(contact, "do_not_call")
    assert 'type="url"' in field_html(signed_in.get(f"{base}/records/account/new/").text, "website")


def test_service_errors_appear_next_to_their_fields_and_keep_the_input(signed_in: FlaskClient, base: str,
                                                                        records: RecordService) -> None:
    globex = account_id(records, "Globex")
    response = post_form(signed_in, f"{base}/records/deal/new/", {
        "name": "Keep this name", "account": str(globex), "stage": "won", "amount": "10.555",
        "probability": "150", "description": "Keep me", "tags": ["renewal"],
    })
    assert response.status_code == 200
    page = response.text
    assert "Use at most 2 decimal places." in field_html(page, "amount")
    assert "is-invalid" in field_html(page, "amount")
    assert "less than or equal to 100" in field_html(page, "probability")
    assert 'value="Keep this name"' in field_html(page, "name")
    assert 'value="10.555"' in field_html(page, "amount") and 'value="150"' in field_html(page, "probability")
    assert "Keep me</textarea>" in field_html(page, "description")
    assert '<option selected value="won">' in field_html(page, "stage")
    assert '<option selected value="renewal">' in field_html(page, "tags")
    assert f'value="{globex}"' in field_html(page, "account") and "Globex" in field_html(page, "account")
    assert "The record was not saved" in text_of(response)
    assert records.list("deal", ListQuery(with_total=True)).total == 24


def test_required_fields_are_named_by_the_service(signed_in: FlaskClient, base: str) -> None:
    response = post_form(signed_in, f"{base}/records/deal/new/", {"name": " ", "stage": "won", "amount": "5"})
    assert response.status_code == 200
    assert "Deal name is required." in field_html(response.text, "name")
    assert "Account is required." in field_html(response.text, "account")
    assert 'value="5"' in field_html(response.text, "amount")


def test_input_the_form_cannot_read_is_kept_and_explained(signed_in: FlaskClient, base: str) -> None:
    response = post_form(signed_in, f"{base}/records/deal/new/", {"name": "X", "probability": "lots",
                                                                   "close_date": "someday"})
    assert response.status_code == 200
    assert 'value="lots"' in field_html(response.text, "probability")
    assert "Not a valid decimal value" in field_html(response.text, "probability")
    assert 'value="someday"' in field_html(response.text, "close_date")
    assert "Not a valid date value" in field_html(response.text, "close_date")


def test_a_unique_clash_is_shown_on_its_field(signed_in: FlaskClient, base: str, records: RecordService) -> None:
    taken = records.list("contact", ListQuery(limit=1)).records[0]["email"]
    response = post_form(signed_in, f"{base}/records/contact/new/", {"full_name": "Copy", "email": taken})
    assert response.status_code == 200
    assert "it must be unique" in field_html(response.text, "email")
    assert f'value="{taken}"' in field_html(response.text, "email")
