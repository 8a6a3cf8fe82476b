"""``trellis worker`` and ``trellis jobs``: run background jobs, look at them, retry failed ones."""

from __future__ import annotations

import click

from trellis.platform.core import Platform
from trellis.platform.jobs import JobInfo

from .common import reported, tenant_or_exit


@click.command()
@click.option("--burst", is_flag=True, help="Stop when no job is waiting instead of waiting for more.")
@click.pass_obj
def worker(platform: Platform, burst: bool) -> None:
    """Run background jobs: an rq worker with TRELLIS_REDIS_URL, else the in-process runner.

    Handlers come from Trellis and from the modules named in TRELLIS_JOB_MODULES (comma-separated).
    """
    where = f"rq queue {platform.settings.job_queue!r}" if platform.settings.redis_url else "the job table"
    click.echo(f"Worker taking jobs from {where}{' until idle' if burst else ''}.")
    platform.jobs.work(burst=burst)


@click.group()
def jobs() -> None:
    """Look at background jobs and retry failed ones."""


@jobs.command("list")
@click.option("--tenant", "slug", required=True)
@click.option("--status", type=click.Choice(["queued", "running", "succeeded", "failed"]))
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def jobs_list(platform: Platform, slug: str, status: str | None, limit: int) -> None:
    """The tenant's jobs, newest first."""
    with reported():
        with platform.control() as session:
            tenant_id = tenant_or_exit(session, slug).id
        for info in platform.jobs.list(tenant_id, status=status, limit=limit):
            click.echo(_line(info))


@jobs.command("show")
@click.argument("job_id", type=int)
@click.pass_obj
def jobs_show(platform: Platform, job_id: int) -> None:
    """Everything about one job."""
    with reported():
        info = platform.jobs.get(job_id)
    click.echo(_line(info))
    for name in ("args", "attempts", "max_attempts", "message", "error", "created_by", "created_at", "started_at",
                 "finished_at", "heartbeat_at", "idempotency_key"):
        click.echo(f"  {name}: {getattr(info, name)}")


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.option("--wait", "wait_s", type=float, default=0, help="Seconds to wait for the job to finish.")
@click.pass_obj
def jobs_retry(platform: Platform, job_id: int, wait_s: float) -> None:
    """Queue a failed job again with a fresh set of attempts."""
    with reported():
        info = platform.jobs.retry(job_id)
        if wait_s > 0:
            info = platform.jobs.wait(job_id, wait_s)
    click.echo(_line(info))


def _line(info: JobInfo) -> str:
    progress = f"{info.percent}%" if info.percent is not None else f"{info.progress_done} done"
    text = f"{info.id}\t{info.kind}\t{info.status}\t{progress}\tattempt {info.attempts}/{info.max_attempts}"
    detail = info.error if info.status == "failed" else info.message
    return f"{text}\t{detail}" if detail else text
