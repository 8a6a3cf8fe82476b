"""A time-based escalation rule fires for the right records only, once each, and its run log shows it.

On PostgreSQL + Redis the runs are done by a separate ``trellis worker`` process (whose
own periodic scan runs every half second besides the scans this test asks for); on
SQLite by the in-process runner and scan of this process, the embedded default.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from automation_kit import TASK, TICKET, admin
from sqlalchemy import update
from workers import running, start_worker, stop, wait_for, worker_settings

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.query import Filter, ListQuery
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant

ESCALATE = {
    "name": "escalate_unanswered",
    "label": "Escalate high-priority tickets unanswered for 4 hours",
    "trigger": {"on": "time", "field": "created_at", "offset_hours": 4},
    "condition": 'priority IN ("high", "urgent") AND ISBLANK(first_response_at)',
    "actions": [
        {"type": "update_fields", "values": {"priority": '"urgent"'}},
        {"type": "create_record", "object": "task", "values": {"title": '"Call back: " & subject', "ticket": "id"}},
    ],
}


@pytest.fixture
def auto(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    """This test's platform; on PostgreSQL with a ``trellis worker`` process running beside it."""
    if settings.redis_url is None:
        with running(replace(settings, job_heartbeat_s=0.2, job_backoff_s=(0.05,), automation_scan_s=0.5)) as p:
            yield p
        return
    rq = worker_settings(settings.database_url or "", settings.redis_url, tmp_path, automation_scan_s=0)
    with running(rq) as platform:
        monkeypatch.setenv("TRELLIS_AUTOMATION_SCAN_S", "0.5")  # the worker's own scan
        worker = start_worker(rq, tmp_path / "worker.log")
        try:
            yield platform
        finally:
            stop(worker)


def test_an_escalation_fires_for_due_unanswered_tickets_only_once_each(auto: Platform) -> None:
    actor = admin(auto)
    slug = f"e-{uuid.uuid4().hex[:12]}"
    create_tenant(auto, slug, "Escalations")
    auto.editor(auto.runtime(slug), actor).create_object(TICKET)
    auto.editor(auto.runtime(slug), actor).create_object(TASK)
    auto.editor(auto.runtime(slug), actor).update_object("ticket", {"automations": [ESCALATE]})
    records = auto.records(auto.runtime(slug), actor)
    late = _ticket(auto, records, "Late and high", "high", hours_old=5)
    _ticket(auto, records, "Late but answered", "high", hours_old=5, answered=True)
    _ticket(auto, records, "Late but normal", "normal", hours_old=5)
    recent = _ticket(auto, records, "High but recent", "high", hours_old=1)

    auto.automation.scan(slug)
    auto.automation.scan(slug)  # a second scan (and the worker's own, every half second) fires nothing new
    wait_for(lambda: _runs(auto, slug) and _runs(auto, slug)[0]["status"] == "succeeded", "the escalation run", 60)
    wait_for(lambda: _tasks(auto, slug, actor), "the escalation task", 30)
    auto.automation.scan(slug)
    _settle(auto)

    (run,) = _runs(auto, slug)
    assert (run["record_id"], run["trigger"], run["status"], run["actions_done"], run["error"]) == (
        late["id"], "time", "succeeded", 2, None)
    assert run["fire_key"] == late["created_at"]  # once per record per rule per date value
    assert [task["title"] for task in _tasks(auto, slug, actor)] == ["Call back: Late and high"]
    tickets = {t["subject"]: t for t in records.list("ticket", ListQuery(limit=10)).records}
    assert (tickets["Late and high"]["priority"], tickets["Late and high"]["version"]) == ("urgent", 3)
    assert {t["subject"]: t["version"] for t in tickets.values() if t["id"] != late["id"]} == {
        "Late but answered": 2, "Late but normal": 2, "High but recent": 2}  # untouched since the test set them up

    # Once a recent ticket becomes due, the next scan fires for it, and for it alone.
    _age(auto, slug, recent["id"], hours_old=6)
    auto.automation.scan(slug)
    wait_for(lambda: len(_runs(auto, slug)) == 2 and _runs(auto, slug)[0]["status"] == "succeeded",
             "the second escalation", 60)
    assert [r["record_id"] for r in _runs(auto, slug)] == [recent["id"], late["id"]]


def _ticket(auto: Platform, records: Any, subject: str, priority: str, *, hours_old: float,
            answered: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {"subject": subject, "priority": priority}
    if answered:
        values["first_response_at"] = datetime.now(UTC).isoformat()
    created = records.create("ticket", values)
    return _age(auto, records.runtime.tenant.slug, created["id"], hours_old)


def _age(auto: Platform, slug: str, record_id: int, hours_old: float) -> dict[str, Any]:
    """Make the ticket ``hours_old`` hours old, as if it had been created then (a version like any change)."""
    runtime = auto.runtime(slug)
    table = runtime.tables["ticket"]
    with runtime.store.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == record_id).values(
            created_at=datetime.now(UTC) - timedelta(hours=hours_old), version=table.c.version + 1))
    return auto.records(runtime, Actor(None)).get("ticket", record_id)


def _runs(auto: Platform, slug: str) -> list[dict[str, Any]]:
    return auto.automation.runs(auto.runtime(slug), "ticket", "escalate_unanswered")


def _tasks(auto: Platform, slug: str, actor: Actor) -> list[dict[str, Any]]:
    return auto.records(auto.runtime(slug), actor).list("task", ListQuery(filters=[Filter("ticket", "blank", False)])
                                                         ).records


def _settle(auto: Platform) -> None:
    """Long enough for a few more periodic scans (every 0.5 s) to have run."""
    time.sleep(1.6)
