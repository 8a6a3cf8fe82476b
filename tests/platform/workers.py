"""Separate ``trellis worker`` processes for tests: start one on a test's databases and queue, stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trellis.platform.config import Settings
from trellis.platform.core import Platform


def worker_settings(postgres_url: str, redis_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """PostgreSQL + Redis with a queue of the test's own (Redis is shared) and heartbeats fast enough to test."""
    return Settings(database_url=postgres_url, redis_url=redis_url, data_dir=data_dir, secret_key="test-secret",
                    job_queue=f"trellis-test-{uuid.uuid4().hex[:10]}", job_heartbeat_s=0.5, job_backoff_s=(0.0,),
                    **overrides)


@contextmanager
def running(settings: Settings) -> Iterator[Platform]:
    """A migrated platform on ``settings`` whose job runner is stopped afterwards."""
    platform = Platform(settings)
    platform.migrate()
    yield platform
    platform.jobs.stop()
    platform.dispose()


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TRELLIS_DATABASE_URL=settings.database_url or "", TRELLIS_REDIS_URL=settings.redis_url or "",
               TRELLIS_DATA_DIR=str(settings.data_dir), TRELLIS_SECRET_KEY=settings.secret_key,
               TRELLIS_JOB_QUEUE=settings.job_queue, TRELLIS_JOB_HEARTBEAT_S=str(settings.job_heartbeat_s),
               TRELLIS_JOB_BACKOFF_S="0")
    command = [sys.executable, "-c", "from trellis.renderers.cli import main; main()", "worker"]
    with log.open("wb") as out:  # a session of its own: the worker and its scheduler are one process group
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}.")
        time.sleep(0.05)


def kill(process: subprocess.Popen[bytes]) -> None:
    """kill -9 the worker and the scheduler rq forked beside it (which would outlive it)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
