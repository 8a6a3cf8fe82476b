"""Changing a field's type, making fields required or unique, retiring picklist values: planned first.

An admin sees what a change will do to the data before it happens (dry run),
an unsafe change is refused with the values that would not survive and leaves
the tables and data exactly as they were, and a type change converts through a
new column while the old values stay archived and restorable.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from crm_kit import Crm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from trellis.metadata.conversions import converter
from trellis.metadata.model import FieldDef
from trellis.platform.errors import Conflict, InvalidInput, NotFound
from trellis.platform.storage.plan import Migration

LEAD = {"api_name": "lead", "label": "Lead", "fields": [
    {"api_name": "name", "label": "Name", "type": "text"},
    {"api_name": "phone", "label": "Phone", "type": "text"},
    {"api_name": "budget", "label": "Budget", "type": "decimal"},
    {"api_name": "rating", "label": "Rating", "type": "picklist", "values": [
        {"value": "hot", "label": "Hot"}, {"value": "warm", "label": "Warm"}, {"value": "cold", "label": "Cold"}]},
]}


def state(crm: Crm) -> tuple:
    """Everything an admin could notice: tables, columns, revision and every stored value."""
    columns = tuple(sorted(crm.columns("lead")))
    rows = crm.sql(f"SELECT {', '.join(columns)} FROM {{t}}lead ORDER BY id")
    return crm.tables(), columns, crm.revision(), rows


@pytest.fixture
def leads(crm: Crm) -> Crm:
    crm.create(LEAD)
    for name, phone, budget, rating in [("Ada", "42", "10.50", "hot"), ("Bob", " 7 ", None, "warm"),
                                        ("Cy", None, "3", "cold"), ("Di", "n/a", "99.99", None)]:
        crm.records.create("lead", {"name": name, "phone": phone, "budget": budget, "rating": rating})
    return crm


def test_a_dry_run_reports_the_values_that_would_not_convert_and_changes_nothing(leads: Crm) -> None:
    before = state(leads)
    editor = leads.platform.editor(leads.runtime, leads.actor, dry_run=True)
    assert editor.update_field("lead", "phone", {"type": "integer"}) == before[2]
    plan = editor.last_plan.as_dict()
    [step] = plan["steps"]
    assert plan["safe"] is False and step["op"] == "convert_field" and step["rows"] == 4
    assert step["samples"] == [{"id": 4, "value": "n/a", "reason": "'n/a' is not a number."}]
    assert "1 values of phone cannot become an integer (first 1: 'n/a')" in step["blocking"][0]
    assert state(leads) == before


def test_a_refused_type_change_carries_its_impact_and_is_not_half_applied(leads: Crm) -> None:
    before = state(leads)
    with pytest.raises(Conflict) as error:
        leads.editor().update_field("lead", "phone", {"type": "integer"})
    assert "keep_unconvertible" in error.value.detail
    assert error.value.extra["plan"]["steps"][0]["samples"][0]["value"] == "n/a"
    assert state(leads) == before


def test_a_type_change_converts_through_a_new_column_and_archives_the_originals(leads: Crm) -> None:
    editor = leads.platform.editor(leads.runtime, leads.actor, migration=Migration(keep_unconvertible=True))
    editor.update_field("lead", "phone", {"type": "integer"})
    phones = {r["name"]: r["phone"] for r in leads.records.list("lead").records}
    assert phones == {"Ada": 42, "Bob": 7, "Cy": None, "Di": None}
    [archived] = leads.editor().archived_fields("lead")
    assert archived["field"]["type"] == "text" and archived["replaced_by"] == leads.runtime.object("lead").field(
        "phone").id
    originals = leads.sql(f"SELECT {archived['column']} FROM {{t}}lead ORDER BY id")
    assert [r[0] for r in originals] == ["42", " 7 ", None, "n/a"]
    # The originals come back under another name: rename the converted field, restore the archive.
    leads.editor().update_field("lead", "phone", {"api_name": "phone_number"})
    leads.editor().restore_field("lead", archived["field"]["id"])
    back = {r["name"]: (r["phone"], r["phone_number"]) for r in leads.records.list("lead").records}
    assert back["Di"] == ("n/a", None) and back["Ada"] == ("42", 42)


def test_numbers_become_text_exactly(leads: Crm) -> None:
    leads.editor().update_field("lead", "budget", {"type": "text"})
    budgets = {r["name"]: r["budget"] for r in leads.records.list("lead").records}
    assert budgets == {"Ada": "10.50", "Bob": None, "Cy": "3.00", "Di": "99.99"}


def test_text_becomes_a_picklist_and_unknown_values_are_named(leads: Crm) -> None:
    values = [{"value": "42", "label": "Forty-two"}, {"value": "7", "label": "Seven"}]
    with pytest.raises(Conflict) as error:
        leads.editor().update_field("lead", "phone", {"type": "picklist", "values": values})
    assert [s["value"] for s in error.value.extra["plan"]["steps"][0]["samples"]] == ["n/a"]


def test_becoming_required_names_the_empty_records_and_can_fill_them(leads: Crm) -> None:
    with pytest.raises(Conflict, match="1 records have no budget, which is becoming required"):
        leads.editor().update_field("lead", "budget", {"required": True})
    editor = leads.platform.editor(leads.runtime, leads.actor, migration=Migration(fill="0"))
    editor.update_field("lead", "budget", {"required": True})
    assert "1 records without budget are filled with '0'." in editor.last_plan.steps[0].notes
    budgets = {r["name"]: r["budget"] for r in leads.records.list("lead").records}
    assert budgets["Bob"] == 0 and budgets["Ada"] == 10.5


def test_a_fill_value_of_the_wrong_type_is_refused(leads: Crm) -> None:
    before = state(leads)
    editor = leads.platform.editor(leads.runtime, leads.actor, migration=Migration(fill="lots"))
    with pytest.raises(Conflict) as error:
        editor.update_field("lead", "budget", {"required": True})
    assert any(p.field == "$.migration.fill" for p in error.value.problems)
    assert state(leads) == before


def test_duplicates_blocking_uniqueness_are_listed(leads: Crm) -> None:
    leads.records.create("lead", {"name": "Ada"})
    with pytest.raises(Conflict) as error:
        leads.editor().update_field("lead", "name", {"unique": True})
    assert error.value.extra["plan"]["steps"][0]["samples"] == [{"value": "Ada", "count": 2}]


def test_picklist_values_are_renamed_in_the_rows_and_retired_ones_stay_readable(leads: Crm) -> None:
    values = [{"value": "hot", "label": "Hot"}, {"value": "lukewarm", "label": "Lukewarm"}]
    editor = leads.platform.editor(leads.runtime, leads.actor, migration=Migration(value_map={"warm": "lukewarm"}))
    editor.update_field("lead", "rating", {"values": values})
    notes = editor.last_plan.steps[0].notes
    assert "1 records change from 'warm' to 'lukewarm'." in notes
    assert "1 records keep the retired value 'cold': still shown, no longer offered." in notes
    ratings = {r["name"]: r["rating"] for r in leads.records.list("lead").records}
    assert ratings == {"Ada": "hot", "Bob": "lukewarm", "Cy": "cold", "Di": None}


def test_a_mapping_to_an_unknown_value_is_refused(leads: Crm) -> None:
    values = [{"value": "hot", "label": "Hot"}]
    editor = leads.platform.editor(leads.runtime, leads.actor, migration=Migration(value_map={"warm": "tepid"}))
    with pytest.raises(Conflict, match="'warm' is mapped to 'tepid'"):
        editor.update_field("lead", "rating", {"values": values})


def test_a_larger_precision_converts_and_keeps_every_digit(leads: Crm) -> None:
    leads.editor().update_field("lead", "budget", {"precision": 20, "scale": 4})
    record = leads.records.list("lead").records[0]
    assert Decimal(str(record["budget"])) == Decimal("10.5")
    assert leads.editor().archived_fields("lead")[0]["field"].get("precision") is None


def test_rollback_is_a_new_revision_that_archives_what_came_after(leads: Crm) -> None:
    start = leads.revision()
    leads.editor().add_field("lead", {"api_name": "city", "label": "City", "type": "text"})
    leads.records.create("lead", {"name": "Eve", "city": "Oslo"})
    leads.editor().update_field("lead", "name", {"api_name": "full_name"})
    leads.editor().archive_field("lead", "rating")
    assert sorted(c["op"] for c in leads.editor().diff(start, leads.revision())) == [
        "add_field", "archive_field", "rename_field"]
    number = leads.editor().rollback(start)
    assert number == start + 4 and leads.history()[0].summary == f"Rolled back to revision {start}"
    eve = next(r for r in leads.records.list("lead").records if r["name"] == "Eve")
    assert eve["rating"] is None and "city" not in eve
    assert {r["name"]: r["rating"] for r in leads.records.list("lead").records}["Ada"] == "hot"
    [city] = leads.editor().archived_fields("lead")
    assert city["field"]["api_name"] == "city"
    assert leads.sql(f"SELECT {city['column']} FROM {{t}}lead WHERE name = 'Eve'") == [("Oslo",)]


def test_rollback_past_a_type_change_converts_back_and_keeps_both(leads: Crm) -> None:
    start = leads.revision()
    leads.editor().update_field("lead", "budget", {"type": "text"})
    leads.records.create("lead", {"name": "Fay", "budget": "plenty"})
    with pytest.raises(Conflict, match="plenty"):
        leads.editor().rollback(start)
    editor = leads.platform.editor(leads.runtime, leads.actor, migration=Migration(keep_unconvertible=True))
    editor.rollback(start)
    budgets = {r["name"]: r["budget"] for r in leads.records.list("lead").records}
    assert budgets["Ada"] == 10.5 and budgets["Fay"] is None
    texts = [e for e in leads.editor().archived_fields("lead") if e["field"]["type"] == "text"]
    assert any(leads.sql(f"SELECT {e['column']} FROM {{t}}lead WHERE name = 'Fay'") == [("plenty",)] for e in texts)


def test_rollback_past_an_objects_creation_is_refused(leads: Crm) -> None:
    start = leads.revision()
    leads.create({"api_name": "task", "label": "Task", "fields": [{"api_name": "title", "label": "T", "type": "text"}]})
    with pytest.raises(InvalidInput, match="revision"):
        leads.editor().rollback(start)
    with pytest.raises(NotFound):
        leads.editor().rollback(999)


NUMBERISH = st.lists(st.one_of(
    st.from_regex(r"\A[ \t]?[+-]?[0-9]{1,20}(\.[0-9]{1,4})?[ \n]?\Z", fullmatch=True),
    st.sampled_from(["1,000", "1e3", "\u00a012", "٣", "0x1F", "-0", "+007.50", "99999999999999999999", " "]),
    st.text(max_size=6)), min_size=1, max_size=12)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=NUMBERISH, target=st.sampled_from([{"type": "integer"}, {"type": "decimal"},
                                                {"type": "currency", "precision": 6, "scale": 1}]))
def test_the_database_converts_plain_numbers_exactly_as_the_converter(crm: Crm, texts: list[str],
                                                                      target: dict) -> None:
    """On PostgreSQL plain numbers are converted by SQL, the rest in Python: the answers must be the converter's."""
    name = f"num_{len(crm.runtime.objects)}"
    crm.create({"api_name": name, "label": "N", "fields": [{"api_name": "raw", "label": "Raw", "type": "text"}]})
    texts = [t.replace("\x00", "") for t in texts]
    for text in texts:
        crm.records.create(name, {"raw": text})
    old = crm.runtime.object(name).field("raw")
    new = FieldDef.from_document({"id": old.id, "api_name": "raw", "label": "Raw", **target})
    expected = []
    for text in texts:
        try:
            expected.append(converter(old, new)(text))
        except ValidationError:
            expected.append(None)
    editor = crm.platform.editor(crm.runtime, crm.actor, migration=Migration(keep_unconvertible=True))
    editor.update_field(name, "raw", target)
    stored = [row[0] for row in crm.sql(f"SELECT raw FROM {{t}}{name} ORDER BY id")]
    assert [None if v is None else Decimal(str(v)) for v in stored] == [None if v is None else Decimal(v)
                                                                        for v in expected]


def test_an_archived_object_keeps_its_records_and_comes_back_whole(leads: Crm) -> None:
    lead_id = leads.runtime.object("lead").id
    leads.editor().archive_object("lead")
    assert "lead" not in leads.runtime.objects and "lead" not in leads.tables()
    [archived] = leads.editor().archived_objects()
    assert archived["archived"]["table"] in leads.tables()
    # the name is free again: a new lead object can be made, and restoring waits for it to go
    leads.create({"api_name": "lead", "label": "Lead", "fields": [{"api_name": "title", "label": "T", "type": "text"}]})
    with pytest.raises(InvalidInput):
        leads.editor().restore_object(lead_id)
    leads.editor().archive_object("lead")
    leads.editor().restore_object(lead_id)
    names = sorted(r["name"] for r in leads.records.list("lead").records)
    assert names == ["Ada", "Bob", "Cy", "Di"]
    assert len(leads.editor().archived_objects()) == 1  # the second lead object, still archived
    leads.records.create("lead", {"name": "Eve"})  # ids, indexes and counters work after the round trip


def test_a_looked_up_object_is_archived_only_after_its_lookups(leads: Crm) -> None:
    leads.create({"api_name": "task", "label": "Task", "fields": [
        {"api_name": "lead", "label": "Lead", "type": "lookup", "target": "lead"}]})
    with pytest.raises(InvalidInput, match="Other objects look up lead"):
        leads.editor().archive_object("lead")
    leads.editor().archive_field("task", "lead")
    leads.editor().archive_object("lead")
    with pytest.raises(Conflict, match="still refers to the archived lead"):
        leads.editor().purge_object("lead")


def test_purging_an_archived_object_drops_its_table(leads: Crm) -> None:
    leads.editor().archive_object("lead")
    table = leads.editor().archived_objects()[0]["archived"]["table"]
    leads.editor().purge_object("lead")
    assert table not in leads.tables() and leads.editor().archived_objects() == []


def test_values_inside_multi_picklists_are_renamed_too(crm: Crm) -> None:
    values = [{"value": v, "label": v} for v in ("red", "green", "blue")]
    crm.create({"api_name": "box", "label": "Box", "fields": [
        {"api_name": "colors", "label": "Colors", "type": "multi_picklist", "values": values}]})
    for chosen in (["red", "blue"], ["blue"], ["green", "red"], []):
        crm.records.create("box", {"colors": chosen})
    editor = crm.platform.editor(crm.runtime, crm.actor, migration=Migration(value_map={"red": "blue"}))
    editor.update_field("box", "colors", {"values": values[1:]})
    assert "2 records change from 'red' to 'blue'." in editor.last_plan.steps[0].notes
    assert [r["colors"] for r in crm.records.list("box").records] == [["blue"], ["blue"], ["green", "blue"], []]


def test_archived_is_not_a_setting_an_object_is_created_or_changed_with(leads: Crm) -> None:
    archived = {"table": "zz_archived_abcdef123456", "archived_at": "2026-01-01T00:00:00+00:00"}
    with pytest.raises(InvalidInput) as error:
        leads.editor().create_object({"api_name": "ghost", "label": "Ghost", "fields": [], "archived": archived})
    assert [p.field for p in error.value.problems] == ["$.archived"]
    with pytest.raises(InvalidInput):
        leads.editor().update_object("lead", {"archived": archived})
