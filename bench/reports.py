"""``reports``: a summary report (open and closed deals grouped by stage and close month, sum of amount
and count, with subtotals and a grand total) run by the report engine versus the same query by hand.

The baseline is written in SQLAlchemy Core in the same run: ``GROUP BY ROLLUP(stage, month)`` on
PostgreSQL and the three levels as a ``UNION ALL`` on SQLite (which has no ROLLUP), fetched as dicts.
The engine's figure includes compiling the definition and nesting the groups. Interleaved medians.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Date, cast, func, insert, literal, null, select, union_all

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.platform.reports import run_report
from trellis.tenants.registry import create_tenant, delete_tenant

from .list_records import BATCH, OBJECT, STAGES, _interleaved

REPORT = {"api_name": "by_stage_month", "label": "By stage and month", "object": "bench_deal", "limit": 0,
          "group_by": [{"field": "stage"}, {"field": "close_date", "bucket": "month"}],
          "columns": [{"field": "amount"}], "aggregates": [{"op": "sum", "column": "amount"}, {"op": "count"}]}


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{random.randrange(16**8):08x}"
    create_tenant(platform, slug, "Benchmark")
    platform.editor(platform.runtime(slug), Actor(None)).create_object(OBJECT)
    runtime = platform.runtime(slug)
    table = runtime.tables["bench_deal"]
    _fill(runtime.store.engine, table, rows)
    service = platform.records(runtime, Actor(None))
    by_hand = _by_hand(table, runtime.store.engine.dialect.name)

    def through_engine() -> None:
        result = run_report(service, REPORT)
        assert result["total"]["values"]["count"] == rows

    def through_core() -> None:
        with runtime.store.engine.connect() as conn:
            found = [dict(row) for row in conn.execute(by_hand).mappings()]
        assert any(r["stage"] is None and r["count"] == rows for r in found)

    through_core()
    engine_ms, core_ms = _interleaved(through_engine, through_core, repeat)
    yield "report_rows", rows, ""
    yield "report_engine_ms", engine_ms, "ms"
    yield "report_core_ms", core_ms, "ms"
    yield "report_vs_core_ratio", engine_ms / core_ms, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _by_hand(table, dialect: str):
    measures = (func.sum(table.c.amount).label("amount"), func.count().label("count"))
    if dialect == "postgresql":
        month = cast(func.date_trunc("month", table.c.close_date), Date).label("month")
        return select(table.c.stage, month, *measures).group_by(func.rollup(table.c.stage, month))
    month = func.date(table.c.close_date, "start of month").label("month")
    return union_all(
        select(table.c.stage, month, *measures).group_by(table.c.stage, month),
        select(table.c.stage, null().label("month"), *measures).group_by(table.c.stage),
        select(literal(None).label("stage"), null().label("month"), *measures),
    )


def _fill(engine, table, rows: int) -> None:
    """Bulk-load with Core (set-up, not measured): two years of close dates."""
    rng = random.Random(42)
    first = date(2024, 1, 1)
    for offset in range(0, rows, BATCH):
        batch = [{"name": f"Deal {i}", "stage": rng.choice(STAGES), "amount": Decimal(rng.randint(100, 10**7)) / 100,
                  "close_date": first + timedelta(days=rng.randint(0, 729))}
                 for i in range(offset, min(rows, offset + BATCH))]
        with engine.begin() as conn:
            conn.execute(insert(table), batch)
