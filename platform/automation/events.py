"""What the record service tells automations after each committed change.

Kept free of imports from the rest of the platform: the record service imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime import TenantRuntime


@dataclass(frozen=True)
class RecordEvent:
    """One committed change of one record.

    ``before``/``after`` hold typed values (dates, Decimals, UTC datetimes) as expressions
    read them; ``before`` is None for a created record, ``after`` None for a deleted one.
    ``depth`` counts the rule runs that led to this change (0: a person or an integration).
    """

    object: str
    record_id: int
    kind: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    actor_user_id: int | None
    depth: int

    @property
    def record(self) -> Mapping[str, Any]:
        """The record as the change left it (as it was, for a deletion)."""
        return self.after if self.after is not None else self.before or {}


#: Called by the record service after each commit; it must not raise (the change is already saved).
RecordListener = Callable[["TenantRuntime", RecordEvent], None]


def listens(listener: RecordListener, runtime: Any, object_name: str) -> bool:
    """Whether ``listener`` acts on changes of ``object_name``. A listener that is the bound method of an object
    with ``listens_to(runtime, object_name)`` (the automation engine) is asked; any other always listens. Batch
    writes use this to skip building events nobody hears."""
    ask = getattr(getattr(listener, "__self__", None), "listens_to", None)
    return ask is None or bool(ask(runtime, object_name))
