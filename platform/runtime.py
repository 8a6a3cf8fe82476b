"""A tenant's compiled runtime, cached per (tenant, revision).

Compiling a revision — typed metadata, Core tables, marshmallow schemas — is
done once and shared by every request until a newer revision exists. Each
request checks the newest revision number (one indexed query against the
tenant's store), so a change saved by any process is seen by all of them on
their next request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from marshmallow import Schema
from sqlalchemy import Table

from trellis.metadata.model import ObjectDef, live_documents

from . import revisions
from .controlplane.tables import Tenant
from .errors import NotFound
from .records.schemas import input_schema, output_schema
from .storage.stores import TenantStore
from .storage.tables import build_tables


@dataclass(frozen=True)
class TenantRef:
    """The control-plane facts about a tenant that the runtime needs."""

    id: int
    slug: str
    name: str
    store_name: str

    @classmethod
    def of(cls, row: Tenant) -> TenantRef:
        """The runtime's view of a control-plane ``Tenant`` row."""
        return cls(row.id, row.slug, row.name, row.schema_name)


class TenantRuntime:
    """Everything compiled from one revision of one tenant's metadata."""

    def __init__(self, tenant: TenantRef, store: TenantStore, revision: revisions.Revision) -> None:
        self.tenant = tenant
        self.store = store
        self.revision = revision
        self.objects: dict[str, ObjectDef] = {
            doc["api_name"]: ObjectDef.from_document(doc) for doc in live_documents(revision.documents)
        }
        self.tables: dict[str, Table] = build_tables(self.objects.values(), store.schema)
        self._schemas: dict[tuple[str, str], Schema] = {}

    def object(self, name: str) -> ObjectDef:
        try:
            return self.objects[name]
        except KeyError:
            raise NotFound(f"There is no object '{name}' in this CRM.") from None

    def input_schema(self, name: str) -> Schema:
        return self._schema(name, "input", input_schema)

    def output_schema(self, name: str) -> Schema:
        return self._schema(name, "output", lambda obj: output_schema(obj, self.objects))

    @cached_property
    def documents(self) -> dict[str, dict]:
        """The documents of the objects in use, by name (archived objects are the editor's business)."""
        return {doc["api_name"]: doc for doc in live_documents(self.revision.documents)}

    def definitions(self, kind: str) -> Mapping[str, dict[str, Any]]:
        """This revision's definitions of one kind (``role``, ``report``…) by api_name; read-only by convention."""
        return self.revision.definitions.get(kind, {})

    def _schema(self, name: str, kind: str, build: Callable[[ObjectDef], type[Schema]]) -> Schema:
        key = (name, kind)
        if key not in self._schemas:
            self._schemas[key] = build(self.object(name))()
        return self._schemas[key]


class RuntimeCache:
    """Compiled runtimes of the most recently used tenants (least recently used evicted)."""

    def __init__(self, capacity: int = 200) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, TenantRuntime] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tenant: TenantRef, store: TenantStore) -> TenantRuntime:
        with store.engine.connect() as conn:
            newest = revisions.current_number(conn, store)
            with self._lock:
                cached = self._entries.get(tenant.slug)
                if cached is not None and cached.revision.number == newest:
                    self._entries.move_to_end(tenant.slug)
                    return cached
            runtime = TenantRuntime(tenant, store, revisions.load(conn, store, newest))
        with self._lock:
            self._entries[tenant.slug] = runtime
            self._entries.move_to_end(tenant.slug)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return runtime

    def forget(self, slug: str) -> None:
        with self._lock:
            self._entries.pop(slug, None)
