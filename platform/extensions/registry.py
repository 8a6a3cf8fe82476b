"""Which extensions are installed (entry points) and which a tenant enabled (its ``extension`` definitions).

Installed extensions are found once per process in the ``trellis.extensions``
entry-point group; their field types join the field-type catalog as
``<extension>.<type>`` then, so any revision that uses one can be compiled.
Whether a tenant may *use* them is the tenant's business: only the extensions
named by its current revision's ``extension`` definitions are enabled, and the
checks below keep fields of a disabled extension's types out of its objects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from trellis.extensions.api import Extension
from trellis.metadata import fieldtypes
from trellis.metadata.model import live_documents
from trellis.metadata.validation import Problem

if TYPE_CHECKING:
    from ..runtime import TenantRuntime

log = logging.getLogger(__name__)

GROUP = "trellis.extensions"
_lock = threading.Lock()
_installed: dict[str, Extension] | None = None


def installed() -> dict[str, Extension]:
    """Every installed extension by name, loaded once; a package that fails to load is logged and left out."""
    global _installed
    with _lock:
        if _installed is None:
            found: dict[str, Extension] = {}
            for point in entry_points(group=GROUP):
                try:
                    extension = point.load()
                except Exception:  # a broken package must not take the platform down
                    log.exception("Extension entry point %s could not be loaded", point.name)
                    continue
                if isinstance(extension, Extension):
                    found[extension.name] = extension
                else:
                    log.error("Entry point %s is not a trellis.extensions.api.Extension", point.name)
            for extension in found.values():
                _register_types(extension)
            _installed = found
        return _installed


def install(extension: Extension) -> None:
    """Add an extension that came by another way than an entry point (an application's own, a test's)."""
    installed()
    with _lock:
        assert _installed is not None
        _installed[extension.name] = extension
        _register_types(extension)


def _register_types(extension: Extension) -> None:
    for spec in extension.field_types.values():
        name = f"{extension.name}.{spec.name}"
        if name not in fieldtypes.EXTENSION_TYPES:
            fieldtypes.register(fieldtypes.FieldType(name, spec.storage, spec.widget, spec.filter_ops,
                                                     spec.make_field))


@dataclass(frozen=True)
class Enabled:
    """An extension a tenant enabled, with the settings its definition gives it."""

    extension: Extension
    settings: Mapping[str, Any]


def enabled(runtime: TenantRuntime) -> dict[str, Enabled]:
    """The tenant's enabled extensions that are installed in this process, by name."""
    available = installed()
    return {name: Enabled(available[name], doc.get("settings", {}))
            for name, doc in runtime.definitions("extension").items() if name in available}


def check_extension(doc: Mapping[str, Any], *, objects: Any, definitions: Any) -> list[tuple[str, str]]:
    """The ``extension`` definition's rule beyond its schema: the extension must be installed."""
    available = installed()
    if doc["api_name"] in available:
        return []
    listed = ", ".join(sorted(available)) or "none"
    return [("$.api_name", f"No extension called '{doc['api_name']}' is installed; installed extensions: {listed}.")]


def type_problems(documents: list[dict[str, Any]], definitions: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """Fields in use whose type belongs to an extension these definitions do not enable.

    Archived fields do not count: their values stay in their column, and restoring one is checked again."""
    enabled_names = set(definitions.get("extension", {}))
    problems = []
    for doc in live_documents(documents):
        for field in doc["fields"]:
            owner = field["type"].split(".", 1)[0] if "." in field["type"] else None
            if owner is not None and owner not in enabled_names:
                problems.append(Problem("$.type", (
                    f"{doc['api_name']}.{field['api_name']} is a {field['type']} field of the extension '{owner}', "
                    f"which this tenant has not enabled; enable it (PUT /metadata/extensions/{owner}) or archive "
                    "that field first.")))
    return problems
