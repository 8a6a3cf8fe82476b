"""A large type conversion survives its worker being killed (kill -9) and converts every row exactly once.

Real PostgreSQL, real Redis, separate ``trellis worker`` processes. The field
keeps its old type until the last batch is done; the conversion's checkpoint
(committed with each batch in the tenant's store) counts each converted value.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select
from workers import kill, running, start_worker, stop, wait_for, worker_settings

from trellis.platform.config import Settings
from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.platform.storage.system import conversion_table
from trellis.tenants.registry import create_tenant

ROWS = 12_000
ACTOR = Actor(user_id=None)


@pytest.fixture(scope="module")
def rq_settings(postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return worker_settings(postgres_url, redis_url, tmp_path_factory.mktemp("conversions"),
                           convert_job_rows=1_000, convert_batch_rows=100)


@pytest.fixture(scope="module")
def rq_platform(rq_settings: Settings) -> Iterator[Platform]:
    with running(rq_settings) as platform:
        yield platform


def converted(platform: Platform, slug: str) -> int:
    runtime = platform.runtime(slug)
    table = conversion_table(runtime.store.schema)
    with runtime.store.engine.connect() as conn:
        if not inspect(conn).has_table(table.name, schema=table.schema):
            return 0  # the job has not started yet
        return conn.execute(select(table.c.converted)).scalar() or 0


def test_a_killed_worker_resumes_and_every_row_is_converted_once(rq_platform: Platform, rq_settings: Settings,
                                                                   tmp_path: Path) -> None:
    slug = f"k-{uuid.uuid4().hex[:12]}"
    create_tenant(rq_platform, slug, "Killed")
    rq_platform.editor(rq_platform.runtime(slug), ACTOR).create_object(
        {"api_name": "item", "label": "Item", "fields": [{"api_name": "code", "label": "Code", "type": "text"}]})
    runtime = rq_platform.runtime(slug)
    with runtime.store.engine.begin() as conn:
        conn.execute(insert(runtime.tables["item"]), [{"code": str(n)} for n in range(ROWS)])
    editor = rq_platform.editor(runtime, ACTOR)
    editor.update_field("item", "code", {"type": "integer"})
    job_id, before = editor.last_job, runtime.revision.number
    first = start_worker(rq_settings, tmp_path / "worker-1.log")
    try:
        wait_for(lambda: converted(rq_platform, slug) >= 1_000, "the first worker to convert some batches", 60)
    finally:
        kill(first)
    assert converted(rq_platform, slug) < ROWS
    assert rq_platform.runtime(slug).object("item").field("code").type == "text"  # metadata not switched yet
    second = start_worker(rq_settings, tmp_path / "worker-2.log")
    try:
        info = rq_platform.jobs.wait(job_id, timeout=120)
    finally:
        stop(second)
    assert (info.status, info.attempts) == ("succeeded", 2), info.error
    after = rq_platform.runtime(slug)
    assert after.revision.number == before + 1 and after.object("item").field("code").type == "integer"
    assert converted(rq_platform, slug) == ROWS  # each row counted by exactly one committed batch
    with after.store.engine.connect() as conn:
        table = after.tables["item"]
        values = conn.execute(select(table.c.code).order_by(table.c.id)).scalars().all()
    assert values == list(range(ROWS))


def test_the_plan_says_it_will_run_as_a_job(rq_platform: Platform) -> None:
    slug = f"k-{uuid.uuid4().hex[:12]}"
    create_tenant(rq_platform, slug, "Planned")
    platform = Platform(dataclasses.replace(rq_platform.settings, convert_job_rows=0))
    try:
        platform.editor(platform.runtime(slug), ACTOR).create_object(
            {"api_name": "item", "label": "Item", "fields": [{"api_name": "code", "label": "Code", "type": "text"}]})
        platform.records(platform.runtime(slug), ACTOR).create("item", {"code": "7"})
        dry = platform.editor(platform.runtime(slug), ACTOR, dry_run=True)
        dry.update_field("item", "code", {"type": "integer"})
        assert dry.last_plan.background and dry.last_job is None
    finally:
        platform.dispose()
