"""What an export asks for, as JSON job arguments, and the streamed SELECT that answers it.

The arguments mirror the list API (filters, search, sort, ``where``) so an
export of a list view shows exactly the rows of that view. They are turned back
into the query engine's ``ListQuery`` in the worker, against the metadata of the
moment the job runs, for the user who asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select

from trellis.metadata.model import ObjectDef

from ..errors import FieldProblem, InvalidInput
from ..records.query import MAX_LIMIT, Filter, ListQuery, build_select, where_condition
from ..records.service import Actor, RecordService
from .files import sweep_expired
from .reports import check_report

if TYPE_CHECKING:
    from ..core import Platform

KIND = "exports.run"
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class ExportSpec:
    """One export: a list view of ``object`` (or a report by name) written as ``format``."""

    format: str
    object: str | None = None
    report: str | None = None
    filters: tuple[tuple[str, str, Any], ...] = ()
    search: str | None = None
    sort: tuple[tuple[str, bool], ...] = ()
    where: str | None = None
    #: Extra parameters handed to a report's runner (e.g. a dashboard filter).
    params: Mapping[str, Any] = field(default_factory=dict)
    #: The language of headers and picklist labels (the requester's).
    locale: str = "en"

    def as_args(self) -> dict[str, Any]:
        return {"format": self.format, "object": self.object, "report": self.report,
                "filters": [list(f) for f in self.filters], "search": self.search,
                "sort": [list(s) for s in self.sort], "where": self.where, "params": dict(self.params),
                "locale": self.locale}

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ExportSpec:
        return cls(format=args["format"], object=args.get("object"), report=args.get("report"),
                   filters=tuple((f[0], f[1], f[2]) for f in args.get("filters") or ()),
                   search=args.get("search"), sort=tuple((s[0], bool(s[1])) for s in args.get("sort") or ()),
                   where=args.get("where"), params=args.get("params") or {}, locale=args.get("locale") or "en")

    def check(self) -> None:
        """The shape of the request; whether its fields exist is the query engine's to say."""
        problems = []
        if self.format not in FORMATS:
            problems.append(FieldProblem("format", f"'{self.format}' is not an export format; use csv or xlsx."))
        if (self.object is None) == (self.report is None):
            problems.append(FieldProblem("object", "Name either an object (a list view) or a report to export."))
        if problems:
            raise InvalidInput("The export cannot be started as asked.", problems)

    def title(self) -> str:
        return self.report or self.object or "export"


@dataclass(frozen=True)
class ListPlan:
    """The streamed SELECT of an export of a list view, its row count and the fields it shows."""

    obj: ObjectDef
    fields: list[str]
    statement: Select
    count: Select


def plan_list(service: RecordService, spec: ExportSpec) -> ListPlan:
    """The export's SELECT: the list's filters, search, ``where`` and sort, without paging, plus the
    actor's record predicate; only readable fields are shown. Errors name the part of the request at fault."""
    obj, source, predicate = service.read_source(spec.object or "")
    where = None
    if spec.where:
        where = where_condition(spec.where, obj, service.runtime.objects, service.actor.user_id)
    query = ListQuery(filters=[Filter(*f) for f in spec.filters], search=spec.search, sort=list(spec.sort),
                      limit=MAX_LIMIT, where=where)
    statement, _ = build_select(obj, source, query)
    statement = statement.where(predicate).limit(None).offset(None)
    matching = statement.order_by(None).with_only_columns(source.table.c.id).subquery()
    count = select(func.count()).select_from(matching)
    readable = set(service.readable_fields(obj.api_name))
    fields = [f.api_name for f in obj.fields if f.api_name in readable]
    return ListPlan(obj, fields, statement, count)


def start_export(platform: Platform, tenant_slug: str, actor: Actor, spec: ExportSpec) -> int:
    """Check the request now (so a mistake is a 422, not a failed job) and queue the export; the job id."""
    spec.check()
    runtime = platform.runtime(tenant_slug)
    if spec.object is not None:
        plan_list(platform.records(runtime, actor), spec)
    else:
        check_report(platform, runtime, actor, spec)
    sweep_expired(platform.settings, runtime.tenant.id)
    args = {**spec.as_args(), "locale": actor.locale}
    return platform.jobs.enqueue(tenant_slug, KIND, args, actor.user_id, max_attempts=2)
