"""Exports of reports: the report's tabular rows, streamed from the reports package's ``report_rows``.

The reports package compiles the report for the requester (their record predicate
and readable fields apply there) and yields its rows in batches; this module only
writes them, with the report's column labels as headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FieldProblem, InvalidInput
from ..records.service import Actor, RecordService
from .writers import open_writer

if TYPE_CHECKING:
    from ..core import Platform
    from ..jobs import JobContext
    from ..runtime import TenantRuntime
    from .spec import ExportSpec

BATCH_ROWS = 5000


def _report(runtime: TenantRuntime, name: str | None) -> Mapping[str, Any]:
    found = runtime.definitions("report").get(name or "")
    if found is None:
        raise InvalidInput("Unknown report.", [FieldProblem("report", f"There is no report named '{name}'.")])
    return found


def _rows(service: RecordService, spec: ExportSpec) -> tuple[list[dict[str, Any]], Iterator[dict[str, Any]]]:
    from trellis.platform.reports import report_rows  # reports are imported only by report exports

    return report_rows(service, _report(service.runtime, spec.report))


def check_report(platform: Platform, runtime: TenantRuntime, actor: Actor, spec: ExportSpec) -> None:
    """Refuse an unknown or broken report before queuing (compiling it runs no query)."""
    columns, rows = _rows(platform.records(runtime, actor), spec)
    rows.close()
    if not columns:
        raise InvalidInput("The report has no columns to export.", [FieldProblem(
            "report", f"Add columns to report '{spec.report}' (its groupings alone have no rows to export).")])


def export_report(ctx: JobContext, service: RecordService, spec: ExportSpec, path: Path) -> int:
    """Write the report's rows to ``path``; how many were written (the total is unknown until the end)."""
    columns, rows = _rows(service, spec)
    names = [column["name"] for column in columns]
    writer = open_writer(spec.format, path, [column["label"] for column in columns], spec.report or "Report")
    done = 0
    try:
        ctx.progress(0, None, "Exporting the report")
        while batch := list(islice(rows, BATCH_ROWS)):
            writer.write([row.get(name) for name in names] for row in batch)
            done += len(batch)
            ctx.progress(done, None, f"Exported {done} rows")
    finally:
        rows.close()
        writer.close()
    return done
