"""Roles: what their holders may do with each object and field, and where they sit in the hierarchy.

A role is a definition (``{"kind": "role", …}``, schema ``schemas/role.schema.json``). Per object it
grants ``create``, ``read``, ``edit``, ``delete``, ``view_all`` and ``modify_all``; per field it may make
a field ``hidden`` or ``read_only``; per pipeline field it may narrow the stage moves (``stage_moves``:
from stage → allowed targets); it may pick the object's form ``layout``. ``reports_to`` names the role
above it, whose holders see (``manager_access`` of that upper role: read or edit) the records owned by
holders of the roles below. The platform compiles this into predicates (``trellis.platform.permissions``);
this module only checks what a schema cannot say and offers typed views.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

#: The object permissions, in the order they are shown.
PERMISSIONS = ("create", "read", "edit", "delete", "view_all", "modify_all")
#: Field access levels from the most to the least restrictive.
FIELD_LEVELS = ("hidden", "read_only", "editable")


def _suggest(name: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        return f"did you mean {', '.join(repr(c) for c in close)}?"
    return f"known {what}: {', '.join(known) or 'none'}."


def check(doc: Mapping[str, Any], *, objects: Mapping[str, Mapping[str, Any]],
          definitions: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """The problems of a role that its schema cannot see: unknown objects, fields, stages, layouts and roles,
    and a ``reports_to`` chain that comes back to this role."""
    problems = _hierarchy_problems(doc, definitions.get("role", {}))
    for name, grants in (doc.get("objects") or {}).items():
        path = f"$.objects.{name}"
        if name not in objects:
            problems.append((path, f"There is no object '{name}'; {_suggest(name, sorted(objects), 'objects')}"))
            continue
        problems += _object_problems(path, objects[name], grants)
    return problems


def _hierarchy_problems(doc: Mapping[str, Any], roles: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    above = doc.get("reports_to")
    if above is None:
        return []
    me = doc["api_name"]
    others = {name: role for name, role in roles.items() if name != me}
    if above == me:
        return [("$.reports_to", "A role cannot report to itself; name the role above it, or leave reports_to out.")]
    if above not in others:
        return [("$.reports_to", f"There is no role '{above}'; {_suggest(above, sorted(others), 'roles')}")]
    chain, current = [me], above
    while current is not None and current in others:
        if current in chain:
            break
        chain.append(current)
        current = others[current].get("reports_to")
    if current == me:
        loop = " → ".join([*chain, me])
        return [("$.reports_to", f"This makes a loop in the hierarchy ({loop}); a role may not end up above itself.")]
    return []


def _object_problems(path: str, obj: Mapping[str, Any], grants: Mapping[str, Any]) -> list[tuple[str, str]]:
    fields = {f["api_name"]: f for f in obj.get("fields", [])}
    problems = [(f"{path}.fields.{name}", f"{obj['api_name']} has no field '{name}'; "
                 f"{_suggest(name, sorted(fields), 'fields')}")
                for name in (grants.get("fields") or {}) if name not in fields]
    for name, moves in (grants.get("stage_moves") or {}).items():
        field = fields.get(name)
        if field is None or field.get("type") != "picklist" or "pipeline" not in field:
            pipelines = sorted(n for n, f in fields.items() if f.get("type") == "picklist" and "pipeline" in f)
            problems.append((f"{path}.stage_moves.{name}", f"'{name}' is not a pipeline field of {obj['api_name']}; "
                             f"{_suggest(name, pipelines, 'pipeline fields')}"))
            continue
        stages = [choice["value"] for choice in field.get("values", [])]
        for source, targets in moves.items():
            for stage, where in [(source, f"{path}.stage_moves.{name}.{source}"),
                                 *((t, f"{path}.stage_moves.{name}.{source}[{i}]") for i, t in enumerate(targets))]:
                if stage not in stages:
                    problems.append((where, f"'{stage}' is not a stage of {name}; {_suggest(stage, stages, 'stages')}"))
    layout = grants.get("layout")
    layouts = [item.get("name") for item in obj.get("layouts", [])]
    if layout is not None and layout not in layouts:
        problems.append((f"{path}.layout", f"{obj['api_name']} has no layout '{layout}'; "
                         f"{_suggest(layout, layouts, 'layouts')}"))
    return problems


def hierarchy(roles: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """Each role's subordinates: every role below it, however deep (a loop, refused when saved, just stops)."""
    children: dict[str, set[str]] = {}
    for name, role in roles.items():
        if role.get("reports_to"):
            children.setdefault(role["reports_to"], set()).add(name)
    below: dict[str, set[str]] = {}
    for name in roles:
        seen: set[str] = set()
        todo = list(children.get(name, ()))
        while todo:
            current = todo.pop()
            if current not in seen and current != name:
                seen.add(current)
                todo.extend(children.get(current, ()))
        below[name] = seen
    return below
