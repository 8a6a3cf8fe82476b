"""``schema``: how long metadata changes take on a table of ``--rows`` records.

Adding, renaming and archiving a field should cost the same on a million rows
as on ten: on PostgreSQL each is a catalog-only change (no rewrite of the
table). A type change rewrites every value; it is measured as rows per second
through the metadata editor — in the request (plan with its scan of every value,
shadow column, batched conversion, switch) or, above ``TRELLIS_CONVERT_JOB_ROWS``,
as the resumable job, timed until it finishes — against the same conversion written as
one ``UPDATE ... SET new = CAST(old AS BIGINT)`` in the database. Big tables are
measured both ways an admin can convert them: ``convert_rows_per_s`` with
``"one_pass": true`` (one rewrite of the table, locked meanwhile) and
``convert_online_rows_per_s`` in online batches.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator

from sqlalchemy import insert, text

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.platform.runtime import TenantRuntime
from trellis.platform.storage.plan import Migration
from trellis.tenants.registry import create_tenant, delete_tenant

OBJECT = {"api_name": "bench_item", "label": "Bench item", "fields": [
    {"api_name": "name", "label": "Name", "type": "text"},
    {"api_name": "code", "label": "Code", "type": "text"},
    {"api_name": "ref", "label": "Reference", "type": "text"},
]}
BATCH = 10_000
ACTOR = Actor(user_id=None)


def run(rows: int, repeat: int) -> Iterator[tuple[str, float, str]]:
    platform = Platform()
    platform.migrate()
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    create_tenant(platform, slug, "Benchmark")
    platform.editor(platform.runtime(slug), ACTOR).create_object(OBJECT)
    _fill(platform.runtime(slug), rows)
    times: dict[str, list[float]] = {"add": [], "rename": [], "archive": []}
    for n in range(min(repeat, 5)):
        field = {"api_name": f"extra_{n}", "label": f"Extra {n}", "type": "text"}
        times["add"].append(_timed(_editor(platform, slug).add_field, "bench_item", field))
        times["rename"].append(_timed(_editor(platform, slug).update_field, "bench_item", f"extra_{n}",
                                      {"api_name": f"renamed_{n}"}))
        times["archive"].append(_timed(_editor(platform, slug).archive_field, "bench_item", f"renamed_{n}"))
    yield "schema_rows", rows, ""
    for name, values in times.items():
        yield f"{name}_field_ms", statistics.median(values), "ms"
    baseline_s = _timed(_core_conversion, platform.runtime(slug)) / 1000
    online_s = _timed(_convert, platform, _editor(platform, slug, one_pass=False), "code") / 1000
    one_pass_s = _timed(_convert, platform, _editor(platform, slug, one_pass=True), "ref") / 1000
    yield "convert_rows_per_s", rows / one_pass_s, "rows/s"
    yield "convert_online_rows_per_s", rows / online_s, "rows/s"
    yield "convert_core_rows_per_s", rows / baseline_s, "rows/s"
    yield "convert_vs_core_ratio", one_pass_s / baseline_s, ""
    yield "convert_online_vs_core_ratio", online_s / baseline_s, ""
    delete_tenant(platform, slug)
    platform.dispose()


def _convert(platform: Platform, editor, field: str) -> None:
    """The type change as an admin makes it: in the request, or as a job on a large table (timed to its end)."""
    editor.update_field("bench_item", field, {"type": "integer"})
    if editor.last_job is not None:
        if platform.settings.redis_url:
            platform.jobs.work(burst=True)
        info = platform.jobs.wait(editor.last_job, timeout=3600)
        assert info.status == "succeeded", info.error


def _editor(platform: Platform, slug: str, **migration: bool):
    return platform.editor(platform.runtime(slug), ACTOR,
                           migration=Migration(keep_unconvertible=True, **migration) if migration else None)


def _fill(runtime: TenantRuntime, rows: int) -> None:
    table = runtime.tables["bench_item"]
    with runtime.store.engine.begin() as conn:
        for start in range(0, rows, BATCH):
            conn.execute(insert(table), [{"name": f"Item {i}", "code": str(i * 7), "ref": str(i * 7)}
                                         for i in range(start, min(rows, start + BATCH))])


def _core_conversion(runtime: TenantRuntime) -> None:
    """The same text → integer conversion as one statement, into a scratch column dropped afterwards."""
    table = runtime.tables["bench_item"]
    qualified = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
    with runtime.store.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {qualified} ADD COLUMN scratch_code BIGINT"))
        conn.execute(text(f"UPDATE {qualified} SET scratch_code = CAST(code AS BIGINT)"))
        conn.execute(text(f"ALTER TABLE {qualified} DROP COLUMN scratch_code"))


def _timed(action: Callable[..., object], *args: object) -> float:
    """Milliseconds one call takes (the editor is made beforehand: its runtime is not timed)."""
    started = time.perf_counter()
    action(*args)
    return (time.perf_counter() - started) * 1000
