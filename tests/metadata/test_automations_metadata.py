"""Automation rules in object documents: each mistake is reported at its JSON path, saying how to mend it."""

from __future__ import annotations

import copy
from typing import Any

from trellis.metadata.validation import validate_object

TICKET: dict[str, Any] = {
    "api_name": "ticket", "label": "Ticket",
    "fields": [
        {"api_name": "subject", "label": "Subject", "type": "text"},
        {"api_name": "priority", "label": "Priority", "type": "picklist",
         "values": [{"value": "high", "label": "High"}, {"value": "low", "label": "Low"}]},
        {"api_name": "opened_on", "label": "Opened on", "type": "date"},
        {"api_name": "hits", "label": "Hits", "type": "integer"},
        {"api_name": "label", "label": "Label", "type": "formula", "expression": 'subject & "!"'},
    ],
}
TASK = {"api_name": "task", "label": "Task", "fields": [{"api_name": "title", "label": "Title", "type": "text"}]}


def _problems(*rules: dict[str, Any]) -> dict[str, str]:
    doc = {**copy.deepcopy(TICKET), "automations": list(rules)}
    return {p.path: p.message for p in validate_object(doc, known_objects={"task": TASK})}


def test_a_valid_rule_of_every_trigger_and_action_passes() -> None:
    assert _problems(
        {"name": "on_create", "trigger": {"on": "created"}, "condition": 'priority = "high"',
         "actions": [{"type": "create_record", "object": "task", "values": {"title": '"Call " & subject'}},
                     {"type": "webhook", "url": "https://hooks.example.com/t", "secret_ref": "CRM"},
                     {"type": "send_email", "to": '"ops@example.com"', "subject": "subject", "body": '"Hi"'}]},
        {"name": "stage_moved", "trigger": {"on": "field_changed", "fields": ["priority"]},
         "condition": 'ISCHANGED(priority) AND PRIORVALUE(priority) = "low"',
         "actions": [{"type": "update_fields", "values": {"hits": "hits + 1"}}]},
        {"name": "before_open", "trigger": {"on": "time", "field": "opened_on", "offset_days": -3},
         "actions": [{"type": "update_fields", "values": {"priority": '"high"'}}]},
        {"name": "nightly", "trigger": {"on": "schedule", "daily_at": "02:30"},
         "actions": [{"type": "webhook", "url": "http://localhost:9000/x"}]},
        {"name": "gone", "trigger": {"on": "deleted"},
         "actions": [{"type": "create_record", "object": "task", "values": {"title": "subject"}}]},
    ) == {}


def test_every_mistake_is_named_by_its_path() -> None:
    problems = _problems(
        {"name": "dup", "trigger": {"on": "field_changed", "fields": ["stage"]},
         "actions": [{"type": "update_fields", "values": {"hits": '"many"', "label": '"x"', "nope": "1"}}]},
        {"name": "dup", "trigger": {"on": "time", "field": "subject"}, "condition": "hits > ",
         "actions": [{"type": "create_record", "object": "ghost", "values": {"title": '"x"'}}]},
        {"name": "gone", "trigger": {"on": "deleted"}, "condition": "ISCHANGED(hits)",
         "actions": [{"type": "update_fields", "values": {"hits": "1"}}]},
    )
    assert set(problems) == {
        "$.automations[0].trigger.fields[0]", "$.automations[0].actions[0].values.hits",
        "$.automations[0].actions[0].values.label", "$.automations[0].actions[0].values.nope",
        "$.automations[1].name", "$.automations[1].trigger.field", "$.automations[1].condition",
        "$.automations[1].actions[0].object", "$.automations[2].condition", "$.automations[2].actions[0].type"}
    assert "'stage' is not a field of ticket" in problems["$.automations[0].trigger.fields[0]"]
    assert "number" in problems["$.automations[0].actions[0].values.hits"]
    assert "cannot be set by a rule" in problems["$.automations[0].actions[0].values.label"]
    assert "give each rule its own name" in problems["$.automations[1].name"]
    assert "not a date or date-time field" in problems["$.automations[1].trigger.field"]
    assert "position" in problems["$.automations[1].condition"]
    assert "There is no object 'ghost'" in problems["$.automations[1].actions[0].object"]
    assert "A deleted record cannot be updated" in problems["$.automations[2].actions[0].type"]


def test_the_shape_is_checked_by_the_schema_first() -> None:
    problems = _problems({"name": "x", "trigger": {"on": "sometimes"}, "actions": []},
                         {"name": "y", "trigger": {"on": "field_changed"},
                          "actions": [{"type": "webhook", "url": "ftp://nope"}]})
    assert {"$.automations[0].trigger.on", "$.automations[0].actions", "$.automations[1].trigger.fields",
            "$.automations[1].actions[0].url"} <= set(problems)


def test_a_schedule_needs_exactly_one_kind_of_slot() -> None:
    webhook = [{"type": "webhook", "url": "https://example.com/hook"}]
    both = _problems({"name": "s", "trigger": {"on": "schedule", "every_minutes": 5, "daily_at": "01:00"},
                      "actions": webhook})
    assert "exactly one of every_minutes" in both["$.automations[0].trigger"]
    assert _problems({"name": "s", "trigger": {"on": "schedule", "every_minutes": 5}, "actions": webhook}) == {}
