"""The job layer run in process (no Redis), on SQLite and on PostgreSQL.

Handlers for these tests are registered here; the in-process runner runs in
this process, so importing this module is enough for it to know them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from workers import running

from trellis.platform.config import Settings
from trellis.platform.controlplane.tables import Job, utcnow
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, InvalidInput, NotFound
from trellis.platform.jobs import JobContext, job_handler, store
from trellis.tenants.registry import create_tenant


@job_handler("tests.flaky")
def flaky(ctx: JobContext) -> None:
    """Fails until attempt ``succeed_on``."""
    if ctx.attempt < ctx.args["succeed_on"]:
        raise RuntimeError(f"flaky failure on attempt {ctx.attempt}")
    ctx.progress(1, 1, "done")


@pytest.fixture(scope="module")
def jobs_platform(settings: Settings) -> Iterator[Platform]:
    """The session's database with jobs run in process, fast heartbeats and short backoffs."""
    with running(replace(settings, redis_url=None, job_heartbeat_s=0.2, job_backoff_s=(0.05, 0.1))) as platform:
        yield platform


@pytest.fixture
def slug(jobs_platform: Platform) -> str:
    slug = f"j-{uuid.uuid4().hex[:12]}"
    create_tenant(jobs_platform, slug, "Jobs")
    return slug


def test_a_job_runs_in_process_and_reports_full_progress(jobs_platform: Platform, slug: str) -> None:
    job_id = jobs_platform.jobs.enqueue(slug, "trellis.count", {"to": 5, "delay": 0}, None)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.attempts, info.percent) == ("succeeded", 1, 100)
    assert (info.progress_done, info.progress_total, info.message) == (5, 5, "Counted to 5.")
    assert info.error is None and info.finished_at is not None


def test_a_handler_failing_twice_succeeds_on_the_third_attempt(jobs_platform: Platform, slug: str) -> None:
    job_id = jobs_platform.jobs.enqueue(slug, "tests.flaky", {"succeed_on": 3}, None)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.attempts, info.percent) == ("succeeded", 3, 100)
    assert info.error == "RuntimeError: flaky failure on attempt 2"  # the last failure stays visible


def test_a_handler_always_failing_ends_failed_with_its_error(jobs_platform: Platform, slug: str) -> None:
    job_id = jobs_platform.jobs.enqueue(slug, "tests.flaky", {"succeed_on": 99}, None, max_attempts=2)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.attempts) == ("failed", 2)
    assert info.error == "RuntimeError: flaky failure on attempt 2"
    assert "Traceback" not in info.error


def test_a_failed_job_retried_by_an_admin_runs_again_from_its_checkpoint(jobs_platform: Platform, slug: str) -> None:
    job_id = jobs_platform.jobs.enqueue(slug, "trellis.count", {"to": 2, "delay": 0, "fail_times": 1}, None,
                                        max_attempts=1)
    failed = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (failed.status, failed.error) == ("failed", "Planned failure 1 of 1.")
    jobs_platform.jobs.retry(job_id)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.attempts, info.message) == ("succeeded", 1, "Counted to 2.")
    with pytest.raises(Conflict, match="only a failed job"):
        jobs_platform.jobs.retry(job_id)


def test_the_same_idempotency_key_returns_the_same_job(jobs_platform: Platform, slug: str) -> None:
    first = jobs_platform.jobs.enqueue(slug, "trellis.count", {"to": 1, "delay": 0}, None, idempotency_key="k-1")
    again = jobs_platform.jobs.enqueue(slug, "trellis.count", {"to": 9, "delay": 0}, None, idempotency_key="k-1")
    other = jobs_platform.jobs.enqueue(slug, "trellis.count", {"to": 1, "delay": 0}, None, idempotency_key="k-2")
    assert first == again != other
    assert jobs_platform.jobs.wait(first, timeout=30).args == {"to": 1, "delay": 0}
    tenant_b = f"j-{uuid.uuid4().hex[:12]}"
    create_tenant(jobs_platform, tenant_b, "Other")
    assert jobs_platform.jobs.enqueue(tenant_b, "trellis.count", {"to": 1}, None, idempotency_key="k-1") != first


def test_a_job_whose_process_died_runs_again_and_resumes(jobs_platform: Platform, slug: str) -> None:
    """A row left 'running' with a stale heartbeat (its process was killed) is run again with attempt 2."""
    job_id = _running_then_dead(jobs_platform, slug, max_attempts=3)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.attempts, info.progress_done) == ("succeeded", 2, 6)
    assert info.message == "Counted to 6 (resumed at 4 on attempt 2)."
    # The dead attempt cannot write over its successor's outcome, and a stray queue entry cannot start it again.
    assert not store.save_progress(jobs_platform, job_id, 1, 0, 6, "late", None)
    assert not store.fail(jobs_platform, job_id, 1, "late failure", None)
    assert store.claim(jobs_platform, job_id) is None
    assert jobs_platform.jobs.get(job_id).status == "succeeded"


def _running_then_dead(platform: Platform, slug: str, max_attempts: int) -> int:
    """The row a process leaves when it dies in attempt 1 at step 4 of 6: running, heartbeat long stale."""
    long_ago = utcnow() - timedelta(minutes=5)
    with platform.control() as session:
        job = Job(tenant_id=platform.tenant(slug).id, kind="trellis.count", args={"to": 6, "delay": 0},
                  status="running", attempts=1, max_attempts=max_attempts, timeout_s=60, progress_done=4,
                  progress_total=6, checkpoint={"done": 4}, created_at=long_ago, available_at=long_ago,
                  started_at=long_ago, heartbeat_at=long_ago)
        session.add(job)
    return job.id


def test_a_job_whose_process_died_on_its_last_attempt_ends_failed(jobs_platform: Platform, slug: str) -> None:
    job_id = _running_then_dead(jobs_platform, slug, max_attempts=1)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.attempts) == ("failed", 1)
    assert info.error == ("The worker running attempt 1 stopped (killed or crashed) and no attempts are left; "
                          "retry the job to run it again.")


def test_a_job_over_its_time_limit_fails_with_a_clear_error(jobs_platform: Platform, slug: str) -> None:
    job_id = jobs_platform.jobs.enqueue(slug, "trellis.count", {"to": 50, "delay": 0.1}, None,
                                        max_attempts=1, timeout_s=1)
    info = jobs_platform.jobs.wait(job_id, timeout=30)
    assert (info.status, info.error) == ("failed", "The job ran longer than its time limit of 1 s.")


def test_bad_requests_are_refused_naming_what_to_fix(jobs_platform: Platform, slug: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        jobs_platform.jobs.enqueue(slug, "no.such.kind", {}, None)
    assert [p.field for p in refused.value.problems] == ["kind"]
    with pytest.raises(InvalidInput) as refused:
        jobs_platform.jobs.enqueue(slug, "trellis.count", {"when": object()}, None, max_attempts=0,
                                   idempotency_key="")
    assert {p.field for p in refused.value.problems} == {"args", "max_attempts", "idempotency_key"}
    with pytest.raises(NotFound):
        jobs_platform.jobs.enqueue("no-such-tenant", "trellis.count", {}, None)
    with pytest.raises(NotFound):
        jobs_platform.jobs.get(10**9)
