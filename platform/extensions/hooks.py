"""Record hooks of the tenant's enabled extensions, called by the record service.

``before`` runs inside the write's transaction, before the row is written: a
hook that refuses (``HookRefused`` or any other exception) stops the write and
nothing is changed; it may alter the values about to be written. ``after`` runs
once the change is committed: a failing hook is logged and recorded in the
automation run log (where an admin looks for what went wrong after a save),
and the saved change stands.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from trellis.extensions.api import HookRefused, HookSpec
from trellis.metadata.model import ObjectDef
from trellis.metadata.pipelines import pipelines_of

from ..automation import runlog
from ..errors import Conflict, FieldProblem, InvalidInput, TrellisError
from .facade import record_context
from .registry import Enabled, enabled

if TYPE_CHECKING:
    from ..records.service import RecordService

log = logging.getLogger(__name__)

#: The record service's event names (``_emit``) as hook events.
AFTER = {"created": "after_create", "updated": "after_update", "deleted": "after_delete"}


def has_hooks(service: RecordService, object_name: str, event: str) -> bool:
    """Whether an enabled extension hooks ``event`` of ``object_name`` (batch writes skip work nobody hears)."""
    return next(_hooks(service, object_name, event), None) is not None


def _hooks(service: RecordService, object_name: str, event: str) -> Iterator[tuple[Enabled, HookSpec]]:
    for entry in enabled(service.runtime).values():
        for hook in entry.extension.hooks:
            if hook.event == event and hook.object in (None, object_name):
                yield entry, hook


def before(service: RecordService, obj: ObjectDef, event: str, changes: dict[str, Any],
           record: Mapping[str, Any] | None) -> None:
    """Run the ``before_<event>`` hooks (event: create, update, delete); a refusal raises and stops the write.

    ``changes`` are typed values (dates, Decimals) the hook may alter; ``record`` the stored row, if any."""
    for entry, hook in _hooks(service, obj.api_name, f"before_{event}"):
        ctx = record_context(service, entry, obj.api_name, hook.event, read_only=True,
                             record=_plain(service, obj, record), changes=changes)
        try:
            hook.function(ctx)
        except HookRefused as refusal:
            problems = [FieldProblem(refusal.field, refusal.message)] if refusal.field else []
            error = Conflict if refusal.conflict else InvalidInput
            raise error(f"{entry.extension.title}: {refusal.message}", problems) from None
        except TrellisError:
            raise
        except Exception as failure:  # an extension's bug refuses the write rather than half-doing it
            log.exception("before hook of extension %s failed", entry.extension.name)
            raise InvalidInput(f"{entry.extension.title} refused the change: {failure}") from None
        unknown = sorted(set(changes) - set(service.runtime.tables[obj.api_name].c.keys()))
        if unknown:
            raise InvalidInput(f"{entry.extension.title} set values of fields {obj.api_name} does not have: "
                               f"{', '.join(unknown)}.")


def after(service: RecordService, obj: ObjectDef, kind: str, previous: Mapping[str, Any] | None,
          record: Mapping[str, Any] | None) -> None:
    """Run the ``after_*`` hooks, and ``stage_changed`` when an update moved a pipeline's stage; never raises."""
    if not enabled(service.runtime):  # the common case: nothing to do, not even a pipeline look-up
        return
    events = [AFTER[kind]]
    if kind == "updated" and any((previous or {}).get(p.field.api_name) != (record or {}).get(p.field.api_name)
                                 for p in pipelines_of(obj)):
        events.append("stage_changed")
    for event in events:
        for entry, hook in _hooks(service, obj.api_name, event):
            shown = _plain(service, obj, record if record is not None else previous)
            ctx = record_context(service, entry, obj.api_name, event, previous=_plain(service, obj, previous),
                                 record=shown)
            try:
                hook.function(ctx)
            except Exception as failure:  # the change is committed: record the failure, never undo the write
                log.exception("after hook of extension %s failed", entry.extension.name)
                _record_failure(service, obj, entry, event, (record or previous or {}).get("id"), failure)


def _plain(service: RecordService, obj: ObjectDef, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A stored row as the records API shows it (JSON values), which is what extension code is promised."""
    return None if row is None else service._dump(obj, row)


def _record_failure(service: RecordService, obj: ObjectDef, entry: Enabled, event: str, record_id: Any,
                    failure: Exception) -> None:
    now = runlog.now()
    runlog.open_run(service.runtime.store, {
        "object": obj.api_name, "rule": f"{entry.extension.name}.{event}"[:100], "record_id": record_id,
        "trigger": "extension_hook", "event_key": f"hook:{uuid.uuid4().hex}", "status": "failed",
        "depth": service.depth, "error": f"{type(failure).__name__}: {failure}"[:4000], "started_at": now,
        "finished_at": now})
