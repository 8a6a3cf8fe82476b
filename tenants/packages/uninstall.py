"""Uninstall a template: archive its objects (tables and records kept, restorable) and remove its definitions.

Nothing is lost: archived objects come back with ``trellis``' restore, removed
definitions stay in the revision log (a rollback brings them back), and the
template's row is kept, marked uninstalled, as the record of what it installed.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from trellis.metadata.model import is_live
from trellis.platform.core import Platform
from trellis.platform.errors import Conflict, FieldProblem, InvalidInput
from trellis.platform.records.service import Actor
from trellis.platform.storage.evolve import archive_table

from . import state
from .apply import Outcome, save


def uninstall(platform: Platform, slug: str, name: str, actor: Actor, *, dry_run: bool = False) -> Outcome:
    runtime = platform.runtime(slug)
    rows = state.installed(runtime.store)
    row = state.installed_one(runtime.store, name)
    users = [other for other, r in rows.items() if r["status"] == "installed" and any(
        need.get("name") == name for need in r["manifest"].get("builds_on", []))]
    if users:
        raise Conflict(f"{', '.join(users)} builds on '{name}'; uninstall {', '.join(users)} first.")
    object_ids = set(row["ids"]["objects"].values())
    documents = [_archived(doc, actor) if doc["id"] in object_ids and is_live(doc) else doc
                 for doc in copy.deepcopy(runtime.revision.documents)]
    _check_lookups(documents, object_ids)
    definition_ids = {i for docs in row["ids"]["definitions"].values() for i in docs.values()}
    definitions = {kind: {n: d for n, d in docs.items() if d.get("id") not in definition_ids}
                   for kind, docs in runtime.revision.definitions.items()}
    revision, plan = save(platform, runtime, actor, documents, definitions, f"Uninstalled template {name}", dry_run)
    if not dry_run:
        fresh = platform.runtime(slug)
        with fresh.store.engine.begin() as conn:
            state.record(conn, fresh.store, manifest=row["manifest"], revision=revision, base=row["base"],
                         ids=row["ids"], status="uninstalled")
    return Outcome("uninstall", name, row["version"], dry_run, revision, plan)


def _archived(doc: dict[str, Any], actor: Actor) -> dict[str, Any]:
    return {**doc, "archived": {"table": archive_table(doc["id"]), "archived_at": datetime.now(UTC).isoformat(),
                                "archived_by": actor.user_id}}


def _check_lookups(documents: list[dict[str, Any]], archived: set[str]) -> None:
    """The tenant's own objects may not keep looking up (or rolling up) an object being archived."""
    names = {doc["api_name"] for doc in documents if doc["id"] in archived}
    pointing = [f"{doc['api_name']}.{f['api_name']}" for doc in documents if is_live(doc)
                for f in doc["fields"] if f.get("target") in names or f.get("child_object") in names]
    if pointing:
        raise InvalidInput("The tenant's own fields use the template's objects.", [FieldProblem(
            "$.objects", f"{', '.join(pointing)} point at the template's objects; archive those fields first.")])
