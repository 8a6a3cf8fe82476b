"""Definitions: the configuration documents that are not objects — roles, reports, dashboards, extensions.

A revision is one list of documents. Object documents have no ``kind``; every
other document says what it is (``{"kind": "role", "api_name": "sales_rep", …}``)
so the list stays plain JSON that any tool can read, diff and ship in a template,
and everything that works on objects (tables, diffs, plans) never sees the rest.

Each kind names its JSON Schema (``metadata/schemas/<kind>.schema.json``) and,
optionally, a function for the rules a schema cannot say, given as
``"module:function"`` and imported on first use so this module depends on none of
them. That function is called as ``check(doc, objects=…, definitions=…)`` with the
tenant's live object documents by name and every definition by kind and name,
and returns ``(json path, message)`` pairs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trellis.metadata import names
from trellis.metadata.model import new_id
from trellis.metadata.validation import Problem, finish, schema_problems

Documents = Mapping[str, Mapping[str, Any]]
Definitions = Mapping[str, Documents]


@dataclass(frozen=True)
class Kind:
    name: str
    #: The word in URLs and messages: /metadata/roles/<api_name>.
    plural: str
    #: The prefix of the stable ids of its documents.
    id_prefix: str
    #: "module:function" for the checks beyond the JSON Schema, or "" when the schema says it all.
    check: str = ""

    def checker(self) -> Callable[..., list[tuple[str, str]]] | None:
        if not self.check:
            return None
        module, function = self.check.split(":")
        return getattr(importlib.import_module(module), function)


#: Every kind of definition, by name. A new kind is one entry here and its schema file.
KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("role", "roles", "rol", "trellis.metadata.roles:check"),
    Kind("report", "reports", "rpt", "trellis.metadata.reports:check_report"),
    Kind("dashboard", "dashboards", "dsh", "trellis.metadata.dashboards:check_dashboard"),
    Kind("extension", "extensions", "ext", "trellis.platform.extensions.registry:check_extension"),
    Kind("settings", "settings", "set"),
)}


def kind_of(plural_or_name: str) -> Kind | None:
    """The kind called ``roles`` (as in a URL) or ``role``; None for anything else."""
    return KINDS.get(plural_or_name) or next((k for k in KINDS.values() if k.plural == plural_or_name), None)


def split(documents: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict]]]:
    """A revision's documents as (object documents, definitions by kind and api_name)."""
    objects: list[dict[str, Any]] = []
    definitions: dict[str, dict[str, dict]] = {}
    for doc in documents:
        if "kind" in doc:
            definitions.setdefault(doc["kind"], {})[doc["api_name"]] = dict(doc)
        else:
            objects.append(dict(doc))
    return objects, definitions


def join(objects: Iterable[Mapping[str, Any]], definitions: Definitions) -> list[dict[str, Any]]:
    """The one list a revision stores: objects first, then definitions by kind and name (a stable order)."""
    rest = [dict(definitions[kind][name]) for kind in sorted(definitions) for name in sorted(definitions[kind])]
    return [*map(dict, objects), *rest]


def validate_definition(kind: Kind, doc: object, *, objects: Documents, definitions: Definitions) -> list[Problem]:
    """Every problem of one definition, sorted by path; an empty list when it is valid."""
    if not isinstance(doc, dict):
        return [Problem("$", f"A {kind.name} must be a set of settings in braces {{ }} with api_name and label.")]
    problems, _ = schema_problems({key: value for key, value in doc.items() if key != "kind"}, kind.name)
    name = doc.get("api_name")
    if isinstance(name, str) and (problem := names.shape_problem(name)):
        problems.append(Problem("$.api_name", problem))
    if doc.get("kind", kind.name) != kind.name:
        problems.append(Problem("$.kind", f"This is a {kind.name}; remove kind or set it to \"{kind.name}\"."))
    check = kind.checker()
    if not problems and check is not None:
        problems += [Problem(path, message) for path, message in check(doc, objects=objects, definitions=definitions)]
    return finish(problems)


def stamped(kind: Kind, doc: Mapping[str, Any], existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """``doc`` ready to store: marked with its kind and keeping the stable id of the one it replaces."""
    identity = existing["id"] if existing else doc.get("id") or new_id(kind.id_prefix)
    return {"kind": kind.name, **{k: v for k, v in doc.items() if k != "kind"}, "id": identity}
