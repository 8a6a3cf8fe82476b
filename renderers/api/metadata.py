"""The metadata API: read and change a tenant's objects and fields, and read the revision log.

Admins and tools (templates, CI scripts) change a CRM through here exactly as
the designer screens do: through the metadata editor, which validates the
whole document (every problem with its JSON path), runs the DDL and records a
revision in one transaction. So a created object has a real table the moment
the 201 is sent, and a refused one leaves neither a table nor a revision.
Answers carry the revision number they reflect, so a tool can tell whether it
is looking at the newest configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request, url_for

from trellis.metadata.definitions import KINDS
from trellis.platform.configuration import MetadataEditor
from trellis.platform.errors import Forbidden, NotFound
from trellis.platform.storage.plan import Migration

from .auth import caller
from .payload import flag, json_object, json_response


def list_objects() -> Response:
    editor = _editor()
    return _answer(editor.objects(), _revision(editor))


def create_object() -> Response:
    body = json_object()
    editor = _editor(body)
    number = editor.create_object(body)
    if editor.dry_run:
        return _planned(editor)
    created = _editor().object(body["api_name"])
    location = url_for(".get_object", name=created["api_name"])
    return _answer(created, number, editor, status=201, headers={"Location": location})


def get_object(name: str) -> Response:
    editor = _editor()
    return _answer(editor.object(name), _revision(editor))


def update_object(name: str) -> Response:
    _editor().object(name)  # an unknown object is a 404 before the body is judged
    body = json_object()
    editor = _editor(body)
    number = editor.update_object(name, body)
    if editor.dry_run:
        return _planned(editor)
    renamed = body.get("api_name")
    return _answer(_editor().object(renamed if isinstance(renamed, str) else name), number, editor)


def add_field(name: str) -> Response:
    _editor().object(name)
    body = json_object()
    editor = _editor(body)
    number = editor.add_field(name, body)
    if editor.dry_run:
        return _planned(editor)
    field = _field(_editor().object(name), body["api_name"])
    location = url_for(".get_field", name=name, field=field["api_name"])
    return _answer(field, number, editor, status=201, headers={"Location": location})


def get_field(name: str, field: str) -> Response:
    editor = _editor()
    return _answer(_field(editor.object(name), field), _revision(editor))


def update_field(name: str, field: str) -> Response:
    """Change a field's settings: a new ``api_name`` renames it, a new ``type`` converts its values.

    Send ``"migration": {...}`` beside the settings to make an unsafe change safe, and
    ``?dry_run=true`` to see the plan and its impact without changing anything.
    """
    _field(_editor().object(name), field)
    body = json_object()
    editor = _editor(body)
    number = editor.update_field(name, field, body)
    if editor.dry_run or editor.last_job:
        return _planned(editor)
    return _answer(_field(_editor().object(name), body.get("api_name", field)), number, editor)


def archive_field(name: str, field: str) -> Response:
    """Deleting a field archives it: hidden everywhere, its values kept until restored or purged."""
    editor = _editor()
    _field(editor.object(name), field)
    number = editor.archive_field(name, field)
    return _planned(editor) if editor.dry_run else _answer(_editor().object(name), number, editor)


def list_archived_fields(name: str) -> Response:
    editor = _editor()
    return _answer(editor.archived_fields(name), _revision(editor))


def restore_field(name: str, field_id: str) -> Response:
    editor = _editor()
    number = editor.restore_field(name, field_id)
    return _planned(editor) if editor.dry_run else _answer(_editor().object(name), number, editor)


def purge_field(name: str, field_id: str) -> Response:
    """The one request that deletes a field's values, and only of a field archived before."""
    editor = _editor()
    number = editor.purge_field(name, field_id)
    return _planned(editor) if editor.dry_run else _answer(_editor().object(name), number, editor)


def list_revisions() -> Response:
    """The change log, newest first, without the full documents of each revision."""
    editor = _editor()
    data = [_revision_summary(revision) for revision in editor.history()]
    return json_response({"data": data, "revision": _revision(editor)})


def archive_object(name: str) -> Response:
    """Deleting an object archives it: hidden everywhere, its records kept until restored or purged."""
    editor = _editor()
    editor.object(name)
    number = editor.archive_object(name)
    return _planned(editor) if editor.dry_run else _answer(_editor().archived_objects(), number, editor)


def list_archived_objects() -> Response:
    editor = _editor()
    return _answer(editor.archived_objects(), _revision(editor))


def restore_object(ref: str) -> Response:
    editor = _editor()
    number = editor.restore_object(ref)
    return _planned(editor) if editor.dry_run else _answer(_editor().objects(), number, editor)


def purge_object(ref: str) -> Response:
    """The one request that deletes an object's records, and only of an object archived before."""
    editor = _editor()
    number = editor.purge_object(ref)
    return _planned(editor) if editor.dry_run else _answer(_editor().archived_objects(), number, editor)


def get_revision(number: int) -> Response:
    """One revision whole: its documents, changes, author and time."""
    editor = _editor()
    revision = editor.revision(number)
    return _answer({**_revision_summary(revision), "documents": revision.documents,
                    "definitions": revision.definitions}, _revision(editor))


def diff_revisions(number: int, other: int) -> Response:
    """What changed from revision ``number`` to ``other``, as the planner's change records."""
    editor = _editor()
    return _answer(editor.diff(number, other), _revision(editor))


def rollback(number: int) -> Response:
    """Make an earlier revision's configuration current again, as a new revision; nothing is lost."""
    editor = _editor()
    changed = editor.rollback(number)
    return _planned(editor) if editor.dry_run or editor.last_job else _answer(_editor().objects(), changed, editor)


def list_definitions(kind: str) -> Response:
    """Every role, report, dashboard… of the configuration (``kind`` is the plural, as in the URL)."""
    editor = _editor()
    return _answer(list(editor.definitions(kind).values()), _revision(editor))


def create_definition(kind: str) -> Response:
    body = json_object()
    editor = _editor(body)
    number = editor.put_definition(kind, body)
    if editor.dry_run:
        return _planned(editor)
    location = url_for(".get_definition", kind=kind, name=body["api_name"])
    return _answer(_editor().definition(kind, body["api_name"]), number, editor, status=201,
                   headers={"Location": location})


def get_definition(kind: str, name: str) -> Response:
    editor = _editor()
    return _answer(editor.definition(kind, name), _revision(editor))


def replace_definition(kind: str, name: str) -> Response:
    """PUT the whole definition; a different ``api_name`` renames it (its id stays)."""
    _editor().definition(kind, name)  # an unknown one is a 404 before the body is judged
    body = json_object()
    editor = _editor(body)
    number = editor.put_definition(kind, body, name)
    if editor.dry_run:
        return _planned(editor)
    return _answer(_editor().definition(kind, body["api_name"]), number, editor)


def delete_definition(kind: str, name: str) -> Response:
    editor = _editor()
    number = editor.delete_definition(kind, name)
    return _planned(editor) if editor.dry_run else _answer(list(_editor().definitions(kind).values()), number, editor)


def _revision_summary(revision: Any) -> dict[str, Any]:
    return {"number": revision.number, "created_at": _utc(revision.created_at), "author_id": revision.author_id,
            "summary": revision.summary, "changes": revision.changes}


#: The URL word of each kind of definition (/metadata/roles, /metadata/reports…).
KIND_PLURALS = [kind.plural for kind in KINDS.values()]


def register(bp: Blueprint) -> None:
    objects, one = "/metadata/objects", "/metadata/objects/<name>"
    bp.add_url_rule(objects, view_func=list_objects, methods=["GET"])
    bp.add_url_rule(objects, view_func=create_object, methods=["POST"])
    bp.add_url_rule(one, view_func=get_object, methods=["GET"])
    bp.add_url_rule(one, view_func=update_object, methods=["PATCH"])
    bp.add_url_rule(one, view_func=archive_object, methods=["DELETE"])
    bp.add_url_rule("/metadata/archived-objects", view_func=list_archived_objects, methods=["GET"])
    bp.add_url_rule("/metadata/archived-objects/<ref>/restore", view_func=restore_object, methods=["POST"])
    bp.add_url_rule("/metadata/archived-objects/<ref>", view_func=purge_object, methods=["DELETE"])
    bp.add_url_rule(one + "/fields", view_func=add_field, methods=["POST"])
    bp.add_url_rule(one + "/fields/<field>", view_func=get_field, methods=["GET"])
    bp.add_url_rule(one + "/fields/<field>", view_func=update_field, methods=["PATCH"])
    bp.add_url_rule(one + "/fields/<field>", view_func=archive_field, methods=["DELETE"])
    bp.add_url_rule(one + "/archived-fields", view_func=list_archived_fields, methods=["GET"])
    bp.add_url_rule(one + "/archived-fields/<field_id>/restore", view_func=restore_field, methods=["POST"])
    bp.add_url_rule(one + "/archived-fields/<field_id>", view_func=purge_field, methods=["DELETE"])
    if KIND_PLURALS:
        kinds, one = "/metadata/<any({}):kind>".format(",".join(sorted(KIND_PLURALS))), "/<name>"
        bp.add_url_rule(kinds, view_func=list_definitions, methods=["GET"])
        bp.add_url_rule(kinds, view_func=create_definition, methods=["POST"])
        bp.add_url_rule(kinds + one, view_func=get_definition, methods=["GET"])
        bp.add_url_rule(kinds + one, view_func=replace_definition, methods=["PUT"])
        bp.add_url_rule(kinds + one, view_func=delete_definition, methods=["DELETE"])
    bp.add_url_rule("/metadata/revisions", view_func=list_revisions, methods=["GET"])
    bp.add_url_rule("/metadata/revisions/<int:number>", view_func=get_revision, methods=["GET"])
    bp.add_url_rule("/metadata/revisions/<int:number>/diff/<int:other>", view_func=diff_revisions, methods=["GET"])
    bp.add_url_rule("/metadata/revisions/<int:number>/rollback", view_func=rollback, methods=["POST"])


# -- helpers ----------------------------------------------------------------

def _editor(body: dict[str, Any] | None = None) -> MetadataEditor:
    """An editor over the newest revision: each step of a request sees the one before it.

    A change request's body may carry ``migration`` (taken out here, it is not a setting)
    and its query string ``dry_run=true``.
    """
    _admin_only()
    who = caller()
    migration = Migration.from_request(body.pop("migration", None)) if body is not None else None
    dry_run = flag("dry_run", request.args.get("dry_run", "false"))
    return who.platform.editor(who.runtime(), who.actor, migration=migration, dry_run=dry_run)


def _planned(editor: MetadataEditor) -> Response:
    """A dry run's answer (the plan, with each step's impact; nothing was changed), or a change handed to a job.

    A job's answer is 202 with the plan, the job's id in ``job`` and its address in
    ``Location``: the revision follows when the job has converted every record.
    """
    plan = editor.last_plan.as_dict() if editor.last_plan else {"from_revision": _revision(editor), "safe": True,
                                                                 "steps": []}
    if editor.last_job is None:
        return json_response({"data": plan, "revision": _revision(editor)})
    location = url_for(".get_job", job_id=editor.last_job)
    return json_response({"data": plan, "revision": _revision(editor), "job": editor.last_job}, 202,
                         {"Location": location})


def _admin_only() -> None:
    """Changing the configuration changes everyone's CRM, so only the tenant's admins may."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and caller().role != "admin":
        raise Forbidden("Only an admin of this CRM can change its objects and fields; "
                        "ask an admin, or use an admin's API token.")


def _utc(moment: datetime | None) -> datetime | None:
    """Revision times are stored in UTC; SQLite hands them back without saying so."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _revision(editor: MetadataEditor) -> int:
    return editor.runtime.revision.number


def _field(document: dict[str, Any], name: str) -> dict[str, Any]:
    for field in document.get("fields", []):
        if field["api_name"] == name:
            return field
    raise NotFound(f"There is no field '{name}' on {document['api_name']}.")


def _answer(data: Any, revision: int, editor: MetadataEditor | None = None, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    """The answer to a read, or to a change with the plan that was applied."""
    body = {"data": data, "revision": revision}
    if editor is not None and editor.last_plan is not None:
        body["plan"] = editor.last_plan.as_dict()
    return json_response(body, status, headers)
