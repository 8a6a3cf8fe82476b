"""Changing metadata (both backends): validate → diff → DDL + revision, all or nothing.

Every refusal is checked twice: the admin hears what is wrong, and nothing changed —
no table or column, no revision.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from crm_kit import ACCOUNT, Crm
from sqlalchemy.exc import DBAPIError

from trellis.metadata.diff import diff_objects
from trellis.platform import revisions
from trellis.platform.errors import Conflict, InvalidInput, NotFound
from trellis.platform.storage import system
from trellis.platform.storage.migrate import check_supported

LEAD = {"api_name": "lead", "label": "Lead", "fields": [{"api_name": "name", "label": "Name", "type": "text"}]}


def problems(error: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.field: p.message for p in error.value.problems}


def snapshot(crm: Crm, table: str) -> tuple:
    """What an admin could notice: the tables, the table's columns, the revision number."""
    columns = tuple(crm.columns(table)) if table in crm.tables() else ()
    return crm.tables(), columns, crm.revision()


def test_an_invalid_object_writes_nothing(crm: Crm) -> None:
    before = snapshot(crm, "deal")
    bad = {"api_name": "deal", "label": "Deal", "fields": [
        {"api_name": "Deal Name", "label": "Deal name", "type": "text"},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
    ]}
    with pytest.raises(InvalidInput) as error:
        crm.editor().create_object(bad)
    assert error.value.status == 422
    assert set(problems(error)) == {"$.fields[0].api_name", "$.fields[1].target"}
    platform_tables = {table.name for table in system.platform_tables(None)}
    assert snapshot(crm, "deal") == before == (platform_tables, (), 0)


def test_an_invalid_field_writes_nothing(crm: Crm) -> None:
    crm.create(LEAD)
    before = snapshot(crm, "lead")
    with pytest.raises(InvalidInput) as error:
        crm.editor().add_field("lead", {"api_name": "name", "label": "Name", "type": "text"})
    assert "already has the API name 'name'" in problems(error)["$.api_name"]
    with pytest.raises(InvalidInput) as error:
        crm.editor().add_field("lead", {"api_name": "stage", "label": "Stage", "type": "picklist"})
    assert "values is missing" in problems(error)["$.values"]
    assert snapshot(crm, "lead") == before


def test_a_second_object_with_a_taken_name_is_refused(crm: Crm) -> None:
    crm.create(LEAD)
    with pytest.raises(InvalidInput) as error:
        crm.editor().create_object(dict(LEAD))
    assert "Another object already has the API name 'lead'" in problems(error)["$.api_name"]
    assert crm.revision() == 1


def test_unknown_objects_and_fields_are_not_found(crm: Crm) -> None:
    with pytest.raises(NotFound, match="no object 'ghost'"):
        crm.editor().add_field("ghost", {"api_name": "x", "label": "X", "type": "text"})
    crm.create(LEAD)
    with pytest.raises(NotFound, match="no field 'ghost' on lead"):
        crm.editor().update_field("lead", "ghost", {"label": "Boo"})


def test_a_required_field_without_default_is_refused_on_an_object_with_records(crm: Crm) -> None:
    crm.create(LEAD)
    crm.records.create("lead", {"name": "Ada"})
    crm.records.create("lead", {"name": "Grace"})
    before = snapshot(crm, "lead")
    with pytest.raises(Conflict) as error:
        crm.editor().add_field("lead", {"api_name": "region", "label": "Region", "type": "text", "required": True})
    assert error.value.status == 409
    assert "would have no region; give it a default" in error.value.detail
    assert "2 existing records would have no region" in problems(error)["default"]
    assert snapshot(crm, "lead") == before


def test_a_required_field_is_fine_on_an_empty_object_and_then_enforced(crm: Crm) -> None:
    crm.create(LEAD)
    crm.editor().add_field("lead", {"api_name": "region", "label": "Region", "type": "text", "required": True})
    assert "region" in crm.columns("lead")
    with pytest.raises(InvalidInput) as error:
        crm.records.create("lead", {"name": "Ada"})
    assert problems(error) == {"region": "Region is required."}


def test_a_default_backfills_existing_records(crm: Crm) -> None:
    crm.create(LEAD)
    ids = [crm.records.create("lead", {"name": name})["id"] for name in ("Ada", "Grace")]
    editor = crm.editor
    editor().add_field("lead", {"api_name": "region", "label": "Region", "type": "text", "required": True,
                                "default": "EMEA"})
    editor().add_field("lead", {"api_name": "score", "label": "Score", "type": "integer", "default": 5})
    editor().add_field("lead", {"api_name": "budget", "label": "Budget", "type": "currency", "default": 99.5})
    editor().add_field("lead", {"api_name": "active", "label": "Active", "type": "boolean", "default": True})
    editor().add_field("lead", {"api_name": "seen_at", "label": "Seen", "type": "datetime",
                                "default": "2024-01-01T10:00:00+02:00"})
    editor().add_field("lead", {"api_name": "tags", "label": "Tags", "type": "multi_picklist", "default": ["a"],
                                "values": [{"value": "a", "label": "A"}]})
    for record_id in ids:
        record = crm.records.get("lead", record_id)
        assert (record["region"], record["score"], record["budget"], record["active"], record["tags"]) == (
            "EMEA", 5, 99.5, True, ["a"])
        assert datetime.fromisoformat(record["seen_at"]) == datetime(2024, 1, 1, 8, tzinfo=UTC)
    if crm.schema:  # PostgreSQL makes the backfilled column NOT NULL; SQLite cannot alter it in place
        assert crm.columns("lead")["region"]["nullable"] is False
    assert crm.records.create("lead", {"name": "Linus"})["region"] == "EMEA", "new records get the default too"


def test_a_unique_field_cannot_fill_several_records_with_one_default(crm: Crm) -> None:
    crm.create(LEAD)
    crm.records.create("lead", {"name": "Ada"})
    crm.records.create("lead", {"name": "Grace"})
    before = snapshot(crm, "lead")
    with pytest.raises(Conflict, match="would share the default"):
        crm.editor().add_field("lead", {"api_name": "code", "label": "Code", "type": "text", "unique": True,
                                        "default": "X"})
    assert snapshot(crm, "lead") == before


def test_making_a_field_required_checks_the_data_first(crm: Crm) -> None:
    crm.create({**LEAD, "fields": [*LEAD["fields"], {"api_name": "city", "label": "City", "type": "text"}]})
    lead = crm.records.create("lead", {"name": "Ada"})
    before = snapshot(crm, "lead")
    with pytest.raises(Conflict) as error:
        crm.editor().update_field("lead", "city", {"required": True})
    assert problems(error) == {"required": '1 records have no city, which is becoming required; fill them in '
                                                  'first, or send "migration": {"fill": <value>}.'}
    assert snapshot(crm, "lead") == before
    crm.records.update("lead", lead["id"], {"city": "London"})
    crm.editor().update_field("lead", "city", {"required": True})
    with pytest.raises(InvalidInput):
        crm.records.create("lead", {"name": "Grace"})


def test_making_a_field_unique_checks_for_duplicates_then_adds_the_index(crm: Crm) -> None:
    crm.create(LEAD)
    crm.records.create("lead", {"name": "Ada"})
    second = crm.records.create("lead", {"name": "Ada"})
    with pytest.raises(Conflict) as error:
        crm.editor().update_field("lead", "name", {"unique": True})
    assert "'Ada'" in problems(error)["unique"]
    assert crm.revision() == 1
    crm.records.update("lead", second["id"], {"name": "Grace"})
    crm.editor().update_field("lead", "name", {"unique": True})
    indexes = {ix["name"]: ix["unique"] for ix in crm.inspector().get_indexes("lead", schema=crm.schema)}
    assert bool(indexes["uq_lead_name"]) is True
    with pytest.raises(Conflict):
        crm.records.create("lead", {"name": "Grace"})


def test_switching_an_index_on_and_off(crm: Crm) -> None:
    crm.create(LEAD)

    def indexed() -> set[str]:
        return {ix["name"] for ix in crm.inspector().get_indexes("lead", schema=crm.schema)}

    crm.editor().update_field("lead", "name", {"indexed": True})
    assert "ix_lead_name" in indexed()
    crm.editor().update_field("lead", "name", {"indexed": False})
    assert "ix_lead_name" not in indexed()


def test_display_changes_need_no_ddl_and_are_recorded(crm: Crm) -> None:
    crm.create(LEAD)
    columns = crm.columns("lead")
    crm.editor().update_object("lead", {"label": {"en": "Lead", "fr": "Piste"}, "description": "Prospects"})
    crm.editor().update_field("lead", "name", {"label": "Full name", "help_text": "As on their card."})
    assert crm.columns("lead").keys() == columns.keys()
    assert crm.runtime.object("lead").title("fr") == "Piste"
    assert crm.runtime.object("lead").field("name").title("en") == "Full name"
    assert crm.revision() == 3


def test_saving_without_a_change_makes_no_revision(crm: Crm) -> None:
    crm.create(LEAD)
    assert crm.editor().update_field("lead", "name", {"label": "Name"}) == 1
    assert crm.revision() == 1


def test_a_lookup_cannot_change_its_type(crm: Crm) -> None:
    crm.create(ACCOUNT)
    crm.create({**LEAD, "fields": [*LEAD["fields"], {"api_name": "account", "label": "Account", "type": "lookup",
                                                     "target": "account"}]})
    before = snapshot(crm, "lead")
    with pytest.raises(Conflict) as error:
        crm.editor().update_field("lead", "account", {"type": "integer"})
    assert "create a new field of the type you want" in problems(error)["type"]
    assert snapshot(crm, "lead") == before


def test_objects_cannot_have_fields_replaced_wholesale(crm: Crm) -> None:
    """(Renaming an object is tested in test_schema_evolution.)"""
    crm.create(LEAD)
    with pytest.raises(InvalidInput, match="one by one"):
        crm.editor().update_object("lead", {"fields": []})
    assert crm.tables() >= {"lead"} and crm.revision() == 1


def test_removing_a_field_or_object_is_refused_before_any_ddl(crm: Crm) -> None:
    """A field that simply vanishes would drop data: it must be archived instead (test_schema_evolution)."""
    crm.create(LEAD)
    old = crm.runtime.revision.documents
    without_field = [{**old[0], "fields": []}]
    with pytest.raises(InvalidInput) as error:
        check_supported(diff_objects(old, without_field))
    assert "archive lead.name instead" in problems(error)["lead.name"]
    with pytest.raises(InvalidInput, match="cannot be applied"):
        check_supported(diff_objects(old, []))


def test_a_failing_ddl_statement_leaves_no_table_and_no_revision(crm: Crm) -> None:
    """The table is created, then its index clashes with a stray index: all of it rolls back."""
    crm.sql("CREATE TABLE {t}stray (x integer)")
    crm.sql("CREATE INDEX ix_deal_name ON {t}stray (x)")
    with pytest.raises(DBAPIError):
        crm.editor().create_object({"api_name": "deal", "label": "Deal", "fields": [
            {"api_name": "name", "label": "Name", "type": "text", "indexed": True}]})
    assert "deal" not in crm.tables()
    assert crm.revision() == 0


def test_a_failing_add_field_leaves_no_column_and_no_revision(crm: Crm) -> None:
    crm.create(LEAD)
    crm.records.create("lead", {"name": "Ada"})
    crm.sql("CREATE TABLE {t}stray (x integer)")
    crm.sql("CREATE INDEX ix_lead_city ON {t}stray (x)")
    before = snapshot(crm, "lead")
    with pytest.raises(DBAPIError):
        crm.editor().add_field("lead", {"api_name": "city", "label": "City", "type": "text", "default": "Paris",
                                        "indexed": True})
    assert snapshot(crm, "lead") == before
    assert crm.sql("SELECT name FROM {t}lead") == [("Ada",)]


def test_a_revision_that_cannot_be_written_takes_its_ddl_with_it(crm: Crm, monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(revisions, "append", fail)
    with pytest.raises(RuntimeError):
        crm.editor().create_object(dict(LEAD))
    assert "lead" not in crm.tables()


def test_two_admins_saving_from_the_same_revision(crm: Crm) -> None:
    crm.create(LEAD)
    first, second = crm.editor(), crm.editor()
    first.add_field("lead", {"api_name": "city", "label": "City", "type": "text"})
    with pytest.raises(Conflict, match="changed while you were editing"):
        second.add_field("lead", {"api_name": "phone", "label": "Phone", "type": "phone"})
    assert "phone" not in crm.columns("lead") and crm.revision() == 2


def test_lookups_may_point_at_earlier_objects_or_their_own(crm: Crm) -> None:
    crm.create(ACCOUNT)
    crm.editor().add_field("account", {"api_name": "parent", "label": "Parent", "type": "lookup",
                                       "target": "account"})
    crm.create({"api_name": "contact", "label": "Contact", "fields": [
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"}]})
    parent = crm.records.create("account", {"name": "Holding"})
    child = crm.records.create("account", {"name": "Subsidiary", "parent": parent["id"]})
    assert child["parent"] == parent["id"]
    foreign = {fk["constrained_columns"][0]: fk["referred_table"]
               for fk in crm.inspector().get_foreign_keys("account", schema=crm.schema)}
    assert foreign == {"parent": "account"}  # (SQLite's inspector does not read ON DELETE of an added column)
    crm.records.delete("account", parent["id"])
    assert crm.records.get("account", child["id"])["parent"] is None


def test_a_restricting_lookup_added_later_protects_existing_links(crm: Crm) -> None:
    crm.create(ACCOUNT, LEAD)
    account = crm.records.create("account", {"name": "Acme"})
    crm.editor().add_field("lead", {"api_name": "account", "label": "Account", "type": "lookup",
                                    "target": "account", "on_delete": "restrict"})
    crm.records.create("lead", {"name": "Ada", "account": account["id"]})
    with pytest.raises(Conflict, match="forbids deletion"):
        crm.records.delete("account", account["id"])
    assert crm.records.get("account", account["id"])
