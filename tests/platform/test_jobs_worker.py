"""The job layer on rq with a real Redis and PostgreSQL: in-process workers and separate ``trellis worker``s.

The queue name is unique to this module: Redis is shared by every test session
on the machine, and a worker must only ever see job ids of its own database.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from workers import running, start_worker, stop, wait_for, worker_settings

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.jobs import JobInfo
from trellis.tenants.registry import create_tenant


@pytest.fixture(scope="module")
def rq_settings(postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return worker_settings(postgres_url, redis_url, tmp_path_factory.mktemp("rq-jobs"))


@pytest.fixture(scope="module")
def rq_platform(rq_settings: Settings) -> Iterator[Platform]:
    with running(rq_settings) as platform:
        yield platform


@pytest.fixture
def slug(rq_platform: Platform) -> str:
    slug = f"w-{uuid.uuid4().hex[:12]}"
    create_tenant(rq_platform, slug, "Workers")
    return slug


def test_rq_worker_retries_a_failing_handler_until_it_succeeds(rq_platform: Platform, slug: str) -> None:
    recovering = rq_platform.jobs.enqueue(slug, "trellis.count", {"to": 2, "delay": 0, "fail_times": 2}, None)
    hopeless = rq_platform.jobs.enqueue(slug, "trellis.count", {"to": 2, "fail_times": 9}, None, max_attempts=2)
    rq_platform.jobs.work(burst=True)
    assert _status(rq_platform.jobs.get(recovering)) == ("succeeded", 3, 100)
    failed = rq_platform.jobs.get(hopeless)
    assert (failed.status, failed.attempts, failed.error) == ("failed", 2, "Planned failure 2 of 9.")


def test_a_job_survives_its_worker_being_killed(rq_platform: Platform, rq_settings: Settings, slug: str,
                                                 tmp_path: Path) -> None:
    job_id = rq_platform.jobs.enqueue(slug, "trellis.count", {"to": 40, "delay": 0.1}, None)
    first = start_worker(rq_settings, tmp_path / "worker-1.log")
    try:
        wait_for(lambda: rq_platform.jobs.get(job_id).progress_done >= 5, "the first worker to make progress")
    finally:
        # kill -9 of the worker and of the scheduler process rq forked beside it (which would outlive it).
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    killed = rq_platform.jobs.get(job_id)
    assert (killed.status, killed.attempts) == ("running", 1)
    assert killed.progress_done < 40
    second = start_worker(rq_settings, tmp_path / "worker-2.log")
    try:
        info = rq_platform.jobs.wait(job_id, timeout=60)
    finally:
        stop(second)
    assert _status(info) == ("succeeded", 2, 100), (tmp_path / "worker-2.log").read_text()
    assert info.message is not None and info.message.startswith("Counted to 40 (resumed at ")


def _status(info: JobInfo) -> tuple[str, int, int | None]:
    return info.status, info.attempts, info.percent
