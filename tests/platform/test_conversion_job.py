"""Type conversions of large tables run as resumable jobs; the field switches type only at the end.

The threshold is lowered so a few hundred records count as "large". On
PostgreSQL + Redis the job goes through rq and a worker in the test process
(a separate worker killed mid-conversion is in ``test_conversion_worker``);
embedded, it runs on the in-process runner.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, select
from workers import running

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.jobs import JobInfo
from trellis.platform.records.query import ListQuery
from trellis.platform.records.service import Actor
from trellis.platform.storage.plan import Migration
from trellis.platform.storage.system import conversion_table
from trellis.tenants.registry import create_tenant

ROWS = 230
ITEM = {"api_name": "item", "label": "Item", "fields": [{"api_name": "code", "label": "Code", "type": "text"}]}
ACTOR = Actor(user_id=None)


@pytest.fixture(scope="module")
def small_jobs(settings: Settings) -> Iterator[Platform]:
    """A platform on the session's databases whose conversions of more than 50 records are jobs."""
    # (the session's settings already give it a queue of its own)
    with running(dataclasses.replace(settings, convert_job_rows=50, convert_batch_rows=40,
                                     job_backoff_s=(0.0,))) as platform:
        yield platform


@pytest.fixture
def items(small_jobs: Platform) -> str:
    slug = f"c-{uuid.uuid4().hex[:12]}"
    create_tenant(small_jobs, slug, "Conversions")
    small_jobs.editor(small_jobs.runtime(slug), ACTOR).create_object(ITEM)
    records = small_jobs.records(small_jobs.runtime(slug), ACTOR)
    for n in range(ROWS):
        records.create("item", {"code": None if n % 10 == 0 else f" {n * 3} "})
    return slug


def run_jobs(platform: Platform, job_id: int) -> JobInfo:
    if platform.settings.redis_url:
        platform.jobs.work(burst=True)
    return platform.jobs.wait(job_id, timeout=60)


def test_a_large_conversion_is_a_job_and_switches_the_type_only_when_done(small_jobs: Platform, items: str) -> None:
    before = small_jobs.runtime(items).revision.number
    editor = small_jobs.editor(small_jobs.runtime(items), ACTOR)
    assert editor.update_field("item", "code", {"type": "integer"}) == before
    assert editor.last_plan.steps[0].background and editor.last_job is not None
    assert small_jobs.runtime(items).object("item").field("code").type == "text"  # not switched yet
    info = run_jobs(small_jobs, editor.last_job)
    assert (info.status, info.percent) == ("succeeded", 100), info.error
    runtime = small_jobs.runtime(items)
    assert runtime.revision.number == before + 1 and runtime.object("item").field("code").type == "integer"
    codes = sorted(r["code"] for r in small_jobs.records(runtime, ACTOR).list("item", None).records if r["code"])
    assert codes[:3] == [3, 6, 9]
    with runtime.store.engine.connect() as conn:
        [state] = conn.execute(select(conversion_table(runtime.store.schema))).mappings().all()
    assert state["converted"] == ROWS - len(range(0, ROWS, 10)) and state["failed"] == 0  # each value once
    assert state["finished_at"] is not None


def test_values_that_do_not_convert_stop_the_job_and_change_nothing(small_jobs: Platform, items: str) -> None:
    records = small_jobs.records(small_jobs.runtime(items), ACTOR)
    records.create("item", {"code": "twelve"})
    before = small_jobs.runtime(items)
    editor = small_jobs.editor(before, ACTOR)
    editor.update_field("item", "code", {"type": "integer"})
    info = run_jobs(small_jobs, editor.last_job)
    assert info.status == "failed" and "cannot become integer (first 1: 'twelve')" in info.error
    after = small_jobs.runtime(items)
    assert after.revision.number == before.revision.number
    columns = {c.name for c in after.tables["item"].columns}
    with after.store.engine.connect() as conn:
        stored = {c["name"] for c in inspect(conn).get_columns("item", schema=after.store.schema)}
    assert stored == columns  # the shadow column is gone


def test_allowed_failures_are_left_empty_and_kept_in_the_archive(small_jobs: Platform, items: str) -> None:
    small_jobs.records(small_jobs.runtime(items), ACTOR).create("item", {"code": "twelve"})
    editor = small_jobs.editor(small_jobs.runtime(items), ACTOR, migration=Migration(keep_unconvertible=True))
    editor.update_field("item", "code", {"type": "integer"})
    assert run_jobs(small_jobs, editor.last_job).status == "succeeded"
    [archived] = small_jobs.editor(small_jobs.runtime(items), ACTOR).archived_fields("item")
    assert archived["field"]["type"] == "text"


def test_one_pass_converts_every_value_once_and_leaves_an_ordinary_column(small_jobs: Platform, items: str) -> None:
    """The admin's faster choice for big tables: plain numbers in one pass of the database, the rest as usual."""
    records = small_jobs.records(small_jobs.runtime(items), ACTOR)
    odd = {records.create("item", {"code": "1,200"})["id"]: 1200, records.create("item", {"code": "x"})["id"]: None}
    editor = small_jobs.editor(small_jobs.runtime(items), ACTOR,
                               migration=Migration(keep_unconvertible=True, one_pass=True))
    editor.update_field("item", "code", {"type": "integer"})
    assert run_jobs(small_jobs, editor.last_job).status == "succeeded"
    runtime = small_jobs.runtime(items)
    records = small_jobs.records(runtime, ACTOR)
    stored = {r["id"]: r["code"] for r in records.list("item", ListQuery(limit=500)).records}
    for record_id, value in stored.items():
        assert value == odd.get(record_id, None if (record_id - 1) % 10 == 0 else (record_id - 1) * 3)
    with runtime.store.engine.connect() as conn:
        [state] = conn.execute(select(conversion_table(runtime.store.schema))).mappings().all()
    assert (state["converted"], state["failed"]) == (ROWS - len(range(0, ROWS, 10)) + 2, 1)  # each value once
    first = min(stored)
    assert records.update("item", first, {"code": 77})["code"] == 77  # no longer a generated column
