"""Every catalog field type round-trips through the generated forms: create, show, prefill, edit."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from screen_helpers import list_count, post_form, sign_in, text_of

from trellis.platform.controlplane.accounts import add_membership, create_user
from trellis.platform.controlplane.tables import Tenant
from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor, RecordService
from trellis.renderers.screens.filters import object_filters

GADGET = {
    "api_name": "gadget", "label": "Gadget", "plural_label": "Gadgets", "name_field": "title",
    "fields": [
        {"api_name": "title", "label": "Title", "type": "text", "required": True},
        {"api_name": "code", "label": "Code", "type": "autonumber", "format": "G-{000}"},
        {"api_name": "notes", "label": "Notes", "type": "long_text"},
        {"api_name": "units", "label": "Units", "type": "integer"},
        {"api_name": "weight", "label": "Weight", "type": "decimal", "scale": 3, "precision": 10},
        {"api_name": "price", "label": "Price", "type": "currency", "currency": "EUR"},
        {"api_name": "margin", "label": "Margin", "type": "percent"},
        {"api_name": "active", "label": "Active", "type": "boolean"},
        {"api_name": "launch", "label": "Launch", "type": "date"},
        {"api_name": "checked_at", "label": "Checked at", "type": "datetime"},
        {"api_name": "contact", "label": "Contact", "type": "email"},
        {"api_name": "hotline", "label": "Hotline", "type": "phone"},
        {"api_name": "homepage", "label": "Homepage", "type": "url"},
        {"api_name": "size", "label": "Size", "type": "picklist",
         "values": [{"value": "s", "label": "Small"}, {"value": "l", "label": "Large"}]},
        {"api_name": "colors", "label": "Colors", "type": "multi_picklist",
         "values": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]},
        {"api_name": "maker", "label": "Maker", "type": "lookup", "target": "maker"},
    ],
}
FORM = {"title": "Widget <b>", "notes": "Two\nlines", "units": "7", "weight": "1.125", "price": "19.99",
        "margin": "12.5", "active": "y", "launch": "2030-02-28", "checked_at": "2030-03-01T09:30",
        "contact": "ops@example.com", "hotline": "+49 30 1234567", "homepage": "https://example.com/w",
        "size": "l", "colors": ["red", "blue"]}


@pytest.fixture
def gadgets(platform: Platform, tenant: str) -> RecordService:
    actor = Actor(None)
    platform.editor(platform.runtime(tenant), actor).create_object(
        {"api_name": "maker", "label": "Maker", "fields": [{"api_name": "name", "label": "Name", "type": "text"}]})
    platform.editor(platform.runtime(tenant), actor).create_object(GADGET)
    with platform.control() as session:
        user = create_user(session, email=f"owner@{tenant}.example", password="gadget-password")
        add_membership(session, session.query(Tenant).filter_by(slug=tenant).one(), user)
    return platform.records(platform.runtime(tenant), actor)


def test_every_field_type_round_trips(client: FlaskClient, tenant: str, gadgets: RecordService) -> None:
    base = f"/t/{tenant}"
    assert sign_in(client, base, f"owner@{tenant}.example", "gadget-password").status_code == 302
    maker = gadgets.create("maker", {"name": "ACME"})["id"]
    created = post_form(client, f"{base}/records/gadget/new/", {**FORM, "maker": str(maker)})
    assert created.status_code == 302, text_of(created)
    saved = gadgets.list("gadget", ListQuery()).records[0]
    assert saved | {"id": 0, "owner": 0, "created_at": "", "updated_at": "", "created_by": 0, "updated_by": 0} == {
        "id": 0, "owner": 0, "created_at": "", "updated_at": "", "created_by": 0, "updated_by": 0, "version": 1,
        "title": "Widget <b>", "code": "G-001", "notes": "Two\nlines", "units": 7, "weight": 1.125,
        "price": 19.99, "margin": 12.5, "active": True, "launch": "2030-02-28",
        "checked_at": "2030-03-01T09:30:00+00:00", "contact": "ops@example.com", "hotline": "+49 30 1234567",
        "homepage": "https://example.com/w", "size": "l", "colors": ["red", "blue"], "maker": maker}

    details = client.get(f"{base}/records/gadget/details/", query_string={"id": saved["id"]})
    shown = text_of(details)
    for text in ("Widget <b>", "G-001", "19.99 EUR", "12.5%", "2030-03-01 09:30 UTC", "Large", "Red, Blue", "ACME"):
        assert text in shown, text
    assert "Widget <b>" not in details.text  # escaped, not markup

    edit = client.get(f"{base}/records/gadget/edit/", query_string={"id": saved["id"]}).text
    for name, value in (("units", "7"), ("weight", "1.125"), ("launch", "2030-02-28"),
                        ("checked_at", "2030-03-01T09:30"), ("homepage", "https://example.com/w")):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"|value="{re.escape(value)}"[^>]*name="{name}"',
                         edit), name
    assert re.search(r'checked[^>]*name="active"|name="active"[^>]*checked', edit)
    assert '<option selected value="blue">' in edit and '<option selected value="l">' in edit

    filters = {(f.field.api_name, f.op): i for i, f in enumerate(object_filters(gadgets.runtime.object("gadget")))}
    for moment, count in (("2030-03-01 09:00:00", 1), ("2030-03-01 10:00:00", 0)):  # as the date picker writes
        listed = client.get(f"{base}/records/gadget/", query_string={f"flt0_{filters['checked_at', 'gte']}": moment})
        assert list_count(listed) == count, moment

    changed = post_form(client, f"{base}/records/gadget/edit/?id={saved['id']}",
                        {**FORM, "active": None, "colors": [], "size": "", "maker": "", "units": "", "version": "1"})
    assert changed.status_code == 302, text_of(changed)
    after = gadgets.get("gadget", saved["id"])
    assert (after["active"], after["colors"], after["size"], after["maker"], after["units"]) == (False, [], None,
                                                                                              None, None)
