"""Compile a report's values (fields, lookup paths, expressions, child counts) to SQL over what the actor may read.

Everything starts from ``RecordService.read_source``: the primary object's source and record-level
predicate, and for every lookup path and child count the target's own source and predicate, so a related
record the user cannot read counts as blank. A value that reads a field the actor cannot see is refused
(``Forbidden`` naming the report path); a *column* on such a field is left out instead, so one report
serves users who see different fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.sql.util import ClauseAdapter

from trellis.metadata.expressions import ExpressionError, ExprType, Scope, Step, check, parse
from trellis.metadata.formulas import formulas_of
from trellis.metadata.model import FieldDef, ObjectDef
from trellis.metadata.reports import value_type

from ..errors import FieldProblem, Forbidden, InvalidInput
from ..expressions import Context, to_condition, to_sql
from ..records.query import Filter, Source, filter_condition
from ..records.service import RecordService


class Hidden(Exception):
    """A value reads a field the actor may not see."""


@dataclass(frozen=True)
class Value:
    """One compiled value of the report: its SQL for each primary record, and its type."""

    sql: ColumnElement[Any]
    type: ExprType
    #: The field it shows (for picklist labels and pipeline order), and its path (for drill-down).
    field: FieldDef | None = None
    path: str | None = None


class Compiler:
    """Compiles values for one report and one actor; remembers the sources it has read."""

    def __init__(self, service: RecordService, object_name: str) -> None:
        self.service = service
        self.obj, self.source, self.predicate = service.read_source(object_name)
        self.objects = service.runtime.objects
        self.context = Context(user_id=service.actor.user_id)
        self._readable: dict[str, set[str]] = {}

    @property
    def tables(self) -> dict[str, Any]:
        return {t.name: t for t in self.source.table.metadata.tables.values()}

    def readable(self, object_name: str) -> set[str]:
        if object_name not in self._readable:
            self._readable[object_name] = {"id", "owner", "created_at", "updated_at", "created_by", "updated_by",
                                           "version", *self.service.readable_fields(object_name)}
        return self._readable[object_name]

    def value(self, spec: Mapping[str, Any], path: str) -> Value:
        """The SQL of a field, lookup path, expression or child count; refused with its path if it cannot run."""
        try:
            if "children" in spec:
                return Value(self._children(spec["children"]), ExprType.NUMBER)
            kind = value_type(spec, self.obj, self.objects)
            if "field" in spec:
                return self._path(spec["field"].split("."), kind)
            checked = check(parse(spec["expression"]), self._scope(self.obj))
            self._check_steps(steps for steps in checked.paths.values())
            return Value(to_sql(checked, self.source, self.context, self.tables), kind)  # type: ignore[arg-type]
        except ExpressionError as error:
            key = "field" if "field" in spec else "expression"
            raise InvalidInput("The report cannot run.", [FieldProblem(f"{path}.{key}", str(error))]) from None
        except Hidden as hidden:
            raise Forbidden("The report reads a field you cannot see.",
                            [FieldProblem(path, str(hidden))]) from None

    def condition(self, flt: Filter | None = None, where: str | None = None, path: str = "$.where") -> Any:
        """A structured filter or a ``where`` expression as SQL, on readable fields only."""
        if flt is not None:
            if flt.field not in self.readable(self.obj.api_name):
                raise Forbidden("The report filters on a field you cannot see.",
                                [FieldProblem(path, f"You cannot see '{flt.field}' of {self.obj.api_name}.")])
            return filter_condition(self.obj, self.source, flt)
        return self._where(self.obj, self.source, where or "", path)

    def _scope(self, obj: ObjectDef) -> Scope:
        return Scope(formulas_of(obj, self.objects).scope_obj, self.objects)

    def _check_steps(self, paths: Any) -> None:
        for steps in paths:
            for step in steps:
                self._check_step(step)

    def _check_step(self, step: Step) -> None:
        if step.field not in self.readable(step.object):
            raise Hidden(f"You cannot see '{step.field}' of {step.object}.")

    def _path(self, names: Sequence[str], kind: ExprType) -> Value:
        """A field, or a correlated subquery through lookups that reads each target as the actor may."""
        obj, source = self.obj, self.source
        self._check_step(Step(obj.api_name, names[0]))
        element: ColumnElement[Any] = source.column(names[0])
        for previous, name in zip(names, names[1:], strict=False):
            obj, target_source, predicate = self.service.read_source(obj.field(previous).target)
            self._check_step(Step(obj.api_name, name))
            alias = target_source.table.alias()
            column = alias.c[name] if name in alias.c else func.nullif(1, 1)  # a target's formula reads as blank
            element = (select(column).where(alias.c.id == element, ClauseAdapter(alias).traverse(predicate))
                       .correlate_except(alias).scalar_subquery())
        return Value(element, kind, obj.field(names[-1]) if obj.has_field(names[-1]) else None, ".".join(names))

    def _children(self, spec: Mapping[str, Any]) -> ColumnElement[Any]:
        child, source, predicate = self.service.read_source(spec["object"])
        self._check_step(Step(child.api_name, spec["via"]))
        alias = source.table.alias()
        conditions = [alias.c[spec["via"]] == self.source.table.c.id, ClauseAdapter(alias).traverse(predicate)]
        if spec.get("where"):
            aliased = Source(alias, {}, {})  # type: ignore[arg-type]
            conditions.append(self._where(child, aliased, spec["where"], "$.children.where"))
        return (select(func.count()).select_from(alias).where(and_(*conditions))
                .correlate_except(alias).scalar_subquery())

    def _where(self, obj: ObjectDef, source: Source, text: str, path: str) -> ColumnElement[bool]:
        try:
            checked = check(parse(text), self._scope(obj), ExprType.BOOLEAN)
            self._check_steps(checked.paths.values())
            tables = {t.name: t for t in self.source.table.metadata.tables.values()}
            return to_condition(checked, source, self.context, tables)  # type: ignore[arg-type]
        except ExpressionError as error:
            raise InvalidInput("The report cannot run.", [FieldProblem(path, str(error))]) from None
        except Hidden as hidden:
            raise Forbidden("The report filters on a field you cannot see.", [FieldProblem(path, str(hidden))]) \
                from None

