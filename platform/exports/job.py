"""The ``exports.run`` job: stream the rows of a list view (or a report) into a CSV or XLSX file.

Rows are read with a server-side cursor (``stream_results`` + ``yield_per``:
a named cursor on PostgreSQL, SQLite's own step-by-step reading) in batches of
``BATCH_ROWS``; each batch gets its lookup titles in one query per lookup and is
written before the next is read, and progress is reported per batch. The file is
written as ``….part`` and renamed when complete; a second attempt simply starts
over, so a crash never leaves a truncated file that looks finished.
"""

from __future__ import annotations

import resource
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..controlplane.tables import Membership
from ..jobs import JobContext, JobFailed, job_handler
from ..permissions import access_for
from ..records.service import Actor, RecordService
from ..runtime import TenantRuntime
from .files import export_path, sweep_expired
from .reports import export_report
from .spec import KIND, ExportSpec, ListPlan, plan_list
from .writers import Column, open_writer

#: Rows fetched and written per batch (one progress update each).
BATCH_ROWS = 5000
#: Excel's sheet holds 1,048,576 rows, the header included.
XLSX_MAX_ROWS = 1_048_575


@job_handler(KIND)
def run_export(ctx: JobContext) -> None:
    spec = ExportSpec.from_args(ctx.args)
    runtime = ctx.platform.runtime(ctx.tenant)
    service = ctx.platform.records(runtime, requester(ctx, runtime, spec.locale))
    path = export_path(ctx.platform.settings, ctx.tenant.id, ctx.job_id, spec.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    if spec.report is not None:
        done = export_report(ctx, service, spec, partial)
    else:
        done = export_list(ctx, service, spec, partial)
    partial.replace(path)
    ctx.progress(done, done, f"Exported {done} rows", checkpoint={"rows": done, "peak_mb": round(peak_rss_mb(), 1)})
    sweep_expired(ctx.platform.settings, ctx.tenant.id)


def export_list(ctx: JobContext, service: RecordService, spec: ExportSpec, path: Path) -> int:
    """Write the list view's rows to ``path``; how many were written."""
    plan = plan_list(service, spec)
    locale = service.actor.locale
    columns = [Column(None, locale)] + [Column(plan.obj.field(name), locale) for name in plan.fields]
    with service.runtime.store.engine.connect() as conn:
        total = conn.execute(plan.count).scalar_one()
        if spec.format == "xlsx" and total > XLSX_MAX_ROWS:
            raise JobFailed(f"{total} rows are more than an XLSX sheet holds ({XLSX_MAX_ROWS}); "
                            "export as CSV or narrow the list with filters.")
        ctx.progress(0, total, f"Exporting {total} rows")
        writer = open_writer(spec.format, path, [c.header for c in columns], plan.obj.plural_title(locale))
        try:
            done = _stream(ctx, service, conn, plan, columns, writer, total)
        finally:
            writer.close()
    return done


def requester(ctx: JobContext, runtime: TenantRuntime, locale: str) -> Actor:
    """The user who asked, with the access their roles give them now: the job reads only what they may."""
    user_id = ctx.actor.user_id
    if user_id is None:  # queued by the platform itself
        return Actor(None, locale)
    with ctx.platform.control() as session:
        role = session.scalar(select(Membership.role).where(Membership.tenant_id == ctx.tenant.id,
                                                            Membership.user_id == user_id))
    if role is None:
        raise JobFailed("The user who asked for this export is no longer a member of the organization.")
    return Actor(user_id, locale, access=access_for(ctx.platform, runtime, user_id, role))


def _stream(ctx: JobContext, service: RecordService, conn: Any, plan: ListPlan, columns: list[Column],
            writer: Any, total: int) -> int:
    done = 0
    result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(plan.statement)
    for batch in result.mappings().partitions():
        titles = _titles(service, columns, batch)
        writer.write([column.cell(row[column.name], titles.get(column.name, {})) for column in columns]
                     for row in batch)
        done += len(batch)
        ctx.progress(done, max(total, done), f"Exported {done} of {total} rows")
    return done


def _titles(service: RecordService, columns: list[Column], batch: Sequence[Mapping[str, Any]]
            ) -> dict[str, dict[int, str]]:
    """Titles of the records the batch's lookups point at: one query per lookup field and batch."""
    found = {}
    for column in columns:
        if column.lookup_target is not None:
            ids = {row[column.name] for row in batch if row[column.name] is not None}
            found[column.name] = service.titles(column.lookup_target, ids) if ids else {}
    return found


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    Linux's ``VmHWM`` first: ``getrusage``'s ``ru_maxrss`` carries over the peak of the process that
    forked and exec'd this one (a worker started by a big parent would report the parent's peak).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
