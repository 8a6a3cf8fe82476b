"""Stage rules and stage history: what entering a pipeline's stage takes, and the record of every move.

The record service calls ``enter_stages`` inside the transaction that writes a record
(after the write, so a new record has its id): a move the pipeline does not allow, or
into a stage whose required fields are empty, raises ``InvalidInput`` and the whole
write rolls back; an allowed move is appended to the tenant's ``trellis_stage_history``
in that same transaction. Every door (API PATCH, screens, kanban, imports) therefore
obeys the same rules, and the history never disagrees with the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from trellis.metadata.model import ObjectDef
from trellis.metadata.pipelines import Pipeline, Stage, pipelines_of

from ..errors import FieldProblem, InvalidInput
from ..storage.stores import TenantStore
from ..storage.system import stage_history_table
from ..storage.transfer import from_plain, reset_id_sequences, to_plain

if TYPE_CHECKING:
    from .service import RecordService

_EMPTY = (None, "", [])


def enter_stages(conn: Connection, store: TenantStore, obj: ObjectDef, record_id: int,
                 before: Mapping[str, Any] | None, changes: Mapping[str, Any], user_id: int | None) -> None:
    """Check and record every stage the write moves the record into; ``before`` is None on create."""
    write_history(conn, store, obj, [(record_id, check_stages(obj, before, changes))], user_id)


Moves = list[tuple[Pipeline, str | None, str | None]]


def check_stages(obj: ObjectDef, before: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> Moves:
    """The stage moves a write makes, or ``InvalidInput`` if the pipeline refuses one (no database needed)."""
    record = {**(before or {}), **changes}
    moves = [(pipeline, (before or {}).get(pipeline.field.api_name), record.get(pipeline.field.api_name))
             for pipeline in pipelines_of(obj)]
    moves = [(pipeline, old, new) for pipeline, old, new in moves if new != old]
    problems = [problem for pipeline, old, new in moves for problem in _refusals(obj, pipeline, old, new, record)]
    if problems:
        raise InvalidInput(_headline(obj, moves, problems), problems)
    return moves


def write_history(conn: Connection, store: TenantStore, obj: ObjectDef, moves: list[tuple[int, Moves]],
                  user_id: int | None) -> None:
    """Append checked moves (per record id) to the stage history in one statement."""
    now = datetime.now(UTC)
    rows = [{"object_id": obj.id, "record_id": record_id, "field_id": pipeline.field.id, "from_value": old,
             "to_value": new, "changed_by": user_id, "changed_at": now}
            for record_id, record_moves in moves for pipeline, old, new in record_moves]
    if rows:
        conn.execute(insert(stage_history_table(store.schema)), rows)


def forget_record(conn: Connection, store: TenantStore, obj: ObjectDef, record_id: int) -> None:
    """Delete a deleted record's history with it (ids of deleted records may be handed out again on SQLite)."""
    if pipelines_of(obj):
        history = stage_history_table(store.schema)
        conn.execute(delete(history).where(history.c.object_id == obj.id, history.c.record_id == record_id))


def stage_history(service: RecordService, object_name: str, record_id: int) -> list[dict[str, Any]]:
    """A record's stage changes, oldest first: field, from, to, changed_by, changed_at, and ``left_at``
    (when the record left the stage it entered; None while it is still there), so time in stage is
    ``left_at - changed_at``. A record that does not exist is ``NotFound``, as for ``get``."""
    service.get(object_name, record_id)
    obj = service.runtime.object(object_name)
    fields = {field.id: field.api_name for field in obj.fields}
    store = service.runtime.store
    with store.engine.begin() as conn:
        history = stage_history_table(store.schema)
        rows = conn.execute(select(history).where(history.c.object_id == obj.id, history.c.record_id == record_id)
                            .order_by(history.c.id)).mappings().all()
    entries = [{"field": fields[row["field_id"]], "from": row["from_value"], "to": row["to_value"],
                "changed_by": row["changed_by"], "changed_at": _aware(row["changed_at"]), "left_at": None}
               for row in rows if row["field_id"] in fields]
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["field"] in latest:
            latest[entry["field"]]["left_at"] = entry["changed_at"]
        latest[entry["field"]] = entry
    return entries


def read_history(conn: Connection, store: TenantStore) -> list[dict[str, Any]]:
    """Every history row as JSON-ready values, in id order, for a tenant's backup."""
    history = stage_history_table(store.schema)
    return [{key: to_plain(value) for key, value in row.items()}
            for row in conn.execute(select(history).order_by(history.c.id)).mappings()]


def restore_history(conn: Connection, store: TenantStore, rows: list[dict[str, Any]]) -> None:
    """Put a backup's history rows back with their ids, inside the restore's transaction."""
    history = stage_history_table(store.schema)
    if rows:
        conn.execute(insert(history), [{**row, "changed_at": from_plain(history.c.changed_at.type, row["changed_at"])}
                                       for row in rows])
        reset_id_sequences(conn, store, [history])


def _refusals(obj: ObjectDef, pipeline: Pipeline, old: str | None, new: str | None,
              record: Mapping[str, Any]) -> list[FieldProblem]:
    """Why ``record`` may not move from ``old`` to ``new`` in ``pipeline`` (nothing when it may)."""
    target, current = pipeline.stage(new), pipeline.stage(old)
    if target is None:
        return []  # a blank stage or a retired value: the picklist itself judges those
    name = pipeline.field.api_name
    if current is not None and not current.allows(target.value):
        return [FieldProblem(name, _transition_problem(obj, pipeline, current, target))]
    return [FieldProblem(field.api_name, f"{field.title('en')} is required to enter {target.title('en')}.")
            for field in obj.fields if field.api_name in target.required_fields
            and record.get(field.api_name) in _EMPTY]


def _transition_problem(obj: ObjectDef, pipeline: Pipeline, current: Stage, target: Stage) -> str:
    allowed = [stage.title("en") for stage in pipeline.stages if stage.value in (current.next or ())]
    where = f"A {obj.title('en')} in {current.title('en')}"
    if not allowed:
        return f"{where} cannot move to another stage; {target.title('en')} is not allowed."
    return (f"{where} can move only to {', '.join(allowed)}, not to {target.title('en')}; "
            "move it through one of those first.")


def _headline(obj: ObjectDef, moves: list[tuple[Pipeline, str | None, str | None]],
              problems: list[FieldProblem]) -> str:
    stages = {pipeline.field.api_name for pipeline, _, _ in moves}
    if all(problem.field in stages for problem in problems):
        return f"This {obj.title('en')} cannot move to that stage."
    names = [obj.field(p.field).title("en") for p in problems if p.field not in stages]
    targets = [stage.title("en") for pipeline, _, new in moves if (stage := pipeline.stage(new)) is not None]
    return f"{_join(names)} {'is' if len(names) == 1 else 'are'} required to enter {_join(targets)}."


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
