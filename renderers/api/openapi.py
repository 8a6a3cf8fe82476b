"""``GET /openapi.json``: the tenant's own OpenAPI 3.1 document, for its current revision.

Every tenant has different objects, so its document is built from its
compiled runtime (the same marshmallow schemas that load its records) and
kept per (tenant, revision) in a bounded LRU: building is paid once per
revision, a metadata change shows up on the next request, and many tenants
cannot grow the cache without bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response

from trellis.platform.runtime import TenantRuntime

from .auth import caller
from .openapi_access import for_access
from .openapi_accounts import add_accounts
from .openapi_automations import add_automations
from .openapi_extensions import add_extensions
from .openapi_jobs import add_jobs
from .openapi_metadata import add_metadata
from .openapi_records import add_records
from .openapi_responses import add_shared, problems
from .openapi_tools import add_tools
from .payload import json_response
from .stages import add_stage_history

API_VERSION = "1"


class SpecCache:
    """Built documents by (tenant slug, revision number), least recently used evicted first."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, runtime: TenantRuntime) -> dict[str, Any]:
        key = (runtime.tenant.slug, runtime.revision.number)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        document = build_document(runtime)
        with self._lock:
            self._entries[key] = document
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return document

    def __len__(self) -> int:
        return len(self._entries)


def build_document(runtime: TenantRuntime) -> dict[str, Any]:
    """The whole document for one revision of one tenant."""
    plugin = MarshmallowPlugin()
    tenant = runtime.tenant
    spec = APISpec(
        title=f"{tenant.name} — Trellis API", version=f"{API_VERSION}.{runtime.revision.number}",
        openapi_version="3.1.0", plugins=[plugin],
        info={"description": "Records and metadata of this CRM. Errors are RFC 9457 problem documents. "
                             "Text values cannot contain the NUL character."},
        servers=[{"url": f"/t/{tenant.slug}/api/v1"}],
        security=[{"bearer": []}],
    )
    assert plugin.converter is not None  # set by APISpec through init_spec
    add_shared(spec)
    add_records(spec, plugin.converter, runtime)
    add_stage_history(spec, runtime)
    add_metadata(spec)
    add_jobs(spec)
    add_automations(spec)
    add_accounts(spec)
    add_extensions(spec, runtime)
    add_tools(spec)
    spec.path(path="/openapi.json", operations={"get": {
        "summary": "This document", "operationId": "openapi", "tags": ["metadata"],
        "responses": {"200": {"description": "The OpenAPI document of this tenant's current revision.",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      **problems(401)}}})
    return spec.to_dict()


def register(bp: Blueprint, cache: SpecCache | None = None) -> None:
    cache = cache or SpecCache()

    def openapi_document() -> Response:
        who = caller()
        runtime = who.runtime()
        access = who.actor.access.resolve(runtime) if who.actor.access else None
        return json_response(for_access(cache.get(runtime), runtime, access))

    bp.add_url_rule("/openapi.json", endpoint="openapi", view_func=openapi_document, methods=["GET"])
