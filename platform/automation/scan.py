"""Time-based and scheduled rules: a periodic scan finds the records that are due and starts their runs.

A time rule (``{"on": "time", "field": "close_date", "offset_days": -3}``) is due for
a record once the field's value plus the offset has passed; a scheduled rule
(``every_minutes`` or ``daily_at``, UTC) is due for every record matching its
condition once per slot. The database finds the candidates (date filter and
condition in one query through the record service); the run log is the memory:
a record fires once per rule per date value (or slot), because its run's key
names that value, so scanning again, or from two workers at once, fires nothing new.

``Ticker`` runs the scan every ``automation_scan_s`` seconds in each process that
runs jobs: ``trellis worker`` (beside the rq worker) and, in the embedded default,
the process whose in-process job runner is running.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from trellis.metadata.automations import Rule

from ..controlplane.tables import Tenant
from ..expressions import Context
from ..extensions import jobs as extension_jobs
from ..records.query import Filter, ListQuery, Where
from ..records.service import Actor
from . import runlog

if TYPE_CHECKING:
    from ..core import Platform
    from ..runtime import TenantRuntime

log = logging.getLogger(__name__)

PAGE = 500
#: Candidates one scan looks at per rule; the rest wait for the next scan.
MAX_PER_SCAN = 5000


def scan_tenant(platform: Platform, slug: str, now: datetime | None = None) -> int:
    """Start the runs of every time-based and scheduled rule of the tenant that are due; returns how many."""
    now = now or datetime.now(UTC)
    runtime = platform.runtime(slug)
    started = 0
    for name in runtime.objects:
        for rule in platform.automation.rules(runtime, name):
            if rule.on in ("time", "schedule"):
                started += _scan_rule(platform, runtime, rule, now)
    return started + extension_jobs.start_due(platform, runtime, now)


def _scan_rule(platform: Platform, runtime: TenantRuntime, rule: Rule, now: datetime) -> int:
    budget = platform.settings.automation_rate_per_minute - runlog.started_since(
        runtime.store, rule.object, rule.name, now - timedelta(minutes=1))
    if budget <= 0:
        return 0
    filters, fire = _due(runtime, rule, now)
    where = Where(rule.condition, Context(now=now)) if rule.condition is not None else None
    service = platform.records(runtime, Actor(None))
    started, cursor, seen = 0, None, 0
    while started < budget and seen < MAX_PER_SCAN:
        page = service.list(rule.object, ListQuery(filters=filters, where=where, limit=PAGE, cursor=cursor))
        seen += len(page.records)
        wanted = [(record["id"], fire(record)) for record in page.records]
        done = runlog.fired(runtime.store, rule.object, rule.name, wanted)
        for record_id, fire_key in wanted:
            if (record_id, fire_key) in done or started >= budget:
                continue
            if platform.automation.start(runtime, rule, record_id, 0, None, event_key=f"{rule.on}:{fire_key}",
                                         fire_key=fire_key) is not None:
                started += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    return started


def _due(runtime: TenantRuntime, rule: Rule, now: datetime) -> tuple[list[Filter], Any]:
    """The filters of the due records and how to name the value (or slot) each one fires for."""
    trigger = rule.trigger
    if rule.on == "time":
        name = trigger["field"]
        offset = timedelta(days=trigger.get("offset_days", 0), hours=trigger.get("offset_hours", 0))
        is_date = name not in ("created_at", "updated_at") and runtime.object(rule.object).field(name).type == "date"
        threshold: date | datetime = (now - offset).date() if is_date else now - offset
        return [Filter(name, "lte", threshold.isoformat())], lambda record: str(record[name])[:60]
    slot = schedule_slot(trigger, now)
    return [], lambda record: slot


def schedule_slot(trigger: dict[str, Any], now: datetime) -> str:
    """The schedule's current slot: the start of the ``every_minutes`` period, or the day of ``daily_at``."""
    if "every_minutes" in trigger:
        minutes = int(now.timestamp() // 60)
        start = minutes - minutes % trigger["every_minutes"]
        return datetime.fromtimestamp(start * 60, UTC).strftime("%Y-%m-%dT%H:%M")
    hour, minute = (int(part) for part in trigger["daily_at"].split(":"))
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (today if now >= today else today - timedelta(days=1)).date().isoformat()


class Ticker:
    """A daemon thread that scans every active tenant every ``automation_scan_s`` seconds."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.interval = platform.settings.automation_scan_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval > 0 and (self._thread is None or not self._thread.is_alive()):
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="trellis-automation-scan", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def tick(self) -> int:
        """One scan of every active tenant; a tenant that fails is logged and the others still scanned."""
        with self.platform.control() as session:
            slugs = list(session.scalars(select(Tenant.slug).where(Tenant.status == "active")))
        started = 0
        for slug in slugs:
            if self._stop.is_set():
                break
            try:
                started += scan_tenant(self.platform, slug)
            except Exception:
                log.exception("The automation scan of tenant %s failed; the next scan tries again", slug)
        return started

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # the control plane may be away for a moment
                log.exception("The automation scan failed; trying again in %s s", self.interval)
