"""What install, upgrade and uninstall share: one new revision through the metadata editor, and the outcome.

A template change is a whole new set of object documents and definitions saved as
ONE revision, so the schema-evolution planner plans (and, in a dry run, only
plans) every table and column it causes, and either all of it happens or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from trellis.metadata import definitions as kinds
from trellis.platform.core import Platform
from trellis.platform.errors import FieldProblem, InvalidInput
from trellis.platform.records.service import Actor
from trellis.platform.runtime import TenantRuntime

from .package import PackageProblem


@dataclass
class Outcome:
    """What a template operation did, or in a dry run would do."""

    action: str
    template: str
    version: str
    dry_run: bool
    #: The tenant's revision afterwards (unchanged in a dry run).
    revision: int
    plan: list[str] = field(default_factory=list)
    #: Both sides changed the same setting: {key, file, path, installed, tenant, template}.
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Seed records created, by object.
    records: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def save(platform: Platform, runtime: TenantRuntime, actor: Actor, documents: list[dict[str, Any]],
         definitions: kinds.Definitions, summary: str, dry_run: bool) -> tuple[int, list[str]]:
    """Save ``documents`` and ``definitions`` as one revision (or plan it); returns (revision, plan lines)."""
    editor = platform.editor(runtime, actor, dry_run=dry_run)
    revision = editor.replace_all(documents, definitions, summary)
    lines = editor.last_plan.lines() if editor.last_plan else []
    return revision, [*lines, *definition_lines(runtime.revision.definitions, definitions)]


def definition_lines(old: kinds.Definitions, new: kinds.Definitions) -> list[str]:
    """Plan lines for definitions, which make no DDL and so are not in the storage plan."""
    lines = []
    for kind in sorted({*old, *new}):
        before, after = old.get(kind, {}), new.get(kind, {})
        lines += [f"Add {kind} {name}." for name in sorted(after) if name not in before]
        lines += [f"Change {kind} {name}." for name in sorted(after) if name in before and before[name] != after[name]]
        lines += [f"Remove {kind} {name}." for name in sorted(before) if name not in after]
    return lines


def refuse(title: str, problems: list[PackageProblem]) -> None:
    """Raise the package's problems as one InvalidInput naming file and JSON path, if there are any."""
    if problems:
        raise InvalidInput(title, [FieldProblem(f"{p.file} {p.path}", p.message) for p in problems])


def ids_of(objects: Mapping[str, Mapping[str, Any]], definitions: kinds.Definitions) -> dict[str, Any]:
    """The stable ids a template's documents got in the tenant, by template name."""
    return {
        "objects": {name: doc["id"] for name, doc in objects.items()},
        "fields": {f"{name}.{f['api_name']}": f["id"] for name, doc in objects.items() for f in doc["fields"]},
        "definitions": {kind: {name: doc["id"] for name, doc in docs.items()} for kind, docs in definitions.items()},
    }
