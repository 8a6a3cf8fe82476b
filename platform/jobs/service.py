"""``Platform.jobs``: enqueue, look at, wait for and retry jobs; run a worker.

Which queue carries the job ids follows the settings: rq with
``TRELLIS_REDIS_URL``, otherwise the ``LocalRunner`` thread of this process
(started on first use; one per process).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..controlplane.tables import Job
from ..errors import Conflict, FieldProblem, InvalidInput, NotFound
from . import registry, store
from .runner import LocalRunner

if TYPE_CHECKING:
    from ..core import Platform
    from .redis_queue import RedisQueue

MAX_KEY_LENGTH = 200
#: Job ids are 32-bit; a larger one names no job (and must not reach the database as an overflow).
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class JobInfo:
    """A job as the doors show it."""

    id: int
    tenant_id: int
    kind: str
    args: dict[str, Any]
    status: str
    progress_done: int
    progress_total: int | None
    message: str | None
    error: str | None
    attempts: int
    max_attempts: int
    idempotency_key: str | None
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobInfo:
        return cls(**{name: getattr(job, name) for name in cls.__dataclass_fields__})

    @property
    def percent(self) -> int | None:
        """Progress in whole percent; 100 once succeeded, None while the total is unknown."""
        if self.status == "succeeded":
            return 100
        if not self.progress_total:
            return None
        return min(100, int(100 * self.progress_done / self.progress_total))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"percent": self.percent}


class Jobs:
    """The one job API of a ``Platform``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._queue: RedisQueue | LocalRunner | None = None
        self._lock = threading.Lock()

    def enqueue(self, tenant_slug: str, kind: str, args: dict[str, Any], actor_user_id: int | None, *,
                idempotency_key: str | None = None, max_attempts: int = 3, timeout_s: int = 3600) -> int:
        """Queue a job of ``kind`` for the tenant and return its id (the existing job's for a known key)."""
        registry.load_modules(self.platform.settings.job_modules)
        registry.check_kind(kind)
        _check_options(args, idempotency_key, max_attempts, timeout_s)
        tenant = self.platform.tenant(tenant_slug)
        job, created = store.create(self.platform, {
            "tenant_id": tenant.id, "kind": kind, "args": args, "created_by": actor_user_id,
            "idempotency_key": idempotency_key, "max_attempts": max_attempts, "timeout_s": timeout_s})
        if created:
            self._dispatch(job.id)
        return job.id

    def get(self, job_id: int, tenant_id: int | None = None) -> JobInfo:
        """One job; with ``tenant_id``, only if it belongs to that tenant (others look absent)."""
        job = store.get(self.platform, job_id) if 0 < job_id <= MAX_ID else None
        if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
            raise NotFound(f"There is no job {job_id}.")
        return JobInfo.of(job)

    def list(self, tenant_id: int, *, created_by: int | None = None, status: str | None = None,
             limit: int = 100) -> list[JobInfo]:
        """The tenant's jobs, newest first; ``created_by`` narrows to one user's."""
        query = select(Job).where(Job.tenant_id == tenant_id).order_by(Job.id.desc()).limit(limit)
        if created_by is not None:
            query = query.where(Job.created_by == created_by)
        if status is not None:
            query = query.where(Job.status == status)
        with self.platform.control() as session:
            return [JobInfo.of(job) for job in session.scalars(query)]

    def retry(self, job_id: int, tenant_id: int | None = None) -> JobInfo:
        """Run a finally failed job again, with a fresh set of attempts (it resumes from its checkpoint)."""
        with self.platform.control() as session:
            job = session.get(Job, job_id, with_for_update=True) if 0 < job_id <= MAX_ID else None
            if job is None or (tenant_id is not None and job.tenant_id != tenant_id):
                raise NotFound(f"There is no job {job_id}.")
            if job.status != "failed":
                raise Conflict(f"Job {job_id} is {job.status}; only a failed job can be retried.")
            store.requeue_failed(session, job)
        self._dispatch(job_id)
        return self.get(job_id)

    def wait(self, job_id: int, timeout: float = 30.0, poll_s: float = 0.05) -> JobInfo:
        """The job once it succeeded or failed, or as it is when ``timeout`` seconds have passed."""
        self._runner()
        deadline = time.monotonic() + timeout
        while True:
            info = self.get(job_id)
            if info.status in store.FINISHED or time.monotonic() >= deadline:
                return info
            time.sleep(poll_s)

    def work(self, burst: bool = False) -> None:
        """Be a worker in the foreground (``trellis worker``): rq with Redis, else the in-process runner."""
        runner = self._runner(background=False)  # this call is the worker: no second runner thread
        if not burst:  # time-based and scheduled rules are scanned where jobs run
            self.platform.automation.ticker.start()
        if isinstance(runner, LocalRunner):
            runner.pulse.start()
            try:
                runner.run(burst=burst)
            finally:
                runner.pulse.stop()
        else:
            runner.work(burst=burst)

    def stop(self) -> None:
        """Stop this process's background runner and heartbeat (tests, shutdown)."""
        self.platform.automation.ticker.stop()
        with self._lock:
            queue, self._queue = self._queue, None
        if isinstance(queue, LocalRunner):
            queue.stop()
        elif queue is not None:
            queue.pulse.stop()
            queue.close()

    def _dispatch(self, job_id: int) -> None:
        runner = self._runner()
        if isinstance(runner, LocalRunner):
            runner.wake()
        else:
            runner.dispatch(job_id, 0.0)

    def _runner(self, background: bool = True) -> RedisQueue | LocalRunner:
        """This process's queue; embedded, its runner thread is started unless the caller runs it itself."""
        with self._lock:
            if self._queue is None:
                registry.load_modules(self.platform.settings.job_modules)  # whoever runs jobs must know them all
                if self.platform.settings.redis_url:
                    from .redis_queue import RedisQueue  # rq is imported only where Redis is configured

                    self._queue = RedisQueue(self.platform)
                else:
                    self._queue = LocalRunner(self.platform)
                    if background:
                        self._queue.start()
                        self.platform.automation.ticker.start()
            return self._queue


def _check_options(args: Any, key: str | None, max_attempts: int, timeout_s: int) -> None:
    problems = []
    if not isinstance(args, dict) or not _is_json(args):
        problems.append(FieldProblem("args", "Job arguments must be a JSON object: a dict of JSON values."))
    if key is not None and not (isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH):
        problems.append(FieldProblem("idempotency_key", f"Use 1 to {MAX_KEY_LENGTH} characters, or none."))
    if not (isinstance(max_attempts, int) and 1 <= max_attempts <= 100):
        problems.append(FieldProblem("max_attempts", "Use a whole number from 1 to 100."))
    if not (isinstance(timeout_s, int) and 1 <= timeout_s <= 7 * 86400):
        problems.append(FieldProblem("timeout_s", "Use a whole number of seconds from 1 to 604800 (a week)."))
    if problems:
        raise InvalidInput("The job cannot be queued as given.", problems)


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True
