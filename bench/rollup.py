"""``rollup``: parents listed by a rollup of their children, through the record service versus Core.

``--rows`` deals (default 100,000) under ``rows / 50`` accounts (2,000). The account gets the rollup
``open_pipeline = SUM(deal.amount) where NOT (stage IN ("won", "lost"))``; the figure lists the top
accounts by it with a ``where=`` on it (``open_pipeline >= threshold``, sorted descending, 50 a page)
through ``RecordService.list``, which compiles the rollup into a correlated subquery per account
(using the index every lookup gets). The baseline is the same list written by hand in SQLAlchemy Core
as a GROUP BY of the open deals joined to the accounts, plus ``json.dumps``. Same timing as ``list``:
interleaved, medians.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import func, insert, select

from trellis.platform.core import Platform
from trellis.platform.records.query import ListQuery, where_condition
from trellis.platform.records.service import Actor
from trellis.tenants.registry import create_tenant, delete_tenant

from .list_records import BATCH, STAGES, _interleaved

ACCOUNT = {"api_name": "bench_account", "label": "Bench account",
           "fields": [{"api_name": "name", "label": "Name", "type": "text", "required": True}]}
DEAL = {"api_name": "bench_deal", "label": "Bench deal", "fields": [
    {"api_name": "name", "label": "Name", "type": "text", "required": True},
    {"api_name": "account", "label": "Account", "type": "lookup", "target": "bench_account"},
    {"api_name": "stage", "label": "Stage", "type": "picklist", "values": [{"value": s, "label": s} for s in STAGES]},
    {"api_name": "amount", "label": "Amount", "type": "currency"},
]}
ROLLUP = {"api_name": "open_pipeline", "label": "Open pipeline", "type": "rollup", "child_object": "bench_deal",
          "via": "account", "function": "sum", "field": "amount", "filter": 'NOT (stage IN ("won", "lost"))'}
CHILDREN_PER_PARENT = 50


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{random.randrange(16**8):08x}"
    create_tenant(platform, slug, "Benchmark")
    for doc in (ACCOUNT, DEAL):
        platform.editor(platform.runtime(slug), Actor(None)).create_object(doc)
    platform.editor(platform.runtime(slug), Actor(None)).add_field("bench_account", dict(ROLLUP))
    runtime = platform.runtime(slug)
    accounts, deals = runtime.tables["bench_account"], runtime.tables["bench_deal"]
    parents = max(1, rows // CHILDREN_PER_PARENT)
    threshold = _fill(runtime.store.engine, accounts, deals, parents, rows)
    service = platform.records(runtime, Actor(None))
    where = where_condition(f"open_pipeline >= {threshold}", runtime.object("bench_account"), runtime.objects, None)
    query = ListQuery(where=where, sort=[("open_pipeline", True)], limit=50)
    open_deals = (select(deals.c.account, func.sum(deals.c.amount).label("total"))
                  .where(deals.c.stage.not_in(["won", "lost"])).group_by(deals.c.account).subquery())
    total = func.coalesce(open_deals.c.total, 0)
    by_hand = (select(accounts, total.label("open_pipeline"))
               .outerjoin(open_deals, open_deals.c.account == accounts.c.id)
               .where(total >= threshold).order_by(total.desc(), accounts.c.id.desc()).limit(51))
    expected: list[int] = []

    def through_service() -> None:
        page = service.list("bench_account", query)
        json.dumps({"data": page.records}, default=str)
        assert [r["id"] for r in page.records] == expected

    def through_core() -> None:
        with runtime.store.engine.connect() as conn:
            records = [dict(row) for row in conn.execute(by_hand).mappings()]
        json.dumps({"data": records[:50]}, default=str)
        expected[:] = [r["id"] for r in records[:50]]

    through_core()
    assert expected, "the threshold should leave some accounts (a page of 50 from 6,000 rows up)"
    service_ms, core_ms = _interleaved(through_service, through_core, repeat)
    yield "rollup_rows", rows, ""
    yield "rollup_parents", parents, ""
    yield "list_rollup_service_ms", service_ms, "ms"
    yield "list_rollup_core_ms", core_ms, "ms"
    yield "list_rollup_ratio", service_ms / core_ms, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _fill(engine, accounts, deals, parents: int, rows: int) -> Decimal:
    """Bulk-load with Core (set-up, not measured); returns a threshold about a third of the accounts pass."""
    rng = random.Random(42)
    with engine.begin() as conn:
        ids = [conn.execute(insert(accounts).values(name=f"Account {i}").returning(accounts.c.id)).scalar_one()
               for i in range(parents)]
    totals = dict.fromkeys(ids, Decimal(0))
    for offset in range(0, rows, BATCH):
        batch = [{"name": f"Deal {i}", "account": rng.choice(ids), "stage": rng.choice(STAGES),
                  "amount": Decimal(rng.randint(100, 10_000_000)) / 100}
                 for i in range(offset, min(rows, offset + BATCH))]
        for deal in batch:
            if deal["stage"] not in ("won", "lost"):
                totals[deal["account"]] += deal["amount"]
        with engine.begin() as conn:
            conn.execute(insert(deals), batch)
    ranked = sorted(totals.values(), reverse=True)
    at = min(len(ranked) - 2, max(60, len(ranked) // 3))
    return (ranked[at] + ranked[at + 1]) / 2  # between two totals, so float sums on SQLite cannot straddle it
