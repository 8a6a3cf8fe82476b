"""The rule run log (``trellis_automation_runs``): one row per rule run, from matched to finished.

A row is written when a rule matches, before its job is queued, under a key
unique to what fired it (rule + record + version, or date value, or schedule
slot), so the same event never starts a rule twice, even from two processes;
the time scan reads these rows as its memory of what already fired. The job
moves the row through ``running`` to ``succeeded`` or ``failed`` (with the
error); runs that never start are written finished: ``stopped`` at the depth
limit, ``skipped`` over the rate limit, each with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from ..storage.stores import TenantStore
from ..storage.system import automation_tables

#: Statuses of runs that will not change any more.
FINISHED = ("succeeded", "failed", "stopped", "skipped")
#: What the API shows of a run, in order.
COLUMNS = ("id", "object", "rule", "record_id", "trigger", "status", "depth", "job_id", "attempts", "actions_done",
           "error", "fire_key", "created_at", "started_at", "finished_at")


def now() -> datetime:
    return datetime.now(UTC)


def open_run(store: TenantStore, values: dict[str, Any]) -> int | None:
    """Insert a run row; None when a run with the same ``event_key`` exists (the event already fired the rule)."""
    runs, _ = automation_tables(store.schema)
    row = {"attempts": 0, "actions_done": 0, "created_at": now(), **values}
    try:
        with store.engine.begin() as conn:
            return conn.execute(insert(runs).values(row).returning(runs.c.id)).scalar_one()
    except IntegrityError:
        return None


def update_run(store: TenantStore, run_id: int, **values: Any) -> None:
    runs, _ = automation_tables(store.schema)
    with store.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(**values))


def get_run(store: TenantStore, run_id: int) -> dict[str, Any] | None:
    runs, _ = automation_tables(store.schema)
    with store.engine.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
    return _plain(row) if row is not None else None


def started_since(store: TenantStore, obj: str, rule: str, since: datetime) -> int:
    """How many runs of the rule were started (not skipped) since ``since``: the rate limit's count."""
    runs, _ = automation_tables(store.schema)
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).where(
            runs.c.object == obj, runs.c.rule == rule, runs.c.created_at >= since,
            runs.c.status != "skipped")).scalar_one()


def fired(store: TenantStore, obj: str, rule: str, pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (record id, fire key) pairs already have a run of the rule."""
    wanted = list(pairs)
    if not wanted:
        return set()
    runs, _ = automation_tables(store.schema)
    found: set[tuple[int, str]] = set()
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found.update((row[0], row[1]) for row in conn.execute(select(runs.c.record_id, runs.c.fire_key).where(
                runs.c.object == obj, runs.c.rule == rule,
                tuple_(runs.c.record_id, runs.c.fire_key).in_(chunk))))
    return found


def list_runs(store: TenantStore, obj: str | None = None, rule: str | None = None, *, record_id: int | None = None,
              status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Runs, newest first, narrowed to an object, a rule, a record or a status."""
    runs, _ = automation_tables(store.schema)
    query = select(runs).order_by(runs.c.id.desc()).limit(limit)
    for column, value in (("object", obj), ("rule", rule), ("record_id", record_id), ("status", status)):
        if value is not None:
            query = query.where(runs.c[column] == value)
    with store.engine.connect() as conn:
        return [_plain(row) for row in conn.execute(query).mappings()]


def _plain(row: Any) -> dict[str, Any]:
    result = {name: row[name] for name in COLUMNS}
    for name in ("created_at", "started_at", "finished_at"):
        value = result[name]
        if isinstance(value, datetime) and value.tzinfo is None:  # SQLite keeps UTC without the zone
            result[name] = value.replace(tzinfo=UTC)
    return result
