"""Scheduled jobs of extensions: started by the automation scan, run by the job layer, logged as runs.

Each (tenant, extension job, schedule slot) starts once, however many scans or
processes see it: the slot is the run's unique event key in the automation run
log (``trellis_automation_runs``, rule ``<extension>.<job>``), where an admin
also reads whether it succeeded or why it failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..automation import runlog
from ..automation import scan as automation_scan
from ..jobs import JobContext, job_handler
from ..storage.system import automation_tables
from .facade import extension_context
from .registry import enabled

if TYPE_CHECKING:
    from ..core import Platform
    from ..runtime import TenantRuntime

KIND = "extension.job"
TRIGGER = "extension_job"
#: The run log's triggers of extension work: failed after-hooks (``hooks``) and scheduled jobs.
TRIGGERS = ("extension_hook", TRIGGER)


def start_due(platform: Platform, runtime: TenantRuntime, now: datetime) -> int:
    """Queue every enabled extension job whose current slot has not run yet; returns how many were queued."""
    started = 0
    for name, entry in enabled(runtime).items():
        for job in entry.extension.jobs.values():
            slot = automation_scan.schedule_slot(dict(job.schedule), now)
            rule = f"{name}.{job.name}"
            run_id = runlog.open_run(runtime.store, {
                "object": "", "rule": rule[:100], "trigger": TRIGGER, "event_key": f"ext:{rule}:{slot}"[:200],
                "fire_key": slot, "status": "queued", "depth": 0})
            if run_id is None:
                continue
            job_id = platform.jobs.enqueue(runtime.tenant.slug, KIND, {"extension": name, "job": job.name,
                                                                        "run_id": run_id}, None,
                                           idempotency_key=f"ext:{rule}:{slot}")
            runlog.update_run(runtime.store, run_id, job_id=job_id)
            started += 1
    return started


@job_handler(KIND)
def run_job(ctx: JobContext) -> None:
    """One attempt at an extension's job; a disabled extension's job finishes doing nothing."""
    runtime = ctx.platform.runtime(ctx.tenant)
    run_id = ctx.args["run_id"]
    runlog.update_run(runtime.store, run_id, status="running", started_at=runlog.now(), attempts=ctx.attempt)
    entry = enabled(runtime).get(ctx.args["extension"])
    job = entry.extension.jobs.get(ctx.args["job"]) if entry is not None else None
    if entry is None or job is None:
        runlog.update_run(runtime.store, run_id, status="skipped", finished_at=runlog.now(),
                          error="The extension or its job is no longer enabled for this tenant.")
        return
    try:
        job.function(extension_context(ctx.platform.records(runtime, ctx.actor), entry))
    except Exception as failure:
        runlog.update_run(runtime.store, run_id, status="failed", finished_at=runlog.now(),
                          error=f"{type(failure).__name__}: {failure}"[:4000])
        raise
    runlog.update_run(runtime.store, run_id, status="succeeded", finished_at=runlog.now())


def runs(runtime: TenantRuntime, limit: int = 100) -> list[dict[str, Any]]:
    """The run log's rows of extension work (failed after-hooks, scheduled jobs), newest first."""
    table, _ = automation_tables(runtime.store.schema)
    query = select(table.c.id).where(table.c.trigger.in_(TRIGGERS)).order_by(table.c.id.desc()).limit(limit)
    with runtime.store.engine.connect() as conn:
        ids = list(conn.execute(query).scalars())
    return [run for run_id in ids if (run := runlog.get_run(runtime.store, run_id)) is not None]
