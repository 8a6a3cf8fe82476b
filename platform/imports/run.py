"""The import job: the file's rows, a batch at a time, through ``RecordService.create_many``.

Each batch commits its records together with the import's checkpoint, counts and rejected
rows (``store.record_batch`` runs inside the batch's transaction), so a worker that dies
mid-import is followed by one that resumes after the last committed batch; no row is
written twice and none is lost. Progress is reported to the job after every batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from trellis.metadata.model import ObjectDef

from ..errors import FieldProblem
from ..jobs import JobContext, JobFailed, job_handler
from ..permissions import access_for
from ..records.batch import RowResult, preview_many
from ..records.service import RecordService
from . import store
from .csvfile import CsvTable, parse
from .mapping import ImportSpec, LookupMatcher, shape_cell

KIND = "records.import"
BATCH_ROWS = 1000
#: The spreadsheet row of the first data row (the header is row 1).
FIRST_ROW = 2


@dataclass
class Batch:
    """One slice of the file made into field values; rows whose lookups did not match are refused already."""

    start: int
    cells: list[dict[str, str]]
    data: list[dict[str, Any]]
    refused: dict[int, list[FieldProblem]]


def make_batch(service: RecordService, obj: ObjectDef, spec: ImportSpec, matcher: LookupMatcher,
               table: CsvTable, start: int, stop: int) -> Batch:
    """The rows ``start:stop`` of the file as record data, with lookup texts matched to ids."""
    cells = table.records(start, stop)
    matched = matcher.resolve(cells)
    batch = Batch(start, cells, [], {})
    plain = [(column, name, obj.field(name)) for column, name in spec.mapping.items() if column not in matcher.columns]
    lookups = [(column, name) for column, name in spec.mapping.items() if column in matcher.columns]
    for position, row in enumerate(cells):
        data: dict[str, Any] = {}
        for column, name, definition in plain:
            text = row[column].strip()
            if text:
                data[name] = shape_cell(definition, text)
        for column, name in lookups:
            text = row[column].strip()
            if not text:
                continue
            ids = matched[column].get(text, [])
            problem = matcher.problem(column, text, ids)
            if problem is None:
                data[name] = ids[0]
            else:
                batch.refused.setdefault(position, []).append(problem)
        batch.data.append(data)
    return batch


def report(batch: Batch, spec: ImportSpec, position: int, problems: tuple[FieldProblem, ...] | list[FieldProblem]
           ) -> list[dict[str, Any]]:
    """A rejected row's problems as the report shows them: row number, column, the cell's text, reason."""
    columns = {name: column for column, name in spec.mapping.items()}
    cells = batch.cells[position]
    entries = []
    for problem in problems:
        column = columns.get(problem.field)
        entries.append({"row": batch.start + position + FIRST_ROW, "column": column,
                        "value": cells[column] if column is not None else None, "reason": problem.message})
    return entries


def save_batch(service: RecordService, spec: ImportSpec, batch: Batch, import_id: int) -> None:
    """Write one batch; its checkpoint, counts and rejected rows commit with its records."""
    positions = [p for p in range(len(batch.data)) if p not in batch.refused]

    def checkpoint(conn: Connection, results: list[RowResult]) -> None:
        counts = {"created": 0, "updated": 0, "rejected": len(batch.refused)}
        problems = [entry for position, found in batch.refused.items()
                    for entry in report(batch, spec, position, found)]
        for position, result in zip(positions, results, strict=True):
            counts[result.action] += 1
            if result.action == "rejected":
                problems += report(batch, spec, position, result.problems)
        store.record_batch(conn, service.runtime.store, import_id, batch.start + len(batch.data), counts,
                           sorted(problems, key=lambda entry: entry["row"]))

    service.create_many(spec.object, [batch.data[p] for p in positions], upsert_by=spec.upsert_by,
                        checkpoint=checkpoint)


def preview(service: RecordService, spec: ImportSpec, table: CsvTable, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows as they would be stored, or with each problem, writing nothing."""
    obj = service.runtime.object(spec.object)
    batch = make_batch(service, obj, spec, LookupMatcher(service, obj, spec), table, 0, limit)
    positions = [p for p in range(len(batch.data)) if p not in batch.refused]
    outcome = dict(zip(positions, preview_many(service, spec.object, [batch.data[p] for p in positions],
                                               upsert_by=spec.upsert_by), strict=True))
    rows = []
    for position in range(len(batch.data)):
        result, values = outcome.get(position, (RowResult(position, "rejected", None,
                                                          tuple(batch.refused.get(position, []))), None))
        rows.append({"row": position + FIRST_ROW, "action": result.action, "id": result.id, "values": values,
                     "problems": report(batch, spec, position, result.problems)})
    return rows


@job_handler(KIND)
def run_import(ctx: JobContext) -> None:
    """Import the file of ``args["import_id"]`` from where the last committed batch left off."""
    runtime = ctx.platform.runtime(ctx.tenant)
    found = store.get(runtime.store, ctx.args["import_id"])
    if found is None:
        raise JobFailed(f"Import {ctx.args['import_id']} no longer exists.")
    try:
        _run(ctx, runtime, found)
    except Exception as error:
        store.set_fields(runtime.store, found["id"], status="failed", error=str(error))
        raise


def _run(ctx: JobContext, runtime: Any, found: Mapping[str, Any]) -> None:
    spec = ImportSpec(**found["spec"])
    actor = ctx.actor
    if ctx.args.get("restricted") and actor.user_id is not None:  # a member's import obeys the member's roles
        actor = replace(actor, access=access_for(ctx.platform, runtime, actor.user_id, "member"))
    service = ctx.platform.records(runtime, actor)
    obj = runtime.object(spec.object)
    matcher = LookupMatcher(service, obj, spec)
    table = parse(found["content"])
    total, done = len(table.rows), found["done"]
    store.set_fields(runtime.store, found["id"], status="running", error=None)
    ctx.progress(done, total, f"{done} of {total} rows")
    while done < total:
        stop = min(done + BATCH_ROWS, total)
        save_batch(service, spec, make_batch(service, obj, spec, matcher, table, done, stop), found["id"])
        done = stop
        ctx.progress(done, total, f"{done} of {total} rows")
    store.set_fields(runtime.store, found["id"], status="succeeded", finished_at=datetime.now(UTC))
