"""Shared by the automation tests: a platform whose jobs run here, objects with rules, and waiting for jobs.

On SQLite the in-process runner runs the jobs in a thread of this process; on
PostgreSQL + Redis they go to an rq queue of this session's own, which
``drain`` works off with a burst worker in this process (the separate
``trellis worker`` process is test_automation_worker's business).
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from workers import running

from trellis.platform.config import Settings
from trellis.platform.controlplane.accounts import create_user
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor

TICKET: dict[str, Any] = {
    "api_name": "ticket",
    "label": "Ticket",
    "name_field": "subject",
    "fields": [
        {"api_name": "subject", "label": "Subject", "type": "text", "required": True},
        {"api_name": "priority", "label": "Priority", "type": "picklist", "required": True, "default": "normal",
         "values": [{"value": v, "label": v.title()} for v in ("low", "normal", "high", "urgent")]},
        {"api_name": "first_response_at", "label": "First response", "type": "datetime"},
        {"api_name": "hits", "label": "Hits", "type": "integer", "default": 0},
    ],
}

TASK: dict[str, Any] = {
    "api_name": "task",
    "label": "Task",
    "name_field": "title",
    "fields": [
        {"api_name": "title", "label": "Title", "type": "text", "required": True},
        {"api_name": "ticket", "label": "Ticket", "type": "lookup", "target": "ticket"},
    ],
}


def automation_platform(settings: Settings) -> Iterator[Platform]:
    """The session's databases with short backoffs and heartbeats; no periodic scan (tests scan themselves)."""
    with running(replace(settings, job_heartbeat_s=0.2, job_backoff_s=(0.05,), automation_scan_s=0)) as platform:
        yield platform


def with_rules(doc: dict[str, Any], *rules: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(doc), "automations": list(rules)}


def drain(platform: Platform, slug: str, timeout: float = 60) -> None:
    """Wait until none of the tenant's jobs is queued or running (working them off here on rq)."""
    tenant_id = platform.tenant(slug).id
    deadline = time.monotonic() + timeout
    while True:
        if platform.settings.redis_url:
            platform.jobs.work(burst=True)  # embedded, the in-process runner started with the first job
        pending = [job for job in platform.jobs.list(tenant_id, limit=1000) if job.status in ("queued", "running")]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Jobs still pending after {timeout} s: {pending}")
        time.sleep(0.05)


def admin(platform: Platform) -> Actor:
    """A real user to act as (jobs name their creator, a user of the control plane)."""
    with platform.control() as session:
        user = create_user(session, email=f"admin-{uuid.uuid4().hex[:10]}@example.com", password=None)
        session.flush()
        return Actor(user_id=user.id)
