"""Field history of tracked fields: written with each change through the record service, both backends."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from crm_kit import ACCOUNT, DEAL, Crm

from trellis.platform.errors import InvalidInput, NotFound
from trellis.platform.records.history import field_history
from trellis.platform.records.service import RecordService
from trellis.tenants.backup import archive_contents, backup_tenant, restore_tenant


def _tracked_deal() -> dict:
    deal = copy.deepcopy(DEAL)
    for field in deal["fields"]:
        if field["api_name"] in ("stage", "amount", "tags", "closed_at", "account"):
            field["tracked"] = True
    return deal


@pytest.fixture
def tracked(crm: Crm) -> Crm:
    crm.create(ACCOUNT, _tracked_deal())
    return crm


def _changes(crm: Crm, record_id: int, **options) -> list[tuple[str, object, object]]:
    page = field_history(crm.records, "deal", record_id, **options)
    return [(entry["field"], entry["old"], entry["new"]) for entry in page.entries]


def test_each_change_of_a_tracked_field_is_recorded_newest_first(tracked: Crm) -> None:
    records = tracked.records
    acme = records.create("account", {"name": "Acme"})["id"]
    deal = records.create("deal", {"name": "Big", "account": acme, "amount": "100", "notes": "untracked"})
    records.update("deal", deal["id"], {"amount": "250.5", "stage": "won", "notes": "changed, not tracked"})
    records.update("deal", deal["id"], {"amount": "250.50", "tags": ["vip"], "closed_at": "2026-03-04T05:06:07Z"})
    assert _changes(tracked, deal["id"]) == [
        ("closed_at", None, "2026-03-04T05:06:07+00:00"), ("tags", None, ["vip"]),  # 250.5 = 250.50: no change
        ("amount", "100", "250.5"), ("stage", "new", "won"),
        ("amount", None, "100"), ("stage", None, "new"), ("account", None, acme)]
    entry = field_history(records, "deal", deal["id"]).entries[0]
    assert entry["changed_by"] == 7 and entry["changed_at"].tzinfo is not None


def test_history_pages_with_before(tracked: Crm) -> None:
    records = tracked.records
    acme = records.create("account", {"name": "Acme"})["id"]
    deal = records.create("deal", {"name": "Paged", "account": acme})
    for amount in range(1, 6):
        records.update("deal", deal["id"], {"amount": str(amount)})
    first = field_history(records, "deal", deal["id"], limit=2)
    second = field_history(records, "deal", deal["id"], limit=2, before=first.next_before)
    assert [e["new"] for e in first.entries + second.entries] == ["5", "4", "3", "2"]
    with pytest.raises(InvalidInput):
        field_history(records, "deal", deal["id"], limit=0)


def test_a_failed_write_leaves_no_history_and_a_deleted_record_takes_its_history(tracked: Crm) -> None:
    records = tracked.records
    acme = records.create("account", {"name": "Acme"})["id"]
    deal = records.create("deal", {"name": "Doomed", "account": acme, "amount": "5"})
    with pytest.raises(InvalidInput):
        records.update("deal", deal["id"], {"amount": "6", "seats": "many"})
    assert [c for c in _changes(tracked, deal["id"]) if c[0] == "amount"] == [("amount", None, "5")]
    records.delete("deal", deal["id"])
    with pytest.raises(NotFound):
        field_history(records, "deal", deal["id"])
    assert tracked.sql("SELECT count(*) FROM " + tracked.qualified("trellis_field_history")
                       + " WHERE record_id = :id", id=deal["id"])[0][0] == 0


def test_hidden_fields_history_is_not_shown(tracked: Crm, monkeypatch: pytest.MonkeyPatch) -> None:
    records = tracked.records
    acme = records.create("account", {"name": "Acme"})["id"]
    deal = records.create("deal", {"name": "Secret", "account": acme, "amount": "9"})
    monkeypatch.setattr(RecordService, "readable_fields",
                        lambda self, name: [f.api_name for f in self.runtime.object(name).fields
                                            if f.api_name != "amount"])
    assert {field for field, _, _ in _changes(tracked, deal["id"])} == {"stage", "account"}


def test_formulas_and_rollups_cannot_be_tracked(tracked: Crm) -> None:
    for field in ({"api_name": "double", "label": "Double", "type": "formula", "expression": "amount * 2",
                   "tracked": True},):
        with pytest.raises(InvalidInput) as caught:
            tracked.editor().add_field("deal", field)
        assert any("tracked" in p.field for p in caught.value.problems), caught.value.problems


def test_backups_carry_the_field_history(tracked: Crm, tmp_path: Path) -> None:
    records = tracked.records
    acme = records.create("account", {"name": "Acme"})["id"]
    deal = records.create("deal", {"name": "Kept", "account": acme, "amount": "1"})
    records.update("deal", deal["id"], {"amount": "2"})
    backup_tenant(tracked.platform, tracked.slug, tmp_path / "backup.zip")
    saved = archive_contents(tmp_path / "backup.zip")["field_history"]
    assert [(row["field"], row["new_value"]) for row in saved if row["field"] == "amount"] == [
        ("amount", '"1"'), ("amount", '"2"')]
    copy_slug = tracked.slug + "-copy"
    restore_tenant(tracked.platform, tmp_path / "backup.zip", copy_slug)
    restored = Crm(tracked.platform, copy_slug, tracked.actor)
    assert _changes(restored, deal["id"]) == _changes(tracked, deal["id"])
