"""Separate ``trellis worker`` processes for tests: start one on a test's databases and queue, stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from trellis.platform.config import Settings


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
