"""``trellis automations``: read a tenant's automation run log, scan for due time-based rules now."""

from __future__ import annotations

from typing import Any

import click

from trellis.platform.core import Platform

from .common import reported


@click.group()
def automations() -> None:
    """Automation rules: their run log, and scanning for due time-based and scheduled rules."""


@automations.command("runs")
@click.option("--tenant", "slug", required=True)
@click.option("--object", "object_name", help="Only this object's rules.")
@click.option("--rule", help="Only this rule (with --object).")
@click.option("--status", type=click.Choice(["queued", "running", "retrying", "succeeded", "failed", "stopped",
                                             "skipped"]))
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def runs(platform: Platform, slug: str, object_name: str | None, rule: str | None, status: str | None,
         limit: int) -> None:
    """The run log, newest first: id, rule, record, trigger, status, depth and the error or reason."""
    with reported():
        found = platform.automation.runs(platform.runtime(slug), object_name, rule, status=status, limit=limit)
    for run in found:
        click.echo(_line(run))


@automations.command("scan")
@click.option("--tenant", "slug", required=True)
@click.pass_obj
def scan(platform: Platform, slug: str) -> None:
    """Start the runs of time-based and scheduled rules that are due now (workers also scan periodically)."""
    with reported():
        started = platform.automation.scan(slug)
    click.echo(f"Started {started} run{'s' if started != 1 else ''}.")


def _line(run: dict[str, Any]) -> str:
    text = (f"{run['id']}\t{run['object']}.{run['rule']}\trecord {run['record_id']}\t{run['trigger']}\t"
            f"{run['status']}\tdepth {run['depth']}\t{run['created_at'].isoformat(timespec='seconds')}")
    return f"{text}\t{run['error']}" if run["error"] else text
