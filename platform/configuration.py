"""Changing a tenant's metadata: validate, diff, migrate and record a revision.

Every change — from the API, the designer, the CLI or a template — comes
through ``MetadataEditor``: documents are validated against the JSON Schemas
and against each other, diffed against the current revision, the DDL is run
and the new revision recorded in one transaction, so either both happen or
neither does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table

from trellis.metadata import definitions as kinds
from trellis.metadata.diff import STORAGE_KEYS, diff_objects
from trellis.metadata.layouts import without_field
from trellis.metadata.model import COMMON_KEYS, ObjectDef, is_live, live_documents, new_id, stored_as, with_ids
from trellis.metadata.pipelines import archive_problems, follow_rename
from trellis.metadata.rollups import broken_rollups, follow_renames
from trellis.metadata.sharing import role_problems
from trellis.metadata.validation import Problem, validate_field, validate_object

from . import revisions
from .errors import Conflict, FieldProblem, InvalidInput, NotFound
from .extensions import registry as extensions
from .records.service import Actor
from .rollback import rollback_documents
from .runtime import TenantRuntime
from .storage.evolve import archive_column, archive_table
from .storage.migrate import apply_changes, check_supported
from .storage.plan import Migration, Plan, Planner
from .storage.tables import build_tables


class MetadataEditor:
    """Changes one tenant's configuration; each change is planned, checked, then applied or refused whole.

    With ``dry_run`` a change is only planned: ``last_plan`` says what it would do
    and cost, and nothing is written. ``migration`` carries what the admin supplies
    to make an unsafe change safe (see ``storage.plan.Migration``).
    """

    def __init__(self, runtime: TenantRuntime, actor: Actor, *, migration: Migration | None = None,
                 dry_run: bool = False, background: Background | None = None) -> None:
        self.runtime = runtime
        self.actor = actor
        self.migration = migration or Migration()
        self.dry_run = dry_run
        self.background = background
        #: The plan of the newest change this editor made (or, in a dry run, would make).
        self.last_plan: Plan | None = None
        #: The job a large conversion was handed to; the revision comes when it finishes.
        self.last_job: int | None = None

    def objects(self) -> list[dict[str, Any]]:
        """The objects in use (archived ones: ``archived_objects``)."""
        return [copy.deepcopy(doc) for doc in live_documents(self.runtime.revision.documents)]

    def _all(self) -> list[dict[str, Any]]:
        """Every object document, archived ones included: what a new revision is made from."""
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
        _raise_problems("The object is not valid.", validate_object(doc, known_objects=self.runtime.documents)
                        + self._sharing_role_problems(doc))
        _no_archive(doc)
        doc = with_ids(doc)
        return self._save([*self._all(), doc], f"Created object {doc['api_name']}")

    def update_object(self, name: str, changes: Any) -> int:
        """Change object-level settings (labels, description, name field)."""
        current = self.object(name)
        if not isinstance(changes, Mapping):
            raise InvalidInput("Send the settings to change as a JSON object.", [FieldProblem("$", "Not an object.")])
        if "fields" in changes:
            raise InvalidInput("Fields are changed one by one.", [FieldProblem(
                "$.fields", "Use the object's fields endpoint to add or change fields.")])
        _no_archive(changes)
        updated = {**current, **changes, "id": current["id"]}
        new_name = updated.get("api_name")
        documents = [updated if d["id"] == current["id"] else d for d in self._all()]
        if isinstance(new_name, str) and new_name != name:  # a rename: lookups follow the table
            documents = [_retarget(d, name, new_name) for d in documents]
            updated = next(d for d in documents if d["id"] == current["id"])
        others = {d["api_name"]: d for d in documents if d["id"] != current["id"]}
        _raise_problems("The object is not valid.", validate_object(updated, known_objects=others)
                        + self._sharing_role_problems(updated))
        return self._save(documents, f"Changed object {name}")

    def add_field(self, object_name: str, doc: Any) -> int:
        current = self.object(object_name)
        _raise_problems("The field is not valid.", validate_field(
            doc, object_doc=current, known_objects=self.runtime.documents))
        field = {"id": new_id("fld"), **doc}
        current["fields"].append(field)
        return self._replace(object_name, current, f"Added field {object_name}.{field['api_name']}")

    def update_field(self, object_name: str, field_name: str, changes: Any) -> int:
        """Change a field's settings; a new ``api_name`` renames its column, keeping every value."""
        current = self.object(object_name)
        index = _live_index(current, field_name)
        if not isinstance(changes, Mapping):
            raise InvalidInput("Send the settings to change as a JSON object.", [FieldProblem("$", "Not an object.")])
        base = current["fields"][index]
        if changes.get("type", base["type"]) != base["type"]:
            # A new type starts from the settings every type shares; the old type's own (values,
            # target, precision...) do not carry over, and neither does a default of the old type.
            base = {k: v for k, v in base.items() if k in COMMON_KEYS - {"default"}}
        updated = {**base, **changes, "id": base["id"]}
        _raise_problems("The field is not valid.", validate_field(
            updated, object_doc=current, known_objects=self.runtime.documents))
        old, current["fields"][index] = current["fields"][index], updated
        if any(old.get(key) != updated.get(key) for key in STORAGE_KEYS):
            # Values move to a new column; the old one is archived under a copy of the old field.
            self._archive(current, {**old, "id": new_id("fld")}, replaced_by=old["id"])
        if current.get("name_field") == field_name:  # a rename keeps the field titling the records
            current["name_field"] = updated["api_name"]
        current = follow_rename(current, field_name, updated["api_name"])  # stages requiring it follow too
        return self._replace(object_name, current, f"Changed field {object_name}.{field_name}")

    def archived_fields(self, object_name: str) -> list[dict[str, Any]]:
        return self.object(object_name).get("archived_fields", [])

    def archive_field(self, object_name: str, field_name: str) -> int:
        """Take a field out of use without losing a value: its column is renamed, not dropped."""
        current = self.object(object_name)
        field = current["fields"].pop(_live_index(current, field_name))
        if current.get("name_field") == field_name:
            raise InvalidInput("The field titles this object's records.", [FieldProblem(
                "$.name_field", f"{field_name} is the object's name field; choose another name field first.")])
        _raise_problems("A stage requires this field.", [Problem(*p) for p in archive_problems(current, field_name)])
        current, uses = without_field(current, field_name, self._all())  # taken off the layouts, unless a rule reads it
        _raise_problems("A form layout or rule uses this field.", [Problem(*p) for p in uses])
        self._archive(current, field)
        return self._replace(object_name, current, f"Archived field {object_name}.{field_name}")

    def _archive(self, current: dict[str, Any], field: dict[str, Any], replaced_by: str | None = None) -> None:
        """List ``field`` under the object's archived fields, with the column that will keep its values."""
        column = archive_column(field["id"])
        if any(f["api_name"] == column for f in current["fields"]):
            raise Conflict(f"The archive column {column} is taken by a field; rename that field first.")
        entry = {"field": field, "column": column, "archived_at": datetime.now(UTC).isoformat(),
                 "archived_by": self.actor.user_id}
        if replaced_by:
            entry["replaced_by"] = replaced_by
        current["archived_fields"] = [*current.get("archived_fields", []), entry]

    def restore_field(self, object_name: str, field: str) -> int:
        """Bring an archived field back (by id or api_name) with all its values, if its name is free."""
        current = self.object(object_name)
        entry = _archived_entry(current, field)
        name = entry["field"]["api_name"]
        if any(f["api_name"] == name for f in current["fields"]):
            raise InvalidInput(f"Cannot restore {object_name}.{name}: another field now has that name.", [
                FieldProblem("$.field.api_name", f"The field '{name}' was added after this one was archived; rename or "
                                   "archive it first, then restore.")])
        current["archived_fields"].remove(entry)
        current["fields"].append(entry["field"])
        _raise_problems("The restored field is not valid.", validate_object(current, known_objects={
            k: v for k, v in self.runtime.documents.items() if k != object_name}))
        return self._replace(object_name, current, f"Restored field {object_name}.{name}")

    def purge_field(self, object_name: str, field: str) -> int:
        """Drop an archived field's column and values for good; only ever as this explicit step."""
        current = self.object(object_name)
        entry = _archived_entry(current, field)
        current["archived_fields"].remove(entry)
        return self._replace(object_name, current, f"Purged field {object_name}.{entry['field']['api_name']}")

    def revision(self, number: int) -> revisions.Revision:
        """One revision with its documents; a number that never existed is not found."""
        with self.runtime.store.engine.connect() as conn:
            if not 1 <= number <= revisions.current_number(conn, self.runtime.store):
                raise NotFound(f"There is no revision {number}.")
            return revisions.load(conn, self.runtime.store, number)

    def diff(self, first: int, second: int) -> list[dict[str, Any]]:
        """The changes that turn revision ``first`` into ``second`` (either may be the older one)."""
        return diff_objects(self.revision(first).documents, self.revision(second).documents)

    def rollback(self, number: int) -> int:
        """Make revision ``number``'s configuration current again, as a new revision that loses nothing."""
        target = self.revision(number)
        documents = rollback_documents(self._all(), target.documents, number, self.actor.user_id)
        return self._save(documents, f"Rolled back to revision {number}", target.definitions)

    def archived_objects(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(doc) for doc in self.runtime.revision.documents if not is_live(doc)]

    def archive_object(self, name: str) -> int:
        """Take an object out of use without losing a record: its table is renamed, not dropped."""
        current = self.object(name)
        pointing = [f"{doc['api_name']}.{field['api_name']}" for doc in self.objects() if doc["id"] != current["id"]
                    for field in doc["fields"] if field.get("type") == "lookup" and field.get("target") == name
                    or field.get("type") == "rollup" and field.get("child_object") == name]  # rollups read it
        if pointing:
            raise InvalidInput(f"Other objects look up {name}.", [FieldProblem(
                "$.api_name", f"{', '.join(pointing)} point at {name}; archive those fields first.")])
        current["archived"] = {"table": archive_table(current["id"]), "archived_at": datetime.now(UTC).isoformat(),
                               "archived_by": self.actor.user_id}
        return self._replace(name, current, f"Archived object {name}")

    def restore_object(self, ref: str) -> int:
        """Bring an archived object (by id or api_name) back with all its records, if its name is free."""
        doc = self._archived_object(ref)
        del doc["archived"]
        _raise_problems(f"Cannot restore {doc['api_name']}.",
                        validate_object(doc, known_objects=self.runtime.documents))
        return self._save([doc if d["id"] == doc["id"] else d for d in self._all()],
                          f"Restored object {doc['api_name']}")

    def purge_object(self, ref: str) -> int:
        """Drop an archived object's table and records for good; only ever as this explicit step."""
        doc = self._archived_object(ref)
        return self._save([d for d in self._all() if d["id"] != doc["id"]], f"Purged object {doc['api_name']}")

    def _archived_object(self, ref: str) -> dict[str, Any]:
        found = [doc for doc in self.archived_objects() if ref in (doc["id"], doc["api_name"])]
        if not found:
            raise NotFound(f"There is no archived object '{ref}'.")
        return found[-1]

    def _replace(self, name: str, doc: dict[str, Any], summary: str) -> int:
        return self._save([doc if d["id"] == doc["id"] else d for d in self._all()], summary)

    def replace_all(self, documents: list[dict[str, Any]], definitions: kinds.Definitions, summary: str) -> int:
        """A whole new set of object documents (archived ones included) and definitions as ONE revision: how a
        template installs, upgrades and uninstalls. The caller validates the documents; planning, the rollup
        checks and the dry run work as for any other change."""
        return self._save(documents, summary, definitions)

    def _save(self, documents: list[dict[str, Any]], summary: str,
              definitions: kinds.Definitions | None = None) -> int:
        """A new revision of these object documents (and ``definitions``, when they change too)."""
        old = self.runtime
        definitions = old.revision.definitions if definitions is None else definitions
        documents = follow_renames(old.revision.documents, documents)  # rollups follow renamed children
        _raise_problems("This change breaks a rollup.", [Problem(*p) for p in broken_rollups(
            old.revision.documents, documents)])
        changes = diff_objects(old.revision.documents, documents)
        _raise_problems("This change uses a field type of an extension that is not enabled.",
                        extensions.type_problems(documents, definitions))
        if not changes:
            if definitions == old.revision.definitions:
                return old.revision.number
            return self._save_definitions(definitions, [{"op": "restore_definitions"}], summary)
        check_supported(changes)
        objects = _live_objects(documents)
        # Only a conversion on its own can be handed to a job: other changes would wait for it.
        background = self.background if len(changes) == 1 and changes[0]["op"] == "convert_field" else None
        with old.store.engine.begin() as conn:
            self._check_current(conn)
            plan = Planner(conn, old.store, old.objects, objects, old.tables, self.migration,
                           background.min_rows if background else None).plan(old.revision.number, changes)
            self.last_plan = plan
            if self.dry_run:
                return old.revision.number
            if plan.blocked:
                raise Conflict(_refusal(plan), plan.problems(), extra={"plan": plan.as_dict()})
            if background and plan.background:
                self.last_job = background.enqueue(documents, summary, old.revision.number, changes[0],
                                                   self.migration)
                return old.revision.number
            return self._commit(conn, documents, changes, objects, summary, definitions)

    def switch_prepared(self, documents: list[dict[str, Any]], summary: str) -> int:
        """Finish a change whose conversion a job has done: catch up, switch and record the revision."""
        changes = diff_objects(self.runtime.revision.documents, documents)
        objects = _live_objects(documents)
        with self.runtime.store.engine.begin() as conn:
            self._check_current(conn)
            return self._commit(conn, documents, changes, objects, summary)

    def _check_current(self, conn: Connection) -> None:
        if revisions.current_number(conn, self.runtime.store) != self.runtime.revision.number:
            raise Conflict("The configuration changed while you were editing. Reload and try again.")

    def _commit(self, conn: Connection, documents: list[dict[str, Any]], changes: list[dict[str, Any]],
                objects: dict[str, ObjectDef], summary: str, definitions: kinds.Definitions | None = None) -> int:
        """The DDL and the revision, in the caller's transaction."""
        old = self.runtime
        new_tables = build_tables(objects.values(), old.store.schema)
        archived = {d["archived"]["table"]: _stored_table(d, old.store.schema)
                    for d in (*old.revision.documents, *documents) if not is_live(d)}
        apply_changes(conn, old.store, old.objects, objects, old.tables, new_tables, changes, self.migration,
                      archived)
        definitions = old.revision.definitions if definitions is None else definitions
        return revisions.append(conn, old.store, after=old.revision.number, documents=documents,
                                definitions=definitions, changes=changes, author_id=self.actor.user_id,
                                summary=summary)

    def _sharing_role_problems(self, doc: Any) -> list[Problem]:
        """Sharing rules must name roles the tenant defines (the object's own checks cannot see them)."""
        if not isinstance(doc, Mapping) or not isinstance(doc.get("sharing"), Mapping):
            return []
        return [Problem(path, message) for path, message in role_problems(doc, self.runtime.definitions("role"))]

    # -- definitions: roles, reports, dashboards… (no DDL) ---------------

    def definitions(self, kind: str) -> dict[str, dict[str, Any]]:
        """The definitions of one kind (``role`` or ``roles``), by api_name."""
        return copy.deepcopy(self.runtime.revision.definitions.get(_kind(kind).name, {}))

    def definition(self, kind: str, name: str) -> dict[str, Any]:
        found = self.definitions(kind).get(name)
        if found is None:
            raise NotFound(f"There is no {_kind(kind).name} '{name}'.")
        return found

    def put_definition(self, kind: str, doc: Any, name: str | None = None) -> int:
        """Create a definition, or replace the one called ``name`` (``doc`` may rename it); a new revision."""
        found = _kind(kind)
        current = copy.deepcopy(self.runtime.revision.definitions)
        same_kind = current.setdefault(found.name, {})
        existing = same_kind.pop(name, None) if name is not None else None
        if name is not None and existing is None:
            raise NotFound(f"There is no {found.name} '{name}'.")
        if isinstance(doc, dict) and existing is None and doc.get("api_name") in same_kind:
            _raise_problems(f"The {found.name} is not valid.", [Problem("$.api_name", (
                f"Another {found.name} is already called '{doc['api_name']}'; choose another name, or change "
                f"that one at /metadata/{found.plural}/{doc['api_name']}."))])
        _raise_problems(f"The {found.name} is not valid.", kinds.validate_definition(
            found, doc, objects=self.runtime.documents, definitions=current))
        stored = kinds.stamped(found, doc, existing)
        same_kind[stored["api_name"]] = stored
        change = {"op": "put_definition", "kind": found.name, "id": stored["id"], "name": stored["api_name"]}
        verb = "Created" if existing is None else "Changed"
        return self._save_definitions(current, [change], f"{verb} {found.name} {stored['api_name']}")

    def delete_definition(self, kind: str, name: str) -> int:
        """Remove a definition; the revision log keeps it, so a rollback brings it back."""
        found = _kind(kind)
        current = copy.deepcopy(self.runtime.revision.definitions)
        removed = current.get(found.name, {}).pop(name, None)
        if removed is None:
            raise NotFound(f"There is no {found.name} '{name}'.")
        _raise_problems(f"The {found.name} {name} is in use.", extensions.type_problems(self._all(), current))
        return self._save_definitions(current, [{"op": "delete_definition", "kind": found.name, "id": removed["id"],
                                                 "name": name}], f"Deleted {found.name} {name}")

    def _save_definitions(self, definitions: kinds.Definitions, changes: list[dict[str, Any]], summary: str) -> int:
        """Definitions make no DDL: a dry run has nothing to plan, a change is one appended revision."""
        old = self.runtime
        if self.dry_run:
            return old.revision.number
        with old.store.engine.begin() as conn:
            self._check_current(conn)
            return revisions.append(conn, old.store, after=old.revision.number, documents=self._all(),
                                    definitions=definitions, changes=changes, author_id=self.actor.user_id,
                                    summary=summary)


@dataclass(frozen=True)
class Background:
    """How the editor hands a large type conversion to the job layer."""

    #: Conversions of more records than this run as a job.
    min_rows: int
    #: Queues the conversion job: (documents, summary, from revision, change, migration) → job id.
    enqueue: Callable[[list[dict[str, Any]], str, int, dict[str, Any], Migration], int]


def _kind(name: str) -> kinds.Kind:
    found = kinds.kind_of(name)
    if found is None:
        raise NotFound(f"Trellis has no kind of configuration called '{name}'.")
    return found


def _live_objects(documents: list[dict[str, Any]]) -> dict[str, ObjectDef]:
    return {doc["api_name"]: ObjectDef.from_document(doc) for doc in live_documents(documents)}


def _stored_table(doc: Mapping[str, Any], schema: str | None) -> Table:
    """An archived object's table as the database has it: under its archive name."""
    stored = ObjectDef.from_document(stored_as(doc))
    return build_tables([stored], schema)[stored.api_name]


def _refusal(plan: Plan) -> str:
    """The first reason a plan was refused, as the problem's one-line detail."""
    problems = plan.problems()
    more = f" ({len(problems) - 1} more problems below.)" if len(problems) > 1 else ""
    return f"Nothing was changed: {problems[0].message}{more}"


def _live_index(doc: Mapping[str, Any], name: str) -> int:
    index = next((i for i, f in enumerate(doc["fields"]) if f["api_name"] == name), None)
    if index is None:
        raise NotFound(f"There is no field '{name}' on {doc['api_name']}.")
    return index


def _archived_entry(doc: Mapping[str, Any], field: str) -> dict[str, Any]:
    """An archived field by its id (unambiguous) or its api_name (the newest archive of that name)."""
    entries = [e for e in doc.get("archived_fields", []) if field in (e["field"]["id"], e["field"]["api_name"])]
    if not entries:
        raise NotFound(f"There is no archived field '{field}' on {doc['api_name']}.")
    return entries[-1]


def _retarget(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``doc`` with its lookups (live and archived) to object ``old`` pointing at ``new``."""
    def follow(field: dict[str, Any]) -> dict[str, Any]:
        return {**field, "target": new} if field.get("type") == "lookup" and field.get("target") == old else field
    archived = [{**entry, "field": follow(entry["field"])} for entry in doc.get("archived_fields", [])]
    result = {**doc, "fields": [follow(f) for f in doc["fields"]]}
    return {**result, "archived_fields": archived} if "archived_fields" in doc else result


def _no_archive(doc: Any) -> None:
    """Archives change only through archive, restore and purge, which keep the tables in step."""
    if isinstance(doc, Mapping) and "archived_fields" in doc:
        raise InvalidInput("Archived fields are changed one by one.", [FieldProblem(
            "$.archived_fields", "Use the object's fields and archived-fields endpoints to archive, restore "
                                 "or purge a field.")])
    if isinstance(doc, Mapping) and "archived" in doc:
        raise InvalidInput("Objects are archived on their own.", [FieldProblem(
            "$.archived", "Use DELETE on the object to archive it and the archived-objects endpoints to restore "
                          "or purge it.")])


def _raise_problems(title: str, problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(title, [FieldProblem(p.path, p.message) for p in problems])
