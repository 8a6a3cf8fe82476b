"""Automation rules at run time: which changes fire them, failures on the run log, limits, schedules, backups."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from automation_kit import TASK, TICKET, admin, automation_platform, drain

from trellis.platform.automation.scan import scan_tenant
from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor
from trellis.tenants.backup import backup_tenant, restore_tenant
from trellis.tenants.registry import create_tenant


def _note(prefix: str) -> dict[str, Any]:
    return {"type": "create_record", "object": "task", "values": {"title": f'"{prefix}: " & subject'}}


@pytest.fixture(scope="module")
def auto(settings: Settings) -> Iterator[Platform]:
    yield from automation_platform(settings)


@pytest.fixture
def actor(auto: Platform) -> Actor:
    return admin(auto)


def _tenant(auto: Platform, actor: Actor, *rules: dict[str, Any]) -> str:
    slug = f"r-{uuid.uuid4().hex[:12]}"
    create_tenant(auto, slug, "Rules")
    auto.editor(auto.runtime(slug), actor).create_object(TICKET)
    auto.editor(auto.runtime(slug), actor).create_object(TASK)
    auto.editor(auto.runtime(slug), actor).update_object("ticket", {"automations": list(rules)})
    return slug


def _titles(auto: Platform, slug: str) -> list[str]:
    records = auto.records(auto.runtime(slug), Actor(None)).list("task", ListQuery(limit=100)).records
    return sorted(task["title"] for task in records)


def test_field_changed_fires_on_a_change_of_its_field_only(auto: Platform, actor: Actor) -> None:
    slug = _tenant(auto, actor, {"name": "raised", "trigger": {"on": "field_changed", "fields": ["priority"]},
                                 "condition": 'PRIORVALUE(priority) = "low" AND priority = "high"',
                                 "actions": [_note("Raised")]},
                   {"name": "gone", "trigger": {"on": "deleted"}, "actions": [_note("Deleted")]})
    records = auto.records(auto.runtime(slug), actor)
    ticket = records.create("ticket", {"subject": "Slow", "priority": "low"})
    ticket = records.update("ticket", ticket["id"], {"subject": "Very slow"})  # priority unchanged: no run
    ticket = records.update("ticket", ticket["id"], {"priority": "high"})
    other = records.create("ticket", {"subject": "Noise", "priority": "normal"})
    records.update("ticket", other["id"], {"priority": "high"})  # changed, but not from low
    records.delete("ticket", other["id"])
    drain(auto, slug)
    assert _titles(auto, slug) == ["Deleted: Noise", "Raised: Very slow"]
    (run,) = auto.automation.runs(auto.runtime(slug), "ticket", "raised")
    assert (run["record_id"], run["trigger"], run["status"]) == (ticket["id"], "field_changed", "succeeded")


def test_an_action_failing_every_attempt_ends_failed_with_its_error(auto: Platform, actor: Actor) -> None:
    rule = {"name": "bad_task", "trigger": {"on": "created"},
            "actions": [{"type": "update_fields", "values": {"hits": "hits + 1"}},
                        {"type": "create_record", "object": "task", "values": {"title": "BLANK"}}]}
    slug = _tenant(auto, actor, rule)
    records = auto.records(auto.runtime(slug), actor)
    ticket = records.create("ticket", {"subject": "Broken"})
    drain(auto, slug)
    (run,) = auto.automation.runs(auto.runtime(slug), "ticket", "bad_task")
    assert (run["status"], run["attempts"], run["actions_done"]) == ("failed", 3, 1)
    assert "Title is required" in run["error"] and "Traceback" not in run["error"]
    # The first action ran once: later attempts started at the action that failed.
    assert records.get("ticket", ticket["id"])["hits"] == 1


def test_the_rate_limit_skips_runs_with_a_recorded_reason(auto: Platform, actor: Actor) -> None:
    auto.settings = replace(auto.settings, automation_rate_per_minute=2)
    try:
        slug = _tenant(auto, actor, {"name": "noisy", "trigger": {"on": "created"}, "actions": [_note("New")]})
        records = auto.records(auto.runtime(slug), actor)
        for n in range(4):
            records.create("ticket", {"subject": f"T{n}"})
        drain(auto, slug)
    finally:
        auto.settings = replace(auto.settings, automation_rate_per_minute=120)
    statuses = sorted(run["status"] for run in auto.automation.runs(auto.runtime(slug), "ticket", "noisy"))
    assert statuses == ["skipped", "skipped", "succeeded", "succeeded"]
    skipped = auto.automation.runs(auto.runtime(slug), "ticket", "noisy", status="skipped")
    assert all("TRELLIS_AUTOMATION_RATE" in run["error"] for run in skipped)
    assert _titles(auto, slug) == ["New: T0", "New: T1"]


def test_a_scheduled_rule_fires_once_per_slot_for_matching_records(auto: Platform, actor: Actor) -> None:
    slug = _tenant(auto, actor, {"name": "hourly", "trigger": {"on": "schedule", "every_minutes": 60},
                                 "condition": 'priority = "high"', "actions": [_note("Hourly")]})
    records = auto.records(auto.runtime(slug), actor)
    records.create("ticket", {"subject": "Hot", "priority": "high"})
    records.create("ticket", {"subject": "Cold", "priority": "low"})
    now = datetime(2026, 5, 4, 10, 15, tzinfo=UTC)
    assert scan_tenant(auto, slug, now) == 1
    assert scan_tenant(auto, slug, now + timedelta(minutes=30)) == 0  # same slot
    assert scan_tenant(auto, slug, now + timedelta(minutes=50)) == 1  # 11:05: the next slot
    drain(auto, slug)
    assert _titles(auto, slug) == ["Hourly: Hot", "Hourly: Hot"]
    assert sorted(run["fire_key"] for run in auto.automation.runs(auto.runtime(slug))) == [
        "2026-05-04T10:00", "2026-05-04T11:00"]


def test_a_restored_tenant_keeps_its_run_log_and_does_not_fire_again(auto: Platform, actor: Actor,
                                                                     tmp_path: Path) -> None:
    rule = {"name": "due", "trigger": {"on": "time", "field": "created_at", "offset_days": 0},
            "actions": [_note("Due")]}
    slug = _tenant(auto, actor, rule)
    auto.records(auto.runtime(slug), actor).create("ticket", {"subject": "Old"})
    assert auto.automation.scan(slug) == 1
    drain(auto, slug)
    backup_tenant(auto, slug, tmp_path / "t.zip")
    copy = f"c-{uuid.uuid4().hex[:12]}"
    restore_tenant(auto, tmp_path / "t.zip", copy)
    original = auto.automation.runs(auto.runtime(slug))
    assert auto.automation.runs(auto.runtime(copy)) == original
    assert auto.automation.scan(copy) == 0  # the restored run log remembers what fired
    assert _titles(auto, copy) == ["Due: Old"]
