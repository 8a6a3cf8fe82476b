"""The OpenAPI document as one user may see it: hidden fields absent, read-only fields not writable,
objects the user's roles cannot read left out.

The full document is built once per revision (``openapi.SpecCache``); each set of roles gets a pruned
copy, remembered per (tenant, revision, roles) in a small LRU, so a user's document never names a field
their roles hide.
"""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from typing import Any

from trellis.platform.permissions import Unrestricted
from trellis.platform.runtime import TenantRuntime

_LOCK = threading.Lock()
_PRUNED: OrderedDict[tuple[str, int, tuple[str, ...]], dict[str, Any]] = OrderedDict()
_SIZE = 256


def for_access(document: dict[str, Any], runtime: TenantRuntime, access: Unrestricted | None) -> dict[str, Any]:
    """``document`` pruned for ``access`` (None: the whole document)."""
    plan = getattr(access, "plan", None)
    if access is None or plan is None:
        return document
    key = (runtime.tenant.slug, runtime.revision.number, plan.roles)
    with _LOCK:
        if key in _PRUNED:
            _PRUNED.move_to_end(key)
            return _PRUNED[key]
    pruned = _prune(document, runtime, access)
    with _LOCK:
        _PRUNED[key] = pruned
        while len(_PRUNED) > _SIZE:
            _PRUNED.popitem(last=False)
    return pruned


def _prune(document: dict[str, Any], runtime: TenantRuntime, access: Any) -> dict[str, Any]:
    result = copy.deepcopy(document)
    paths, schemas = result.get("paths", {}), result.get("components", {}).get("schemas", {})
    for name, obj in runtime.objects.items():
        if not access.plan.grant(name).can("read"):
            for path in [p for p in paths if p == f"/records/{name}" or p.startswith(f"/records/{name}/")]:
                del paths[path]
            continue
        hidden = access.hidden(obj)
        unwritable = hidden | access.read_only(obj)
        _drop(schemas.get(name), hidden)
        _drop(schemas.get(f"{name}_create"), unwritable)
        _drop(schemas.get(f"{name}_update"), unwritable)
        listing = paths.get(f"/records/{name}", {}).get("get")
        if listing is not None and hidden:
            listing["parameters"] = [_sort_without(p, hidden) for p in listing.get("parameters", [])
                                     if p["name"].split("__")[0] not in hidden]
    return result


def _drop(schema: dict[str, Any] | None, names: frozenset[str]) -> None:
    if schema is None:
        return
    for name in names:
        schema.get("properties", {}).pop(name, None)
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in names]


def _sort_without(parameter: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """The sort parameter's pattern lists sortable fields as alternatives: take the hidden ones out."""
    if parameter["name"] != "sort":
        return parameter
    pattern = parameter["schema"]["pattern"]
    for name in hidden:
        pattern = re.sub(rf"\|{re.escape(re.escape(name))}(?=[|)])", "", pattern)
    return {**parameter, "schema": {**parameter["schema"], "pattern": pattern}}
