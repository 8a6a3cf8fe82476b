"""``formula``: a list with a formula column and a ``where=`` filter on it, through the API versus Core.

The API side adds a formula ``weighted = amount * probability / 100`` to the object and asks for the
top deals, ``where=weighted >= 250000&sort=-weighted``: the record service compiles the formula into
the SELECT, the filter into the WHERE and the sort into the ORDER BY, so the database computes all
three over every row. The baseline is the same query written by hand in SQLAlchemy Core (the product
inline, no blank or division-by-zero guards) plus ``json.dumps``. ``list_formula_where_by_id_ratio``
is the same filter in id order, where the database stops after the first 51 matches, so the figure
is mostly the platform's fixed cost per request (compare ``list_api_vs_core_ratio``). Follows
``list_records``: same set-up, interleaved timing, medians.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import insert, select

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.renderers.app import create_app
from trellis.tenants.registry import delete_tenant

from .list_records import BATCH, _interleaved, _setup

WEIGHTED = {"api_name": "weighted", "label": "Weighted", "type": "formula", "expression": "amount * probability / 100"}
PROBABILITY = {"api_name": "probability", "label": "Probability", "type": "percent"}
THRESHOLD = 250_000


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    token = _setup(platform, slug, 0)
    for field in (PROBABILITY, WEIGHTED):
        platform.editor(platform.runtime(slug), Actor(None)).add_field("bench_deal", dict(field))
    runtime = platform.runtime(slug)
    table = runtime.tables["bench_deal"]
    _fill(runtime.store.engine, table, rows)
    client = create_app(platform=platform).test_client()
    url = f"/t/{slug}/api/v1/records/bench_deal"
    headers = {"Authorization": f"Bearer {token}"}
    weighted = table.c.amount * table.c.probability / 100

    def measure(sort: str | None) -> tuple[float, float]:
        query = {"where": f"weighted >= {THRESHOLD}", "limit": 50, **({"sort": sort} if sort else {})}
        order = [weighted.desc().nulls_last(), table.c.id.desc()] if sort else [table.c.id]

        def through_api() -> None:
            response = client.get(url, query_string=query, headers=headers)
            assert response.status_code == 200 and len(response.get_json()["data"]) == 50, response.data[:300]

        def through_core() -> None:
            statement = (select(table, weighted.label("weighted")).where(weighted >= THRESHOLD)
                         .order_by(*order).limit(51))
            with runtime.store.engine.connect() as conn:
                records = [dict(row) for row in conn.execute(statement).mappings()]
            json.dumps({"data": records[:50]}, default=str)

        return _interleaved(through_api, through_core, repeat)

    api_ms, core_ms = measure("-weighted")
    by_id_api_ms, by_id_core_ms = measure(None)
    yield "formula_rows", rows, ""
    yield "list_formula_api_ms", api_ms, "ms"
    yield "list_formula_core_ms", core_ms, "ms"
    yield "list_formula_where_ratio", api_ms / core_ms, ""
    yield "list_formula_where_by_id_api_ms", by_id_api_ms, "ms"
    yield "list_formula_where_by_id_core_ms", by_id_core_ms, "ms"
    yield "list_formula_where_by_id_ratio", by_id_api_ms / by_id_core_ms, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _fill(engine, table, rows: int) -> None:
    """Bulk-load with Core (set-up, not measured); about one deal in five passes the filter."""
    rng = random.Random(42)
    for offset in range(0, rows, BATCH):
        batch = [{"name": f"Deal {i}", "stage": "won", "amount": Decimal(rng.randint(100, 10_000_000)) / 10,
                  "probability": rng.choice([10, 25, 50, 75, 90])}
                 for i in range(offset, min(rows, offset + BATCH))]
        with engine.begin() as conn:
            conn.execute(insert(table), batch)
