"""Type conversions of large tables, run as resumable jobs.

When a field's type changes on a table with more records than
``TRELLIS_CONVERT_JOB_ROWS``, the metadata editor plans the change and hands
it to this job instead of holding one long transaction. The job converts the
values into the shadow column in batches; each batch commits together with
its checkpoint in the tenant's store, so a worker killed at any moment resumes
after the last committed batch and every row is converted exactly once. The
field keeps its old type (and users keep working) until the last step, which
catches up with records changed meanwhile and switches the metadata in one
short transaction. If values did not convert and the admin did not allow
that, the job gives up cleanly: the shadow column goes, nothing else changed.
"""

from __future__ import annotations

from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import func, select

from trellis.metadata.conversions import converter
from trellis.metadata.model import FieldDef, ObjectDef

from .jobs import JobContext, JobFailed, job_handler
from .storage import convert
from .storage.plan import Migration

KIND = "schema.convert_field"


def job_arguments(documents: list[dict[str, Any]], summary: str, from_revision: int, change: dict[str, Any],
                  migration: Migration, batch_rows: int) -> dict[str, Any]:
    """What the job needs to finish the change on its own (JSON, stored on the job row)."""
    return {"documents": documents, "summary": summary, "from_revision": from_revision, "object": change["object"],
            "field": change["field"], "batch_rows": batch_rows,
            "migration": {"fill": migration.fill, "keep_unconvertible": migration.keep_unconvertible,
                          "value_map": dict(migration.value_map), "one_pass": migration.one_pass}}


@job_handler(KIND)
def convert_field(ctx: JobContext) -> None:
    args = ctx.args
    runtime = ctx.platform.runtime(ctx.tenant)
    target = next(ObjectDef.from_document(d) for d in args["documents"] if d["api_name"] == args["object"])
    new = target.field(args["field"])
    old = next(f for f in runtime.object(args["object"]).fields if f.id == new.id)
    engine, store, table = runtime.store.engine, runtime.store, runtime.tables[args["object"]].name
    if runtime.revision.number != args["from_revision"]:
        _abandon(runtime, table, new)
        raise JobFailed("The configuration changed while the values were being converted; nothing was switched. "
                        "Make the change again.")
    migration = Migration.from_request(args["migration"])
    with engine.begin() as conn:
        total = conn.execute(select(func.count()).select_from(runtime.tables[args["object"]])).scalar()
        ctx.progress(0, total, "Converting in one pass over the table" if migration.one_pass else "Starting")
        state = convert.prepare(conn, _ops(conn), store, table, old if migration.one_pass else None, new)
    _convert_batches(ctx, runtime, table, old, new, state.last_id, total, skip_plain=migration.one_pass)
    with engine.connect() as conn:
        state = convert.checkpoint(conn, store, new.id)
        failed = convert.unconverted(conn, store, table, old, new) if state.failed else []
    if failed and not migration.keep_unconvertible:
        _abandon(runtime, table, new)
        raise JobFailed(f"{state.failed} values of {new.api_name} cannot become {new.type} (first {len(failed)}: "
                        f"{', '.join(map(repr, failed))}); nothing was changed. Correct them, or allow it with "
                        '"migration": {"keep_unconvertible": true}.')
    ctx.progress(state.converted, total, "Switching the field to its new type")
    ctx.platform.editor(runtime, ctx.actor, migration=migration).switch_prepared(args["documents"], args["summary"])


def _convert_batches(ctx: JobContext, runtime: Any, table: str, old: FieldDef, new: FieldDef, after: int,
                     total: int, skip_plain: bool) -> None:
    """Convert batch after batch, each committed with its checkpoint, until no row is left
    (``skip_plain``: the one pass already converted the values of a plain form)."""
    convert_value = converter(old, new)
    while True:
        with runtime.store.engine.begin() as conn:
            last, done, failures = convert.convert_rows(conn, runtime.store, table, old, new, convert_value,
                                                        after_id=after, limit=1, batch_size=ctx.args["batch_rows"],
                                                        skip_plain=skip_plain)
            if last == after:  # no rows left (a batch of values the one pass did converts nothing, yet counts)
                return
            convert.advance(conn, runtime.store, new.id, last, done, failures.count)
            converted = convert.checkpoint(conn, runtime.store, new.id).converted
        after = last
        ctx.progress(converted, total, f"Converted {converted} of {total} records")


def _abandon(runtime: Any, table: str, new: FieldDef) -> None:
    with runtime.store.engine.begin() as conn:
        if convert.checkpoint(conn, runtime.store, new.id) is not None:
            convert.abandon(conn, _ops(conn), runtime.store, table, new.id)


def _ops(conn: Any) -> Operations:
    return Operations(MigrationContext.configure(conn))
