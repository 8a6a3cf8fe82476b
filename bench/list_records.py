"""``list``: 50 records, filtered and sorted, through the API versus SQLAlchemy Core.

Both sides run the same query on the same database in the same process: the
API side goes through Flask, token auth, the runtime cache, the record
service and JSON encoding; the baseline is the query written directly in Core
plus ``json.dumps``. The ratio is the price of the platform's layers.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.renderers.app import create_app
from trellis.tenants.registry import create_tenant, delete_tenant

STAGES = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
OBJECT = {
    "api_name": "bench_deal",
    "label": "Bench deal",
    "fields": [
        {"api_name": "name", "label": "Name", "type": "text", "required": True},
        {"api_name": "stage", "label": "Stage", "type": "picklist", "indexed": True,
         "values": [{"value": s, "label": s.title()} for s in STAGES]},
        {"api_name": "amount", "label": "Amount", "type": "currency"},
        {"api_name": "close_date", "label": "Close date", "type": "date"},
    ],
}
BATCH = 5_000


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    token = _setup(platform, slug, rows)
    runtime = platform.runtime(slug)
    table = runtime.tables["bench_deal"]
    client = create_app(platform=platform).test_client()
    url = f"/t/{slug}/api/v1/records/bench_deal?stage=won&sort=-amount&limit=50"
    headers = {"Authorization": f"Bearer {token}"}

    def through_api() -> None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and len(response.get_json()["data"]) == 50, response.data[:300]

    def through_core() -> None:
        query = (select(table).where(table.c.stage == "won")
                 .order_by(table.c.amount.desc(), table.c.id.desc()).limit(51))
        with runtime.store.engine.connect() as conn:
            records = [dict(row) for row in conn.execute(query).mappings()]
        json.dumps({"data": records[:50]}, default=str)

    api_ms, core_ms = _interleaved(through_api, through_core, repeat)
    yield "list_rows", rows, ""
    yield "list_api_ms", api_ms, "ms"
    yield "list_core_ms", core_ms, "ms"
    yield "list_api_vs_core_ratio", api_ms / core_ms, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _setup(platform: Platform, slug: str, rows: int) -> str:
    create_tenant(platform, slug, "Benchmark")
    with platform.control() as session:
        tenant = find_tenant(session, slug)
        user = create_user(session, email=f"{slug}@bench.example", password="bench-password")
        add_membership(session, tenant, user)
        token, _ = create_token(session, tenant=tenant, user=user, name="bench")
        user_id = user.id
    platform.editor(platform.runtime(slug), Actor(user_id)).create_object(OBJECT)
    runtime = platform.runtime(slug)
    _fill(runtime.store.engine, runtime.tables["bench_deal"], rows, user_id)
    return token


def _fill(engine, table, rows: int, user_id: int) -> None:
    """Bulk-load the rows with Core: this is set-up, not the figure being measured."""
    rng = random.Random(42)
    start = date(2026, 1, 1)
    for offset in range(0, rows, BATCH):
        batch = [{"name": f"Deal {i}", "stage": rng.choice(STAGES), "owner": user_id,
                  "amount": Decimal(rng.randint(100, 10_000_000)) / 100,
                  "close_date": start + timedelta(days=rng.randint(0, 700))}
                 for i in range(offset, min(rows, offset + BATCH))]
        with engine.begin() as conn:
            conn.execute(insert(table), batch)


def _interleaved(first: Callable[[], None], second: Callable[[], None], repeat: int) -> tuple[float, float]:
    """Median milliseconds of each, alternating so both see the same machine noise."""
    for _ in range(3):
        first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for index, call in enumerate((first, second)):
            began = time.perf_counter()
            call()
            times[index].append((time.perf_counter() - began) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])
