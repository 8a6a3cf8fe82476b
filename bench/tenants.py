"""``tenants``: what a tenant costs — to provision, to keep compiled, to recompile, and to have many of.

- ``provision_tenant_s``: median seconds to create an empty tenant (schema or file + revision 0).
- ``tenant_runtime_mb``: memory of one tenant's compiled runtime for 20 objects x 25 fields — Core
  tables, the marshmallow schemas of every object and the screens app — measured with tracemalloc
  (and ``tenant_runtime_without_screens_mb``, the same without the screens app).
- ``first_request_after_revision_ms``: milliseconds of the first API list plus the first screen
  list after a field was added (what a user waits for after a configuration change), and each part.
- ``list_1000_tenants_vs_1_ratio``: the ``list`` request on one tenant when N tenants (``--tenants``,
  default 1,000) exist and have each served a request, against the same request when it was the only one.
"""

from __future__ import annotations

import gc
import re
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, Table, text

from trellis.platform.controlplane.accounts import add_membership, create_token, create_user, find_tenant
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.renderers.app import create_app, settle_heap
from trellis.renderers.screens.tenant_app import build_tenant_app
from trellis.tenants.registry import create_tenant, delete_tenant

from .list_records import OBJECT, _fill, _interleaved

PASSWORD = "bench-password"
FIELD_TYPES = [{"type": "text"}, {"type": "integer"}, {"type": "currency"}, {"type": "date"},
               {"type": "boolean"}, {"type": "email"},
               {"type": "picklist", "values": [{"value": v, "label": v.title()} for v in ("a", "b", "c")]}]


def run(rows: int, repeat: int, tenants: int = 1000) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    made: list[str] = []
    try:
        yield "provision_tenant_s", _provision(platform, made, max(3, repeat // 6)), "s"
        wide, token = _member_tenant(platform, made, "wide")
        _configure_wide(platform, wide)
        compiled_mb, total_mb = _runtime_mb(platform, wide)
        yield "tenant_runtime_mb", total_mb, "MB"
        yield "tenant_runtime_without_screens_mb", compiled_mb, "MB"
        client = create_app(platform=platform).test_client()
        settle_heap()  # as wsgi.py and `trellis serve` do once the app is loaded
        api_ms, screen_ms = _after_revision(platform, client, wide, token, max(3, repeat // 6))
        yield "first_request_after_revision_ms", api_ms + screen_ms, "ms"
        yield "first_api_after_revision_ms", api_ms, "ms"
        yield "first_screen_after_revision_ms", screen_ms, "ms"
        yield "list_tenants", tenants, ""
        alone, crowded = _many_vs_one(platform, client, made, rows, repeat, tenants)
        yield "list_one_tenant_ms", alone, "ms"
        yield "list_many_tenants_ms", crowded, "ms"
        yield "list_1000_tenants_vs_1_ratio", crowded / alone, ""
    finally:
        for slug in made:
            delete_tenant(platform, slug)
        platform.dispose()


def _slug(kind: str) -> str:
    return f"bench-{kind}-{uuid.uuid4().hex[:8]}"


def _provision(platform: Platform, made: list[str], times: int) -> float:
    seconds = []
    for _ in range(times):
        slug = _slug("prov")
        began = time.perf_counter()
        create_tenant(platform, slug)
        seconds.append(time.perf_counter() - began)
        made.append(slug)
    return statistics.median(seconds)


def _member_tenant(platform: Platform, made: list[str], kind: str, email: str | None = None) -> tuple[str, str]:
    """A tenant with one admin (a new user, or ``email``'s) and their API token."""
    slug = _slug(kind)
    create_tenant(platform, slug)
    made.append(slug)
    with platform.control() as session:
        user = create_user(session, email=f"{slug}@bench.example", password=PASSWORD)
        add_membership(session, find_tenant(session, slug), user)
        token, _ = create_token(session, tenant=find_tenant(session, slug), user=user, name="bench")
    return slug, token


def _configure_wide(platform: Platform, slug: str) -> None:
    """20 objects x 25 fields, each object but the first with a lookup to the one before."""
    for index in range(20):
        fields: list[dict[str, Any]] = [{"api_name": f"f{n:02d}", "label": f"Field {n}",
                                         **FIELD_TYPES[n % len(FIELD_TYPES)]} for n in range(24)]
        fields[0] |= {"type": "text", "required": True}
        fields.append({"api_name": "parent", "label": "Parent", "type": "lookup", "target": f"obj{index - 1:02d}"}
                      if index else {"api_name": "note", "label": "Note", "type": "long_text"})
        doc = {"api_name": f"obj{index:02d}", "label": f"Object {index}", "name_field": "f00", "fields": fields}
        platform.editor(platform.runtime(slug), Actor(None)).create_object(doc)


def _runtime_mb(platform: Platform, slug: str) -> tuple[float, float]:
    """Memory kept by one freshly compiled runtime with all its schemas, and by that plus its screens app."""
    platform.forget(slug)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    runtime = platform.runtime(slug)
    for name in runtime.objects:
        runtime.input_schema(name), runtime.output_schema(name)
    compiled = _grown_mb(before)
    app = build_tenant_app(platform, runtime)
    total = _grown_mb(before)
    tracemalloc.stop()
    del app
    return compiled, total


def _grown_mb(before: tracemalloc.Snapshot) -> float:
    gc.collect()
    return sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename")) / 1024 / 1024


def _after_revision(platform: Platform, client: FlaskClient, slug: str, token: str,
                    times: int) -> tuple[float, float]:
    """Median ms of the first API call and of the first screen after each of ``times`` new fields."""
    _sign_in(client, slug)
    api_ms, screen_ms = [], []
    for n in range(times):
        platform.editor(platform.runtime(slug), Actor(None)).add_field(
            "obj10", {"api_name": f"added{n}", "label": f"Added {n}", "type": "text"})
        began = time.perf_counter()
        api = client.get(f"/t/{slug}/api/v1/records/obj10?limit=20", headers={"Authorization": f"Bearer {token}"})
        middle = time.perf_counter()
        screen = client.get(f"/t/{slug}/records/obj10/")
        api_ms.append((middle - began) * 1000)
        screen_ms.append((time.perf_counter() - middle) * 1000)
        assert api.status_code == screen.status_code == 200 and f"Added {n}" in screen.text, screen.status_code
    return statistics.median(api_ms), statistics.median(screen_ms)


def _sign_in(client: FlaskClient, slug: str) -> None:
    page = client.get(f"/t/{slug}/login")
    csrf = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)[1])
    done = client.post(f"/t/{slug}/login", data={"email": f"{slug}@bench.example", "password": PASSWORD,
                                                 "csrf_token": csrf})
    assert done.status_code == 302, done.status_code


def _many_vs_one(platform: Platform, client: FlaskClient, made: list[str], rows: int, repeat: int,
                 tenants: int) -> tuple[float, float]:
    """The list request on one tenant alone, then with ``tenants`` others that each served a request."""
    slug, token = _member_tenant(platform, made, "list")
    platform.editor(platform.runtime(slug), Actor(None)).create_object(OBJECT)
    runtime = platform.runtime(slug)
    _fill(runtime.store.engine, runtime.tables["bench_deal"], min(rows, 20_000), None)
    _analyze(runtime.store.engine, runtime.tables["bench_deal"])
    measured = _list_request(client, slug, token)
    alone = _median_ms(measured, repeat)
    for _ in range(tenants - 1):
        other, other_token = _member_tenant(platform, made, "many")
        platform.editor(platform.runtime(other), Actor(None)).create_object(OBJECT)
        _list_request(client, other, other_token)()
    crowded = _median_ms(measured, repeat)
    return alone, crowded


def _analyze(engine: Engine, table: Table) -> None:
    """Do now what autovacuum would do during the crowd phase (statistics, visibility map), so the two
    measurements differ by the number of tenants and not by the table's upkeep."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'VACUUM (ANALYZE) "{table.schema}"."{table.name}"'))


def _list_request(client: FlaskClient, slug: str, token: str) -> Callable[[], None]:
    url = f"/t/{slug}/api/v1/records/bench_deal?stage=won&sort=-amount&limit=50"
    headers = {"Authorization": f"Bearer {token}"}

    def call() -> None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.data[:300]

    return call


def _median_ms(call: Callable[[], None], repeat: int) -> float:
    return _interleaved(call, lambda: None, repeat)[0]
