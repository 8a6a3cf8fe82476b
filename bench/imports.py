"""``import``: a CSV of ``--rows`` deals imported as a job, versus a Core executemany insert of the same rows.

The deal object is the sales kind: an autonumber, a required lookup to one of 500 accounts
(matched by account name in the file), a picklist with a default, a unique email, a
currency, an integer, a date. One row in a hundred is bad (an unknown account, a date that
is not one, or an email used twice) and must be rejected with its reason. The figure
``import_rows_per_s`` is the file's rows over the wall time of the job (parse, match,
type-check, write, report) run by a worker in this process. The baseline inserts the same
good rows, already typed, into an identical table with Core, 1,000 rows per executemany
(no RETURNING);
``import_ratio`` is the import's time over the baseline's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from trellis.platform.core import Platform
from trellis.platform.imports.service import Imports
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant, delete_tenant

ACCOUNTS = 500
BATCH = 1000
ACCOUNT = {"api_name": "bench_account", "label": "Bench account", "name_field": "name",
           "fields": [{"api_name": "name", "label": "Name", "type": "text", "required": True, "unique": True}]}


def deal_object(api_name: str) -> dict[str, Any]:
    return {"api_name": api_name, "label": "Bench deal", "name_field": "name", "fields": [
        {"api_name": "number", "label": "Number", "type": "autonumber", "format": "D-{000000}"},
        {"api_name": "name", "label": "Deal name", "type": "text", "required": True},
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "bench_account", "required": True},
        {"api_name": "stage", "label": "Stage", "type": "picklist", "required": True, "default": "new",
         "values": [{"value": v, "label": v.title()} for v in ("new", "qualified", "won", "lost")]},
        {"api_name": "email", "label": "Contact email", "type": "email", "unique": True},
        {"api_name": "amount", "label": "Amount", "type": "currency"},
        {"api_name": "seats", "label": "Seats", "type": "integer"},
        {"api_name": "close_date", "label": "Close date", "type": "date"},
    ]}


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{random.randrange(16**8):08x}"
    create_tenant(platform, slug, "Benchmark")
    actor = Actor(None)
    for doc in (ACCOUNT, deal_object("bench_deal"), deal_object("bench_deal_core")):
        platform.editor(platform.runtime(slug), actor).create_object(doc)
    runtime = platform.runtime(slug)
    with runtime.store.engine.begin() as conn:
        conn.execute(insert(runtime.tables["bench_account"]),
                     [{"name": f"Account {i}", "version": 1} for i in range(ACCOUNTS)])
    text, typed, bad = make_file(rows)
    imports = Imports(platform, runtime, actor)
    table = imports.read(text.encode())
    spec = imports.spec("bench_deal", table)

    started = time.perf_counter()
    import_id = imports.start(spec, table, text, "deals.csv")
    if platform.settings.redis_url:  # rq: be the worker; embedded, the job runs on this process's runner thread
        platform.jobs.work(burst=True)
    platform.jobs.wait(status_job(imports, import_id), timeout=3600)
    import_s = time.perf_counter() - started
    status = imports.status(import_id)
    assert status["status"] == "succeeded", status
    assert status["rejected"] == bad and status["created"] == rows - bad, status

    core_s = _core_insert(platform, slug, typed)
    yield "import_rows", rows, ""
    yield "import_rejected_rows", status["rejected"], ""
    yield "import_s", import_s, "s"
    yield "import_rows_per_s", int(rows / import_s), ""
    yield "import_core_insert_s", core_s, "s"
    yield "import_ratio", import_s / core_s, ""
    platform.jobs.stop()
    delete_tenant(platform, slug)
    platform.dispose()


def status_job(imports: Imports, import_id: int) -> int:
    return imports.status(import_id)["job_id"]


def make_file(rows: int) -> tuple[str, list[dict[str, Any]], int]:
    """The CSV text, the good rows as typed values (for the baseline), and how many rows are bad."""
    rng = random.Random(7)
    lines = ["Deal name,Account,Stage,Contact email,Amount,Seats,Close date"]
    typed: list[dict[str, Any]] = []
    bad = 0
    start = date(2025, 1, 1)
    for i in range(rows):
        account = rng.randrange(ACCOUNTS)
        amount = Decimal(rng.randint(100, 10_000_000)) / 100
        close = start + timedelta(days=rng.randrange(365))
        stage, email, account_name, close_text = rng.choice(("new", "qualified", "won")), f"c{i}@example.com", \
            f"Account {account}", close.isoformat()
        if i % 100 == 99:
            bad += 1
            kind = (i // 100) % 3
            account_name = "Nobody Inc" if kind == 0 else account_name
            close_text = "2025-02-30" if kind == 1 else close_text
            email = "c0@example.com" if kind == 2 else email
        else:
            typed.append({"name": f"Deal {i}", "account": account + 1, "stage": stage, "email": email,
                          "amount": amount, "seats": i % 50, "close_date": close, "number": f"D-{i:06d}",
                          "version": 1})
        lines.append(f"Deal {i},{account_name},{stage},{email},{amount},{i % 50},{close_text}")
    return "\n".join(lines) + "\n", typed, bad


def _core_insert(platform: Platform, slug: str, typed: list[dict[str, Any]]) -> float:
    """The baseline: the same good rows, typed, inserted 1,000 at a time with Core executemany.

    No RETURNING: the plain Core way needs no ids back, so SQLAlchemy hands the rows to the
    driver's own executemany (psycopg pipelines it) instead of paging them into one huge
    multi-row statement, which psycopg would have to parse for every page.
    """
    runtime = platform.runtime(slug)
    table = runtime.tables["bench_deal_core"]
    started = time.perf_counter()
    for offset in range(0, len(typed), BATCH):
        with runtime.store.engine.begin() as conn:
            conn.execute(insert(table), typed[offset:offset + BATCH])
    return time.perf_counter() - started
