"""The job rows: every change of a job's state is one conditional UPDATE of its row.

Conditions make the state machine safe with many processes: a job is claimed
only while it is ``queued`` (so two queue entries for one job run it once),
and a runner writes progress or an outcome only while the row still names its
attempt (so a runner judged dead and replaced cannot overwrite its successor).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..controlplane.tables import Job, utcnow

if TYPE_CHECKING:
    from ..core import Platform

FINISHED = ("succeeded", "failed")


def create(platform: Platform, values: dict[str, Any]) -> tuple[Job, bool]:
    """Insert a job, or return the tenant's job with the same idempotency key; True when new."""
    key = values.get("idempotency_key")
    if key is not None:
        existing = _by_key(platform, values["tenant_id"], key)
        if existing is not None:
            return existing, False
    try:
        with platform.control() as session:
            now = utcnow()
            job = Job(**values, status="queued", attempts=0, progress_done=0, created_at=now, available_at=now)
            session.add(job)
        return job, True
    except IntegrityError:
        # Another request enqueued the same key between our read and our insert.
        existing = _by_key(platform, values["tenant_id"], key) if key is not None else None
        if existing is None:
            raise
        return existing, False


def _by_key(platform: Platform, tenant_id: int, key: str) -> Job | None:
    with platform.control() as session:
        return session.scalars(select(Job).where(Job.tenant_id == tenant_id, Job.idempotency_key == key)).first()


def get(platform: Platform, job_id: int) -> Job | None:
    with platform.control() as session:
        return session.get(Job, job_id)


def claim(platform: Platform, job_id: int) -> Job | None:
    """Start the next attempt of a queued job; None if it is not queued (running elsewhere, finished, gone)."""
    now = utcnow()
    with platform.control() as session:
        result = session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", attempts=Job.attempts + 1, started_at=now, heartbeat_at=now, finished_at=None)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        return session.get(Job, job_id, populate_existing=True)


def _owned(job_id: int, attempt: int) -> Any:
    return (Job.id == job_id) & (Job.attempts == attempt) & (Job.status == "running")


def beat(platform: Platform, job_ids: Sequence[tuple[int, int]]) -> None:
    """Refresh the heartbeat of the (job id, attempt) pairs this process is running."""
    now = utcnow()
    with platform.control() as session:
        for job_id, attempt in job_ids:
            session.execute(update(Job).where(_owned(job_id, attempt)).values(heartbeat_at=now)
                            .execution_options(synchronize_session=False))


def save_progress(platform: Platform, job_id: int, attempt: int, done: int, total: int | None,
                  message: str | None, checkpoint: dict[str, Any] | None) -> bool:
    """Progress (and checkpoint, if given) of the running attempt; False if the attempt lost the job."""
    values: dict[str, Any] = {"progress_done": done, "progress_total": total, "message": message,
                              "heartbeat_at": utcnow()}
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    with platform.control() as session:
        result = session.execute(update(Job).where(_owned(job_id, attempt)).values(**values)
                                 .execution_options(synchronize_session=False))
        return result.rowcount == 1


def succeed(platform: Platform, job_id: int, attempt: int) -> None:
    now = utcnow()
    with platform.control() as session:
        session.execute(update(Job).where(_owned(job_id, attempt)).values(
            status="succeeded", finished_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False))


def fail(platform: Platform, job_id: int, attempt: int, error: str, retry_in: float | None) -> bool:
    """Record a failed attempt: queued again after ``retry_in`` seconds, or failed for good if None.

    Returns False when the attempt no longer owned the job (nothing written).
    """
    now = utcnow()
    values: dict[str, Any] = {"error": error, "heartbeat_at": now}
    if retry_in is None:
        values |= {"status": "failed", "finished_at": now}
    else:
        values |= {"status": "queued", "available_at": now + timedelta(seconds=retry_in)}
    with platform.control() as session:
        result = session.execute(update(Job).where(_owned(job_id, attempt)).values(**values)
                                 .execution_options(synchronize_session=False))
        return result.rowcount == 1


def reap(platform: Platform, stale_before: datetime) -> list[int]:
    """Queue again the running jobs whose process stopped beating; return their ids.

    A job whose dead attempt was its last is failed instead, with a message
    saying why, so a job that crashes its worker every time cannot loop forever.
    """
    with platform.control() as session:
        stale = session.execute(select(Job.id, Job.attempts, Job.max_attempts).where(
            Job.status == "running", Job.heartbeat_at < stale_before)).all()
    requeued = []
    for job_id, attempt, max_attempts in stale:
        lost = f"The worker running attempt {attempt} stopped (killed or crashed)"
        now = utcnow()
        if attempt >= max_attempts:
            values = {"status": "failed", "finished_at": now,
                      "error": f"{lost} and no attempts are left; retry the job to run it again."}
        else:
            values = {"status": "queued", "available_at": now, "error": f"{lost}; queued again."}
        with platform.control() as session:
            # Still stale and still that attempt: a beat that arrived meanwhile means it was alive after all.
            result = session.execute(update(Job).where(_owned(job_id, attempt), Job.heartbeat_at < stale_before)
                                     .values(**values).execution_options(synchronize_session=False))
        if result.rowcount == 1 and values["status"] == "queued":
            requeued.append(job_id)
    return requeued


def next_due(platform: Platform) -> int | None:
    """The queued job that has waited longest and whose backoff is over."""
    with platform.control() as session:
        return session.scalars(select(Job.id).where(Job.status == "queued", Job.available_at <= utcnow())
                               .order_by(Job.available_at, Job.id).limit(1)).first()


def next_available_at(platform: Platform) -> datetime | None:
    with platform.control() as session:
        return session.scalars(select(Job.available_at).where(Job.status == "queued")
                               .order_by(Job.available_at).limit(1)).first()


def requeue_failed(session: Session, job: Job) -> None:
    """An admin's retry of a finally failed job: a fresh set of attempts, resuming from its checkpoint."""
    job.status = "queued"
    job.attempts = 0
    job.available_at = utcnow()
    job.finished_at = None
