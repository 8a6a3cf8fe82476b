"""Counts and sums of records grouped by one field: the totals of a kanban board's columns.

Computed by the database in one GROUP BY, so a board over many records costs one
query for its totals; renderers ask here instead of running SQL themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..errors import FieldProblem, InvalidInput

if TYPE_CHECKING:
    from .service import RecordService


@dataclass(frozen=True)
class GroupTotal:
    count: int
    #: The sum of the summed field over the group's records (None when no field is summed).
    total: Decimal | None


def group_totals(service: RecordService, object_name: str, group_by: str,
                 summed: str | None = None) -> dict[Any, GroupTotal]:
    """Records of ``object_name`` counted (and ``summed`` added up) per value of ``group_by``."""
    obj = service.runtime.object(object_name)
    table = service.runtime.tables[object_name]
    for name in (group_by, summed):
        if name is not None and (not obj.has_field(name) or obj.field(name).kind.computed):
            raise InvalidInput("Totals need stored fields.", [FieldProblem(
                name, f"'{name}' is not a stored field of {obj.title('en')}; name one that has a column.")])
    key = table.c[group_by]
    columns = [key, func.count()]
    if summed is not None:
        columns.append(func.coalesce(func.sum(table.c[summed]), 0))
    with service.runtime.store.engine.connect() as conn:
        rows = conn.execute(select(*columns).group_by(key)).all()
    return {row[0]: GroupTotal(row[1], Decimal(str(row[2])) if summed is not None else None) for row in rows}
