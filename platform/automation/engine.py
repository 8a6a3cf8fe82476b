"""``Platform.automation``: turns record events and scan hits into rule runs queued on the job layer.

One rule run is one job (kind ``automation.run``) whose idempotency key is the
run's event key, so a run is queued once whatever retries or second scans
happen. The checks that keep rules from running away come first: a change
made ``automation_max_depth`` rule runs deep does not run the rule (a run row
``stopped`` says why), and a rule that already started
``automation_rate_per_minute`` runs in the last minute records ``skipped``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from trellis.metadata.automations import CHANGE_TRIGGERS, Rule, rules_of

from ..expressions import Context, evaluate
from ..records.service import Actor
from . import runlog
from .events import RecordEvent
from .scan import Ticker, scan_tenant

if TYPE_CHECKING:
    from ..core import Platform
    from ..runtime import TenantRuntime
    from ..storage.stores import TenantStore

log = logging.getLogger(__name__)

RUN_KIND = "automation.run"
#: Attempts of a rule run before it is recorded failed on the run log.
RUN_ATTEMPTS = 3


class Automation:
    """The automation runtime of one ``Platform``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        #: The periodic scan of this process, started with its job runner (``trellis worker`` or in process).
        self.ticker = Ticker(platform)

    def scan(self, slug: str) -> int:
        """Start the due runs of the tenant's time-based and scheduled rules now; returns how many started."""
        return scan_tenant(self.platform, slug)

    def rules(self, runtime: TenantRuntime, object_name: str) -> list[Rule]:
        """The object's active, checked rules in the runtime's revision."""
        document = runtime.documents.get(object_name)
        if not document or not document.get("automations"):
            return []
        return [rule for rule in rules_of(runtime.object(object_name), document, runtime.objects) if rule.active]

    def runs(self, runtime: TenantRuntime, object_name: str | None = None, rule: str | None = None, *,
             record_id: int | None = None, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The run log, newest first (``trellis_automation_runs``)."""
        return runlog.list_runs(runtime.store, object_name, rule, record_id=record_id, status=status, limit=limit)

    def listens_to(self, runtime: TenantRuntime, object_name: str) -> bool:
        """Whether a change of ``object_name`` could start a rule (see ``events.listens``)."""
        return bool(self.rules(runtime, object_name))

    def record_changed(self, runtime: TenantRuntime, event: RecordEvent) -> None:
        """The record service's listener: start every rule the change fires. Never raises (the write is saved)."""
        try:
            for rule in self.rules(runtime, event.object):
                if rule.on in CHANGE_TRIGGERS and _fires(rule, event) and self._holds(runtime, rule, event):
                    deleted = event.before if event.after is None else None
                    self.start(runtime, rule, event.record_id, event.depth, event.actor_user_id,
                               event_key=f"{event.kind}:{_version(event)}", snapshot=deleted)
        except Exception:  # a broken rule must not turn a saved change into an error for its author
            log.exception("Automation rules of %s could not be started for %s %s", runtime.tenant.slug,
                          event.object, event.record_id)

    def start(self, runtime: TenantRuntime, rule: Rule, record_id: int | None, depth: int, actor: int | None, *,
              event_key: str, fire_key: str | None = None, snapshot: Mapping[str, Any] | None = None) -> int | None:
        """Open a run of ``rule`` and queue its job; None when this event already started it (or it was refused)."""
        store = runtime.store
        base = {"object": rule.object, "rule": rule.name, "record_id": record_id, "trigger": rule.on,
                "event_key": _key(rule, record_id, event_key), "fire_key": fire_key, "depth": depth}
        refusal = self._refusal(store, rule, depth)
        if refusal is not None:
            status, reason = refusal
            if status == "skipped":  # another event may run it later: not the scan's memory, not this key
                base |= {"event_key": _key(rule, record_id, f"{event_key}:skipped"), "fire_key": None}
            runlog.open_run(store, {**base, "status": status, "finished_at": runlog.now(), "error": reason})
            return None
        run_id = runlog.open_run(store, {**base, "status": "queued"})
        if run_id is None:
            return None
        args = {"run_id": run_id, "object": rule.object, "rule": rule.name, "record_id": record_id, "depth": depth,
                "max_attempts": RUN_ATTEMPTS, "snapshot": _jsonable(snapshot)}
        job_id = self.platform.jobs.enqueue(runtime.tenant.slug, RUN_KIND, args, rule.run_as or actor,
                                            idempotency_key=base["event_key"], max_attempts=RUN_ATTEMPTS)
        runlog.update_run(store, run_id, job_id=job_id)
        return run_id

    def _refusal(self, store: TenantStore, rule: Rule, depth: int) -> tuple[str, str] | None:
        """Why this run must not start (status and reason), or None: the depth and rate limits."""
        settings = self.platform.settings
        if depth >= settings.automation_max_depth:
            return "stopped", (
                f"Stopped at the depth limit: this change was made by {depth} rule runs in a row (the limit is "
                f"{settings.automation_max_depth}, TRELLIS_AUTOMATION_MAX_DEPTH), so the rule probably sets off "
                "itself; give it a condition that stops being true.")
        since = runlog.now() - timedelta(minutes=1)
        if runlog.started_since(store, rule.object, rule.name, since) >= settings.automation_rate_per_minute:
            return "skipped", (f"Skipped: the rule already started {settings.automation_rate_per_minute} runs in "
                               "the last minute (TRELLIS_AUTOMATION_RATE).")
        return None

    def _holds(self, runtime: TenantRuntime, rule: Rule, event: RecordEvent) -> bool:
        if rule.condition is None:
            return True
        context = Context(user_id=event.actor_user_id, prior=event.before if event.kind != "deleted" else None,
                          read=self.reader(runtime))
        return evaluate(rule.condition, event.record, context) is True

    def reader(self, runtime: TenantRuntime) -> Any:
        """How expressions follow lookup paths in Python: typed snapshots through the record service."""
        service = self.platform.records(runtime, Actor(None))
        return lambda object_name, record_id: service.snapshot(object_name, record_id)


def _fires(rule: Rule, event: RecordEvent) -> bool:
    if rule.on == "field_changed":
        before, after = event.before or {}, event.after or {}
        return event.kind == "updated" and any(before.get(f) != after.get(f) for f in rule.trigger["fields"])
    return rule.on == event.kind


def _version(event: RecordEvent) -> str:
    """What makes this change of the record unique: its version and time (ids of deleted rows may come back)."""
    record = event.record
    stamp = record.get("updated_at")
    return f"v{record.get('version')}@{stamp.timestamp() if stamp is not None else ''}"


def _key(rule: Rule, record_id: int | None, event_key: str) -> str:
    """The run's unique key, at most 200 characters (long names are shortened by a hash)."""
    key = f"auto:{rule.object}:{rule.name}:{record_id}:{event_key}"
    return key if len(key) <= 200 else f"auto:{hashlib.sha256(key.encode()).hexdigest()}"


def _jsonable(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A deleted record's values as JSON for the job (read back by type in ``actions``)."""
    if record is None:
        return None
    return {key: value if isinstance(value, bool | int | str | list | None) else str(value)
            for key, value in record.items()}

