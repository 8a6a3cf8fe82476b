"""The records API an extension's code is handed: the record service behind ``trellis.extensions.api.Records``.

Extension code never holds the runtime, an engine or a Flask app; it gets this,
so every write it makes obeys the same rules, defaults, hooks and automations
as a person's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from trellis.extensions.api import ExtensionContext, RecordContext

from ..errors import Forbidden
from ..records.query import Filter, ListQuery

if TYPE_CHECKING:
    from ..records.service import RecordService
    from .registry import Enabled

#: The most records one ``list`` call returns.
MAX_LIST = 500


class ServiceRecords:
    """``Records`` over one record service (its tenant and actor)."""

    def __init__(self, service: RecordService, *, read_only: bool = False) -> None:
        self._service = service
        self._read_only = read_only

    def get(self, object_name: str, record_id: int) -> dict[str, Any]:
        return self._service.get(object_name, record_id)

    def list(self, object_name: str, *, filters: Mapping[str, Any] | None = None,
             limit: int = 50) -> list[dict[str, Any]]:
        """Records whose fields equal ``filters`` (field → value), newest first as the service sorts them."""
        query = ListQuery(filters=[Filter(name, "eq", value) for name, value in (filters or {}).items()],
                          limit=max(1, min(limit, MAX_LIST)))
        return self._service.list(object_name, query).records

    def create(self, object_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        self._writable()
        return self._service.create(object_name, data)

    def update(self, object_name: str, record_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
        self._writable()
        return self._service.update(object_name, record_id, data)

    def _writable(self) -> None:
        if self._read_only:
            raise Forbidden("A before_* hook runs inside the change being written and may only read records; "
                            "write other records from an after_* hook.")


def extension_context(service: RecordService, enabled: Enabled, **request: Any) -> ExtensionContext:
    """The context of a route or job call."""
    return ExtensionContext(service.runtime.tenant.slug, service.actor.user_id, dict(enabled.settings),
                            ServiceRecords(service), **request)


def record_context(service: RecordService, enabled: Enabled, object_name: str, event: str, *,
                   read_only: bool = False, **values: Any) -> RecordContext:
    """The context of a hook or an action on one record."""
    return RecordContext(service.runtime.tenant.slug, service.actor.user_id, dict(enabled.settings),
                         ServiceRecords(service, read_only=read_only), object=object_name, event=event, **values)
