"""``create_many``'s fast path (COPY with ids drawn from the sequence on PostgreSQL): every kind of value
stored as ``create`` stores it, ids in row order and never reused, clashes refused. Both backends."""

from __future__ import annotations

from decimal import Decimal

from crm_kit import Crm

from trellis.platform.automation.events import RecordEvent

GADGET = {"api_name": "gadget", "label": "Gadget", "name_field": "name", "fields": [
    {"api_name": "name", "label": "Name", "type": "text", "required": True},
    {"api_name": "code", "label": "Code", "type": "text", "unique": True},
    {"api_name": "colours", "label": "Colours", "type": "multi_picklist",
     "values": [{"value": v, "label": v.title()} for v in ("red", "blue", "green")]},
    {"api_name": "active", "label": "Active", "type": "boolean"},
    {"api_name": "price", "label": "Price", "type": "currency"},
    {"api_name": "since", "label": "Since", "type": "date"},
    {"api_name": "seen_at", "label": "Seen at", "type": "datetime"},
]}


def test_rows_are_stored_as_create_stores_them_with_ids_in_row_order(crm: Crm) -> None:
    crm.create(GADGET)
    first = crm.records.create("gadget", {"name": "Before"})["id"]
    rows = [{"name": f"G{i}", "code": f"C{i}", "colours": ["red", "green"] if i % 2 else [], "active": i % 2 == 0,
             "price": "12.50", "since": "2025-03-01",
             "seen_at": "2025-03-01T10:30:00Z"} for i in range(5)]
    results = crm.records.create_many("gadget", rows)
    assert [r.action for r in results] == ["created"] * 5
    ids = [r.id for r in results]
    assert len(set(ids)) == 5 and min(ids) > first
    for result, row in zip(results, rows, strict=True):
        stored = crm.records.get("gadget", result.id)
        assert (stored["name"], stored["code"], stored["colours"], stored["active"]) == (
            row["name"], row["code"], row["colours"], row["active"])
        assert (Decimal(str(stored["price"])), stored["since"], stored["seen_at"][:19]) == (
            Decimal("12.50"), "2025-03-01", "2025-03-01T10:30:00")
    after = crm.records.create("gadget", {"name": "After"})["id"]
    assert after > max(ids)


def test_unique_values_taken_before_or_earlier_in_the_batch_and_bad_values_are_refused_alone(crm: Crm) -> None:
    crm.create(GADGET)
    crm.records.create("gadget", {"name": "Stored", "code": "TAKEN"})
    results = crm.records.create_many("gadget", [
        {"name": "Clash with stored", "code": "TAKEN"},
        {"name": "First", "code": "NEW"},
        {"name": "Clash in batch", "code": "NEW"},
        {"name": "Bad colour", "colours": ["purple"]},
        {"name": "Fine"},
    ])
    assert [r.action for r in results] == ["rejected", "created", "rejected", "rejected", "created"]
    assert [p.field for p in results[0].problems + results[2].problems + results[3].problems] == [
        "code", "code", "colours"]
    names = sorted(r["name"] for r in crm.records.list("gadget").records)
    assert names == ["Fine", "First", "Stored"]


class Engine:
    """Stands for the automation engine: a listener whose owner says whether the object has rules."""

    def __init__(self, rules: list[str]) -> None:
        self._rules = rules
        self.heard: list[int] = []

    def listens_to(self, runtime: object, object_name: str) -> bool:
        return bool(self._rules)

    def record_changed(self, runtime: object, event: RecordEvent) -> None:
        self.heard.append(event.record_id)


def test_new_records_are_announced_to_an_engine_with_rules_and_only_then(crm: Crm) -> None:
    crm.create(GADGET)
    for rules in ([], ["welcome"]):
        engine, service = Engine(rules), crm.records
        service.events = engine.record_changed
        results = service.create_many("gadget", [{"name": "One"}, {"name": "Two"}])
        assert sorted(engine.heard) == (sorted(r.id for r in results) if rules else [])
