"""``exports``: a CSV export of ``--rows`` deals as a job run by a separate ``trellis worker`` process.

The deals (name, a lookup to one of ``rows / 50`` accounts, a picklist stage, an amount, a close
date) are bulk-loaded with Core. The export job is queued as the API queues it (rq with
``TRELLIS_REDIS_URL``; on SQLite the job row is written and the worker takes it from the job
table) and run by ``trellis worker --burst`` in its own process, so ``export_peak_mb`` is the peak
resident memory of the process that did the export (``getrusage`` in the job, reported through the
job's checkpoint). While it runs, the bench polls the job as the screens do and counts the distinct
progress figures it saw. Export speed is timed from the job's start to its end (the worker's
start-up is not counted). The baseline is the same rows selected with Core, streamed
(``stream_results``) straight into ``csv.writer`` with no labels, titles or formatting.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

from trellis.platform.core import Platform
from trellis.platform.exports import KIND, ExportSpec
from trellis.platform.jobs import store
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant, delete_tenant

from .list_records import BATCH, STAGES
from .rollup import ACCOUNT, CHILDREN_PER_PARENT

DEAL = {"api_name": "bench_deal", "label": "Bench deal", "fields": [
    {"api_name": "name", "label": "Name", "type": "text", "required": True},
    {"api_name": "account", "label": "Account", "type": "lookup", "target": "bench_account"},
    {"api_name": "stage", "label": "Stage", "type": "picklist", "values": [{"value": s, "label": s.title()}
                                                                           for s in STAGES]},
    {"api_name": "amount", "label": "Amount", "type": "currency"},
    {"api_name": "close_date", "label": "Close date", "type": "date"},
]}


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    os.environ.setdefault("TRELLIS_JOB_QUEUE", f"trellis-bench-{random.randrange(16**8):08x}")
    platform = Platform()
    platform.migrate()
    slug = f"bench-{random.randrange(16**8):08x}"
    create_tenant(platform, slug, "Benchmark")
    for doc in (ACCOUNT, DEAL):
        platform.editor(platform.runtime(slug), Actor(None)).create_object(doc)
    runtime = platform.runtime(slug)
    _fill(runtime.store.engine, runtime.tables["bench_account"], runtime.tables["bench_deal"], rows)
    baseline_s = _baseline(runtime.store.engine, runtime.tables["bench_deal"])
    job_id, seen = _export(platform, slug)
    job = store.get(platform, job_id)
    assert job is not None and job.status == "succeeded", job and job.error
    export_s = (job.finished_at - job.started_at).total_seconds()  # the job's own time, not the worker's start
    yield "export_rows", job.progress_done, ""
    yield "export_peak_mb", job.checkpoint["peak_mb"], "MB"
    yield "export_progress_updates_seen", len(seen), ""
    yield "export_rows_per_s", rows / export_s, "rows/s"
    yield "export_core_csv_rows_per_s", rows / baseline_s, "rows/s"
    yield "export_vs_core_ratio", export_s / baseline_s, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _export(platform: Platform, slug: str) -> tuple[int, set[int]]:
    """Queue the export, run a worker process until idle, and poll the job's progress meanwhile."""
    args = ExportSpec("csv", "bench_deal", sort=(("close_date", False),)).as_args()
    if platform.settings.redis_url:
        job_id = platform.jobs.enqueue(slug, KIND, args, None)
    else:  # not enqueue(): that would start this process's own runner, which must not take the job
        job, _ = store.create(platform, {"tenant_id": platform.tenant(slug).id, "kind": KIND, "args": args,
                                         "created_by": None, "max_attempts": 1, "timeout_s": 7200})
        job_id = job.id
    command = [sys.executable, "-c", "from trellis.renderers.cli import main; main()", "worker", "--burst"]
    with tempfile.TemporaryFile() as log:
        worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        seen: set[int] = set()
        while worker.poll() is None:
            info = platform.jobs.get(job_id)
            if info.status == "running":
                seen.add(info.progress_done)
            time.sleep(0.1)
        if worker.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"The worker failed:\n{log.read().decode()[-3000:]}")
    return job_id, seen


def _baseline(engine, deals) -> float:
    """Seconds to stream the same rows with Core into a CSV file, without any of the export's work."""
    with tempfile.TemporaryDirectory() as folder, (Path(folder) / "core.csv").open("w", newline="") as out:
        started = time.perf_counter()
        writer = csv.writer(out)
        statement = select(deals).order_by(deals.c.close_date, deals.c.id)
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(statement)
            for batch in result.partitions():
                writer.writerows(batch)
        return time.perf_counter() - started


def _fill(engine, accounts, deals, rows: int) -> None:
    """Bulk-load with Core (set-up, not measured)."""
    rng = random.Random(42)
    parents = max(1, rows // CHILDREN_PER_PARENT)
    with engine.begin() as conn:
        conn.execute(insert(accounts), [{"name": f"Account {i}"} for i in range(parents)])
        ids = list(conn.execute(select(accounts.c.id)).scalars())
    start = date(2026, 1, 1)
    for offset in range(0, rows, BATCH):
        batch = [{"name": f"Deal {i}", "account": rng.choice(ids), "stage": rng.choice(STAGES),
                  "amount": Decimal(rng.randint(100, 10_000_000)) / 100,
                  "close_date": start + timedelta(days=rng.randint(0, 720))}
                 for i in range(offset, min(rows, offset + BATCH))]
        with engine.begin() as conn:
            conn.execute(insert(deals), batch)
