"""Running one attempt of a job, keeping its heartbeat, and the in-process runner of the embedded default.

``execute`` is the same for both ways of running jobs: rq calls it in a
``trellis worker``, the ``LocalRunner`` thread calls it in the app's own
process. The ``Pulse`` thread of a process beats for the jobs it runs and
queues again the jobs of processes that stopped beating.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from ..controlplane.tables import Job, Tenant, utcnow
from ..errors import TrellisError
from ..records.service import Actor
from ..runtime import TenantRef
from . import registry, store
from .context import JobContext, JobFailed, JobLost

if TYPE_CHECKING:
    from ..core import Platform

log = logging.getLogger(__name__)

#: Heartbeats a running job may miss before its process is taken for dead.
MISSED_BEATS = 3

Dispatch = Callable[[int, float], None]


def execute(platform: Platform, job_id: int, dispatch: Dispatch, pulse: Pulse) -> None:
    """Claim the job and run its handler once; record success, or failure with a retry after backoff."""
    job = store.claim(platform, job_id)
    if job is None:
        return  # another entry for the same job already ran it, or it is running elsewhere
    attempt = job.attempts
    pulse.add(job_id, attempt)
    try:
        _run_handler(platform, job)
    except JobLost:
        log.warning("Job %s attempt %s was taken over by another worker", job_id, attempt)
    except Exception as error:  # any fault of a handler is the job's failure, never the worker's
        log.exception("Job %s (%s) attempt %s failed", job_id, job.kind, attempt)
        retry_in = backoff(platform, attempt) if attempt < job.max_attempts else None
        if store.fail(platform, job_id, attempt, describe(error), retry_in) and retry_in is not None:
            dispatch(job_id, retry_in)
    else:
        store.succeed(platform, job_id, attempt)
    finally:
        pulse.remove(job_id, attempt)


def _run_handler(platform: Platform, job: Job) -> None:
    handler = registry.handler_for(job.kind)
    if handler is None:
        raise JobFailed(f"No handler for job kind {job.kind!r} in this worker; "
                        "list its module in TRELLIS_JOB_MODULES.")
    with platform.control() as session:
        tenant = session.get(Tenant, job.tenant_id)
        if tenant is None or tenant.status != "active":
            raise JobFailed("The job's tenant is not active.")
        ref = TenantRef.of(tenant)
    context = JobContext(platform, job.id, job.kind, ref, dict(job.args), Actor(job.created_by), job.attempts,
                         job.checkpoint, job.timeout_s)
    handler(context)


def describe(error: BaseException) -> str:
    """The failure as people should read it; the traceback stays in the logs."""
    if isinstance(error, TrellisError):
        details = "; ".join(f"{p.field}: {p.message}" for p in error.problems)
        return f"{error.detail} {details}".strip()
    if isinstance(error, JobFailed):
        return str(error)
    text = str(error) or "no message"
    name = type(error).__name__
    return text if name in ("JobTimedOut", "JobTimeoutException") else f"{name}: {text}"


def backoff(platform: Platform, attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based); the last configured value repeats."""
    steps = platform.settings.job_backoff_s or (0.0,)
    return steps[min(attempt, len(steps)) - 1]


class Pulse:
    """One daemon thread per process: beats for its running jobs and reaps dead processes' jobs."""

    def __init__(self, platform: Platform, dispatch: Dispatch) -> None:
        self.platform = platform
        self.dispatch = dispatch
        self.interval = platform.settings.job_heartbeat_s
        self._running: set[tuple[int, int]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, job_id: int, attempt: int) -> None:
        with self._lock:
            self._running.add((job_id, attempt))

    def remove(self, job_id: int, attempt: int) -> None:
        with self._lock:
            self._running.discard((job_id, attempt))

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="trellis-job-pulse", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reap(self) -> list[int]:
        """Queue again the jobs whose process missed ``MISSED_BEATS`` heartbeats."""
        stale_before = utcnow() - timedelta(seconds=self.interval * MISSED_BEATS)
        requeued = store.reap(self.platform, stale_before)
        for job_id in requeued:
            log.warning("Job %s lost its worker (no heartbeat); queued again", job_id)
            self.dispatch(job_id, 0.0)
        return requeued

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self._lock:
                    running = sorted(self._running)
                if running:
                    store.beat(self.platform, running)
                self.reap()
            except Exception:  # a database hiccup must not end the heartbeat for good
                log.exception("Job heartbeat failed; trying again in %s s", self.interval)


class LocalRunner:
    """The embedded default's worker: one thread that runs due jobs from the job table, one at a time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.pulse = Pulse(platform, self.wake)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self, _job_id: int = 0, _delay: float = 0.0) -> None:
        """A job became due (or will be after its delay, which the loop reads from the row)."""
        with self._wake:
            self._wake.notify_all()

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self.pulse.start()
            self._thread = threading.Thread(target=self.run, name="trellis-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        self.pulse.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def run(self, burst: bool = False) -> None:
        """Run due jobs until stopped; with ``burst``, until none is due."""
        self.pulse.reap()
        while not self._stop.is_set():
            try:
                job_id = store.next_due(self.platform)
                if job_id is not None:
                    execute(self.platform, job_id, self.wake, self.pulse)
                    continue
            except Exception:  # keep the runner alive through a database hiccup
                log.exception("The in-process job runner failed to fetch a job")
            if burst:
                return
            self._sleep()

    def _sleep(self) -> None:
        """Until woken, the next backoff ends, or a heartbeat interval passes (jobs of other processes)."""
        timeout = self.pulse.interval
        due = store.next_available_at(self.platform)
        if due is not None:
            timeout = max(0.01, min(timeout, (due - utcnow()).total_seconds()))
        with self._wake:
            self._wake.wait(timeout)
