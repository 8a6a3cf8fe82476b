"""Jobs on rq: the queue entry carries only the job id; ``trellis worker`` runs an rq worker with the scheduler.

Why Trellis keeps its own heartbeat and reaper instead of relying on rq's
abandoned-job handling (rq 2.12, measured in a small experiment): after a
``kill -9`` the job stays in rq's ``StartedJobRegistry`` until its entry
expires (the heartbeat TTL is at least 60 s beyond the job's last beat) and a
worker's maintenance sweep notices it — at start, then every 10 minutes. A new
worker started right after the kill found the entry unexpired and did not run
the job again for over two minutes; and rq then re-runs it only if the rq job
still has ``Retry`` budget left, otherwise it is moved to the failed registry.
Our rows' heartbeats (every ``TRELLIS_JOB_HEARTBEAT_S``) let any worker queue
the job again after three missed beats, with the attempt counted on the row.

rq's scheduler runs in a process forked beside the worker; killing only the
worker's process with ``kill -9`` left that scheduler running as an orphan
(observed), so supervise workers by process group (systemd's default
``KillMode=control-group``, one container per worker).

Retries are ours as well (not rq's ``Retry``): the row's ``attempts`` must be
the one count, whether an attempt ended by an exception or by a dead process,
and the in-process runner must behave the same. The backoff wait uses rq's
``enqueue_in`` (the worker's scheduler); the timeout is rq's ``job_timeout``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue, SimpleWorker

from . import store
from .runner import Pulse, execute

if TYPE_CHECKING:
    from ..core import Platform

log = logging.getLogger(__name__)

#: Extra seconds rq allows beyond a job's own limit, so our cooperative timeout speaks first.
TIMEOUT_GRACE_S = 30

#: The platform of this worker process, for ``run_job`` (rq calls a function by its import path).
_worker: tuple[Platform, RedisQueue] | None = None


class RedisQueue:
    """Dispatches job ids to one rq queue and runs them in ``trellis worker``."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.connection = Redis.from_url(platform.settings.redis_url or "")
        self.queue = Queue(platform.settings.job_queue, connection=self.connection)
        self.pulse = Pulse(platform, self.dispatch)

    def dispatch(self, job_id: int, delay: float) -> None:
        job = store.get(self.platform, job_id)
        timeout = (job.timeout_s if job is not None else 3600) + TIMEOUT_GRACE_S
        options = {"job_timeout": timeout, "result_ttl": 60, "failure_ttl": 7 * 86400,
                   "description": f"trellis job {job_id}"}
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), run_job, job_id, **options)
        else:
            self.queue.enqueue(run_job, job_id, **options)

    def work(self, burst: bool) -> None:
        """Run an rq worker (with the scheduler) in this process until stopped; ``burst``: until idle."""
        global _worker
        _worker = (self.platform, self)
        self.pulse.reap()
        self.pulse.start()
        try:
            # SimpleWorker runs jobs in this process: no fork, so the SQLAlchemy pools are never shared
            # between processes, and a kill -9 of the worker ends the job with it (the horse of rq's
            # forking Worker runs in its own process group and would outlive it).
            SimpleWorker([self.queue], connection=self.connection).work(burst=burst, with_scheduler=True)
        finally:
            self.pulse.stop()
            _worker = None

    def close(self) -> None:
        self.connection.close()


def run_job(job_id: int) -> None:
    """The function rq runs: one attempt of Trellis job ``job_id`` in this worker's platform."""
    if _worker is None:
        raise RuntimeError("Trellis jobs run in 'trellis worker', which sets up the platform.")
    platform, queue = _worker
    execute(platform, job_id, queue.dispatch, queue.pulse)
