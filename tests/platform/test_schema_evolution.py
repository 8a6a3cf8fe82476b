"""Schema evolution that never loses data (both backends): rename, archive, restore, purge a field.

Each step is checked from the records' side (what the record service shows) and the
database's side (the columns and indexes a BI tool would see), and a refused or
failing step is checked to leave schema, data and revision exactly as they were.
"""

from __future__ import annotations

from typing import Any

import pytest
from crm_kit import Crm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from trellis.metadata.diff import diff_objects
from trellis.platform.errors import Conflict, InvalidInput, NotFound
from trellis.platform.storage.plan import Migration

LEAD = {"api_name": "lead", "label": "Lead", "name_field": "name", "fields": [
    {"api_name": "name", "label": "Name", "type": "text", "required": True},
    {"api_name": "email", "label": "Email", "type": "email", "unique": True},
    {"api_name": "score", "label": "Score", "type": "integer", "indexed": True},
]}


def deals(sales: Crm) -> list[dict[str, Any]]:
    """Three deals with a value in most fields."""
    acme = sales.records.create("account", {"name": "Acme"})["id"]
    globex = sales.records.create("account", {"name": "Globex"})["id"]
    return [sales.records.create("deal", {
        "name": f"Deal {n}", "account": acme, "partner": globex if n else None, "stage": "won", "tags": ["vip"],
        "amount": 100 * n, "ratio": "0.125", "seats": n, "hot": bool(n % 2), "close_date": "2026-01-0" + str(n + 1),
        "closed_at": "2026-01-01T10:00:00+00:00", "contact_email": f"p{n}@example.com", "notes": "x" * n,
    }) for n in range(3)]


def indexes(crm: Crm, table: str) -> set[str]:
    return {index["name"] for index in crm.inspector().get_indexes(table, schema=crm.schema)}


def without(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


def test_a_renamed_field_keeps_every_value_and_its_index(sales: Crm) -> None:
    before = deals(sales)
    sales.editor().update_field("deal", "name", {"api_name": "title"})
    sales.editor().update_field("deal", "contact_email", {"api_name": "email"})
    sales.editor().update_field("deal", "partner", {"api_name": "ally"})
    renames = {"name": "title", "contact_email": "email", "partner": "ally"}
    for old in before:
        now = sales.records.get("deal", old["id"])
        assert {renames.get(k, k): v for k, v in old.items()} == now
    assert {"ix_deal_title", "uq_deal_email", "ix_deal_ally"} <= indexes(sales, "deal")
    assert not {"ix_deal_name", "uq_deal_contact_email", "ix_deal_partner"} & indexes(sales, "deal")
    assert sales.runtime.objects["deal"].name_field == "title"
    assert sales.history()[0].changes[0] == {"op": "rename_field", "object": "deal", "field": "ally",
                                             "from": "partner"}
    with pytest.raises(Conflict):  # uniqueness is kept under the new name
        sales.records.create("deal", {"title": "Again", "account": before[0]["account"],
                                      "email": "p1@example.com"})


def test_an_archived_field_is_hidden_but_its_values_stay(sales: Crm) -> None:
    before = deals(sales)
    field_id = sales.runtime.objects["deal"].field("account").id
    sales.editor().archive_field("deal", "account")
    column = f"zz_archived_{field_id.removeprefix('fld_')}"
    assert "account" not in sales.records.get("deal", before[0]["id"])
    with pytest.raises(InvalidInput) as error:
        sales.records.create("deal", {"name": "New", "account": before[0]["account"]})
    assert [p.field for p in error.value.problems] == ["account"]
    sales.records.create("deal", {"name": "Without account"})  # the NOT NULL went with the archive
    assert sales.columns("deal")[column]["nullable"] and "account" not in sales.columns("deal")
    assert "ix_deal_account" not in indexes(sales, "deal")
    stored = sales.sql(f"SELECT id, {column} FROM {{t}}deal ORDER BY id")
    assert stored[:3] == [(d["id"], d["account"]) for d in before]
    [entry] = sales.editor().archived_fields("deal")
    assert (entry["column"], entry["archived_by"], entry["field"]["api_name"]) == (column, 7, "account")
    assert not sales.runtime.objects["deal"].has_field("account")


def test_restore_brings_back_exactly_the_same_values(sales: Crm) -> None:
    before = deals(sales)
    for name in ("contact_email", "tags", "ratio", "closed_at"):
        sales.editor().archive_field("deal", name)
    field_id = sales.editor().archived_fields("deal")[0]["field"]["id"]
    sales.editor().restore_field("deal", field_id)
    for name in ("tags", "ratio", "closed_at"):
        sales.editor().restore_field("deal", name)
    assert [sales.records.get("deal", d["id"]) for d in before] == before
    assert "uq_deal_contact_email" in indexes(sales, "deal")
    assert sales.editor().archived_fields("deal") == []
    assert [r.summary for r in sales.history()[:2]] == ["Restored field deal.closed_at", "Restored field deal.ratio"]


def test_purge_drops_the_column_for_good(crm: Crm) -> None:
    crm.create(LEAD)
    crm.records.create("lead", {"name": "Ada", "score": 3})
    crm.editor().archive_field("lead", "score")
    [entry] = crm.editor().archived_fields("lead")
    crm.editor().purge_field("lead", entry["field"]["id"])
    assert set(crm.columns("lead")) == {"id", "owner", "created_at", "created_by", "updated_at", "updated_by",
                                        "version", "name", "email"}
    assert crm.editor().archived_fields("lead") == []
    with pytest.raises(NotFound, match="no archived field"):
        crm.editor().restore_field("lead", "score")


def test_a_name_is_free_again_after_archive_and_restore_is_refused_while_taken(crm: Crm) -> None:
    crm.create(LEAD)
    ada = crm.records.create("lead", {"name": "Ada", "score": 3})
    crm.editor().archive_field("lead", "score")
    crm.editor().add_field("lead", {"api_name": "score", "label": "Score", "type": "text"})
    crm.records.update("lead", ada["id"], {"score": "high"}, expected_version=1)
    before = (crm.columns("lead").keys(), crm.revision())
    with pytest.raises(InvalidInput, match="another field now has that name") as error:
        crm.editor().restore_field("lead", "score")
    assert "score" in error.value.problems[0].message
    assert (crm.columns("lead").keys(), crm.revision()) == before
    crm.editor().update_field("lead", "score", {"api_name": "rating"})
    crm.editor().restore_field("lead", "score")
    now = crm.records.get("lead", ada["id"])
    assert (now["score"], now["rating"], now["name"]) == (3, "high", "Ada")


def test_a_renamed_object_keeps_its_records_lookups_and_counters(sales: Crm) -> None:
    before = deals(sales)
    sales.editor().update_object("account", {"api_name": "company"})
    assert "company" in sales.tables() and "account" not in sales.tables()
    assert sales.runtime.objects["deal"].field("account").target == "company"
    assert {r["name"] for r in sales.records.list("company").records} == {"Acme", "Globex"}
    assert [sales.records.get("deal", d["id"]) for d in before] == before
    assert "uq_company_name" in indexes(sales, "company")
    sales.editor().update_object("deal", {"api_name": "opportunity"})
    added = sales.records.create("opportunity", {"name": "Next", "account": before[0]["account"]})
    assert added["number"] == "DEAL-0004"  # the counter followed the rename
    with pytest.raises(Conflict):  # the restrict lookup's key still guards the renamed target
        sales.records.delete("company", before[0]["account"], expected_version=1)


def test_a_failure_mid_way_leaves_schema_and_data_unchanged(crm: Crm) -> None:
    """The rename runs, then renaming its index clashes with a stray one: all of it rolls back."""
    crm.create(LEAD)
    ada = crm.records.create("lead", {"name": "Ada", "score": 3})
    crm.sql("CREATE TABLE {t}stray (x integer)")
    crm.sql("CREATE INDEX ix_lead_rank ON {t}stray (x)")
    before = (set(crm.columns("lead")), indexes(crm, "lead"), crm.revision())
    with pytest.raises(DBAPIError):
        crm.editor().update_field("lead", "score", {"api_name": "rank"})
    assert (set(crm.columns("lead")), indexes(crm, "lead"), crm.revision()) == before
    assert crm.records.get("lead", ada["id"]) == ada


def test_archived_fields_change_only_through_their_own_steps(crm: Crm) -> None:
    crm.create(LEAD)
    with pytest.raises(InvalidInput, match="one by one"):
        crm.editor().update_object("lead", {"archived_fields": []})
    with pytest.raises(InvalidInput, match="titles this object"):
        crm.editor().archive_field("lead", "name")
    assert crm.revision() == 1


def test_the_diff_names_archive_restore_and_purge() -> None:
    field = {"id": "fld_aaaaaaaaaaaa", "api_name": "score", "label": "Score", "type": "integer"}
    live = {"id": "obj_bbbbbbbbbbbb", "api_name": "lead", "label": "Lead", "fields": [field]}
    entry = {"field": field, "column": "zz_archived_aaaaaaaaaaaa", "archived_at": "2026-01-01T00:00:00+00:00"}
    archived = {**live, "fields": [], "archived_fields": [entry]}
    gone = {**live, "fields": [], "archived_fields": []}
    step = {"object": "lead", "field": "score", "column": entry["column"]}
    assert diff_objects([live], [archived]) == [{"op": "archive_field", **step}]
    assert diff_objects([archived], [live]) == [{"op": "restore_field", **step}]
    assert diff_objects([archived], [gone]) == [{"op": "purge_field", **step, "type": "integer"}]


OPERATIONS = st.lists(st.tuples(st.sampled_from(["add", "rename", "archive", "restore", "convert"]),
                                st.integers(0, 5)), max_size=8)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=OPERATIONS, values=st.lists(st.integers(-10**6, 10**6) | st.none(), min_size=1, max_size=4))
def test_no_sequence_of_steps_loses_a_value(crm: Crm, steps: list[tuple[str, int]], values: list) -> None:
    """After every step, each value written is live under its field's current name (converted, if its
    type changed) or in an archive column exactly as it was."""
    name = f"box_{len(crm.runtime.objects)}"
    crm.create({"api_name": name, "label": "Box", "fields": [
        {"api_name": "f0", "label": "F0", "type": "integer"}]})
    ids = [crm.records.create(name, {"f0": v})["id"] for v in values]
    expected = {crm.runtime.objects[name].field("f0").id: values}
    for counter, (op, pick) in enumerate(steps, start=1):
        doc = crm.editor().object(name)
        live, archived = doc["fields"], doc.get("archived_fields", [])
        if op == "add":
            crm.editor().add_field(name, {"api_name": f"f{counter}", "label": "F", "type": "integer"})
            expected[crm.editor().object(name)["fields"][-1]["id"]] = [None] * len(ids)
        elif op == "rename" and live:
            crm.editor().update_field(name, live[pick % len(live)]["api_name"], {"api_name": f"f{counter}"})
        elif op == "archive" and live:
            crm.editor().archive_field(name, live[pick % len(live)]["api_name"])
        elif op == "restore" and archived:
            entry = archived[pick % len(archived)]
            if any(f["api_name"] == entry["field"]["api_name"] for f in live):
                continue
            crm.editor().restore_field(name, entry["field"]["id"])
        elif op == "convert" and live:
            field = live[pick % len(live)]
            to_text = field["type"] == "integer"
            editor = crm.platform.editor(crm.runtime, crm.actor, migration=Migration(keep_unconvertible=True))
            editor.update_field(name, field["api_name"], {"type": "text" if to_text else "integer"})
            [copy] = [e for e in crm.editor().object(name)["archived_fields"] if e["field"]["id"] not in
                      {a["field"]["id"] for a in archived}]
            expected[copy["field"]["id"]] = expected[field["id"]]
            expected[field["id"]] = [None if v is None else (str(v) if to_text else int(v))
                                     for v in expected[field["id"]]]
        assert_every_value_kept(crm, name, expected)


def assert_every_value_kept(crm: Crm, name: str, expected: dict[str, list]) -> None:
    doc = crm.editor().object(name)
    columns = {f["id"]: f["api_name"] for f in doc["fields"]}
    columns |= {e["field"]["id"]: e["column"] for e in doc.get("archived_fields", [])}
    for field_id, wanted in expected.items():
        stored = [row[0] for row in crm.sql(f"SELECT {columns[field_id]} FROM {{t}}{name} ORDER BY id")]
        assert stored == wanted
