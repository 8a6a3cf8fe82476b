"""Changing a tenant's metadata: validate, diff, migrate and record a revision.

Every change — from the API, the designer, the CLI or a template — comes
through ``MetadataEditor``: documents are validated against the JSON Schemas
and against each other, diffed against the current revision, the DDL is run
and the new revision recorded in one transaction, so either both happen or
neither does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from trellis.metadata.diff import diff_objects
from trellis.metadata.model import ObjectDef, new_id, with_ids
from trellis.metadata.validation import Problem, validate_field, validate_object

from . import revisions
from .errors import Conflict, FieldProblem, InvalidInput, NotFound
from .records.service import Actor
from .runtime import TenantRuntime
from .storage.migrate import apply_changes, check_supported
from .storage.tables import build_tables


class MetadataEditor:
    def __init__(self, runtime: TenantRuntime, actor: Actor) -> None:
        self.runtime = runtime
        self.actor = actor

    def objects(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(doc) for doc in self.runtime.revision.documents]

    def object(self, name: str) -> dict[str, Any]:
        self.runtime.object(name)
        return copy.deepcopy(self.runtime.documents[name])

    def history(self) -> list[revisions.Revision]:
        """Every revision, newest first, without its documents (the change log)."""
        with self.runtime.store.engine.connect() as conn:
            return revisions.history(conn, self.runtime.store)

    def create_object(self, doc: Any) -> int:
        """Add a new object (with any fields it brings); returns the new revision number."""
        _raise_problems("The object is not valid.", validate_object(doc, known_objects=self.runtime.documents))
        doc = with_ids(doc)
        return self._save([*self.objects(), doc], f"Created object {doc['api_name']}")

    def update_object(self, name: str, changes: Any) -> int:
        """Change object-level settings (labels, description, name field)."""
        current = self.object(name)
        if not isinstance(changes, Mapping):
            raise InvalidInput("Send the settings to change as a JSON object.", [FieldProblem("$", "Not an object.")])
        if "fields" in changes:
            raise InvalidInput("Fields are changed one by one.", [FieldProblem(
                "$.fields", "Use the object's fields endpoint to add or change fields.")])
        updated = {**current, **changes}
        others = {k: v for k, v in self.runtime.documents.items() if k != name}
        _raise_problems("The object is not valid.", validate_object(updated, known_objects=others))
        return self._replace(name, updated, f"Changed object {name}")

    def add_field(self, object_name: str, doc: Any) -> int:
        current = self.object(object_name)
        _raise_problems("The field is not valid.", validate_field(
            doc, object_doc=current, known_objects=self.runtime.documents))
        field = {"id": new_id("fld"), **doc}
        current["fields"].append(field)
        return self._replace(object_name, current, f"Added field {object_name}.{field['api_name']}")

    def update_field(self, object_name: str, field_name: str, changes: Any) -> int:
        current = self.object(object_name)
        index = next((i for i, f in enumerate(current["fields"]) if f["api_name"] == field_name), None)
        if index is None:
            raise NotFound(f"There is no field '{field_name}' on {object_name}.")
        if not isinstance(changes, Mapping):
            raise InvalidInput("Send the settings to change as a JSON object.", [FieldProblem("$", "Not an object.")])
        updated = {**current["fields"][index], **changes, "id": current["fields"][index]["id"]}
        _raise_problems("The field is not valid.", validate_field(
            updated, object_doc=current, known_objects=self.runtime.documents))
        current["fields"][index] = updated
        return self._replace(object_name, current, f"Changed field {object_name}.{field_name}")

    def _replace(self, name: str, doc: dict[str, Any], summary: str) -> int:
        return self._save([doc if d["api_name"] == name else d for d in self.objects()], summary)

    def _save(self, documents: list[dict[str, Any]], summary: str) -> int:
        old = self.runtime
        changes = diff_objects(old.revision.documents, documents)
        if not changes:
            return old.revision.number
        check_supported(changes)
        objects = {doc["api_name"]: ObjectDef.from_document(doc) for doc in documents}
        new_tables = build_tables(objects.values(), old.store.schema)
        with old.store.engine.begin() as conn:
            if revisions.current_number(conn, old.store) != old.revision.number:
                raise Conflict("The configuration changed while you were editing. Reload and try again.")
            apply_changes(conn, old.store, objects, old.tables, new_tables, changes)
            return revisions.append(conn, old.store, after=old.revision.number, documents=documents,
                                    changes=changes, author_id=self.actor.user_id, summary=summary)


def _raise_problems(title: str, problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(title, [FieldProblem(p.path, p.message) for p in problems])
