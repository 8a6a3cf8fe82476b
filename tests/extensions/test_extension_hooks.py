"""Record hooks and scheduled jobs of an enabled extension, through the record service; both backends.

The ``probe`` extension is defined here and installed into this process's registry (as an entry
point would be); tenants that do not enable it never see it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trellis.extensions.api import Extension, HookRefused, RecordContext
from trellis.platform.automation import runlog
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, InvalidInput
from trellis.platform.extensions import jobs as extension_jobs
from trellis.platform.extensions import registry
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor

probe = Extension("probe", "0.1.0", "Probe")
MOVES: list[tuple[str, Any, Any]] = []

TICKET = {
    "api_name": "ticket", "label": "Ticket", "name_field": "subject",
    "fields": [
        {"api_name": "subject", "label": "Subject", "type": "text", "required": True},
        {"api_name": "stage", "label": "Stage", "type": "picklist", "default": "new", "pipeline": {"label": "Flow"},
         "values": [{"value": v, "label": v.title()} for v in ("new", "open", "done")]},
    ],
}


@probe.hook("before_create", object="ticket")
def tidy(ctx: RecordContext) -> None:
    """A before hook may change the values about to be written."""
    ctx.changes["subject"] = ctx.changes["subject"].strip().capitalize()
    if ctx.changes["subject"] == "Forbidden":
        raise HookRefused("Tickets may not be forbidden.", field="subject")
    if ctx.changes["subject"] == "Ghost":
        ctx.changes["haunted"] = True  # a field the object does not have


@probe.hook("before_delete", object="ticket")
def keep(ctx: RecordContext) -> None:
    if ctx.record and ctx.record["subject"].startswith("Keep"):
        raise HookRefused("This ticket is kept.", conflict=True)


@probe.hook("before_update", object="ticket")
def reads_only(ctx: RecordContext) -> None:
    if ctx.changes.get("subject") == "Write elsewhere":
        ctx.records.create("ticket", {"subject": "sneaky"})


@probe.hook("after_update", object="ticket")
def explode(ctx: RecordContext) -> None:
    if ctx.record and ctx.record["subject"] == "Boom":
        raise RuntimeError("the after hook exploded")


@probe.hook("stage_changed", object="ticket")
def moved(ctx: RecordContext) -> None:
    assert ctx.record is not None and ctx.previous is not None
    MOVES.append((ctx.tenant, ctx.previous["stage"], ctx.record["stage"]))


@probe.action("escalate", "Escalate", object="ticket")
def escalate(ctx: RecordContext) -> dict[str, Any]:
    assert ctx.record is not None
    ctx.records.update("ticket", ctx.record["id"], {"stage": "open"})
    return {"message": "Escalated."}


@probe.job("tick", {"every_minutes": 5})
def tick(ctx: Any) -> None:
    ctx.records.create("ticket", {"subject": f"tick {ctx.settings['label']}"})


registry.install(probe)


@pytest.fixture
def probed(platform: Platform, tenant: str) -> str:
    actor = Actor(None)
    platform.editor(platform.runtime(tenant), actor).create_object(TICKET)
    platform.editor(platform.runtime(tenant), actor).put_definition(
        "extension", {"api_name": "probe", "label": "Probe", "settings": {"label": "hourly"}})
    return tenant


def _records(platform: Platform, slug: str):
    return platform.records(platform.runtime(slug), Actor(None))


def _subjects(platform: Platform, slug: str) -> list[str]:
    return [r["subject"] for r in _records(platform, slug).list("ticket", ListQuery(sort=[("id", False)])).records]


def test_a_before_hook_changes_values_or_stops_the_write_with_its_message(platform: Platform, probed: str) -> None:
    service = _records(platform, probed)
    assert service.create("ticket", {"subject": "  printer on fire "})["subject"] == "Printer on fire"
    with pytest.raises(InvalidInput) as refused:
        service.create("ticket", {"subject": "forbidden"})
    assert "Tickets may not be forbidden." in refused.value.detail
    assert [p.field for p in refused.value.problems] == ["subject"]
    with pytest.raises(InvalidInput, match="does not have: haunted"):
        service.create("ticket", {"subject": "ghost"})
    kept = service.create("ticket", {"subject": "keep me"})
    with pytest.raises(Conflict, match="This ticket is kept."):
        service.delete("ticket", kept["id"])
    with pytest.raises(Exception, match="may only read records"):
        service.update("ticket", kept["id"], {"subject": "Write elsewhere"})
    assert _subjects(platform, probed) == ["Printer on fire", "Keep me"]  # nothing else was written
    assert service.get("ticket", kept["id"])["version"] == 1


def test_an_after_hook_failure_keeps_the_write_and_is_recorded_for_admins(platform: Platform, probed: str) -> None:
    service = _records(platform, probed)
    ticket = service.create("ticket", {"subject": "calm"})
    updated = service.update("ticket", ticket["id"], {"subject": "Boom"})
    assert updated["subject"] == "Boom" and service.get("ticket", ticket["id"])["version"] == 2
    [run] = runlog.list_runs(platform.runtime(probed).store, "ticket", "probe.after_update")
    assert run["status"] == "failed" and run["record_id"] == ticket["id"]
    assert "the after hook exploded" in run["error"]


def test_stage_changed_hooks_see_the_move(platform: Platform, probed: str) -> None:
    service = _records(platform, probed)
    ticket = service.create("ticket", {"subject": "flow"})
    service.update("ticket", ticket["id"], {"subject": "flow again"})
    service.update("ticket", ticket["id"], {"stage": "open"})
    assert [move for move in MOVES if move[0] == probed] == [(probed, "new", "open")]


def test_hooks_of_an_extension_the_tenant_did_not_enable_never_run(platform: Platform, tenant: str) -> None:
    platform.editor(platform.runtime(tenant), Actor(None)).create_object(TICKET)
    assert _records(platform, tenant).create("ticket", {"subject": "forbidden"})["subject"] == "forbidden"


def test_a_scheduled_job_runs_once_per_slot_and_is_logged(platform: Platform, probed: str) -> None:
    runtime = platform.runtime(probed)
    now = datetime.now(UTC)
    assert extension_jobs.start_due(platform, runtime, now) == 1
    assert extension_jobs.start_due(platform, runtime, now) == 0  # the same slot, again: nothing new
    _drain(platform, probed)
    assert _subjects(platform, probed) == ["Tick hourly"]  # through the record service: hooks ran
    [run] = runlog.list_runs(runtime.store, rule="probe.tick")
    assert run["status"] == "succeeded" and run["trigger"] == "extension_job"
    assert extension_jobs.start_due(platform, runtime, now + timedelta(minutes=5)) == 1  # the next slot


def _drain(platform: Platform, slug: str, timeout: float = 60) -> None:
    """Wait until none of the tenant's jobs is queued or running (working them off here on rq)."""
    tenant_id = platform.tenant(slug).id
    deadline = time.monotonic() + timeout
    while True:
        if platform.settings.redis_url:
            platform.jobs.work(burst=True)
        if not [j for j in platform.jobs.list(tenant_id) if j.status in ("queued", "running")]:
            return
        assert time.monotonic() < deadline, "jobs still pending"
        time.sleep(0.05)


def test_an_automation_rule_calls_an_extension_action(platform: Platform, probed: str) -> None:
    rule = {"name": "auto_escalate", "label": "Escalate urgent tickets", "trigger": {"on": "created"},
            "condition": "subject = \"Urgent\"",
            "actions": [{"type": "extension_action", "extension": "probe", "action": "escalate"}]}
    editor = platform.editor(platform.runtime(probed), Actor(None))
    editor.update_object("ticket", {"automations": [rule]})
    service = _records(platform, probed)
    urgent = service.create("ticket", {"subject": "urgent"})
    calm = service.create("ticket", {"subject": "calm"})
    _drain(platform, probed)
    assert service.get("ticket", urgent["id"])["stage"] == "open"
    assert service.get("ticket", calm["id"])["stage"] == "new"
    [run] = runlog.list_runs(platform.runtime(probed).store, "ticket", "auto_escalate")
    assert run["status"] == "succeeded"
