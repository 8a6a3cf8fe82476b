"""``/imports``: CSV imports — suggest a mapping and preview, start an import job, follow it, get its rejected rows.

``POST /imports`` takes ``multipart/form-data``: ``file`` (the CSV), ``object``, and
optionally ``mapping`` (JSON: column → field; default the suggested one), ``upsert_by`` (a
unique field), ``match_by`` (JSON: lookup column → the target's field to match by) and
``preview=true`` (answer with the suggested mapping and the first rows as they would be
stored, writing nothing). Without ``preview`` the import is queued as a job: 202 with its
status. ``POST /imports/proposal`` (``file``, ``name``) proposes a new object from a file;
sending the adjusted document back as ``object_document`` to ``POST /imports`` creates the
object (admins only) and imports into it. Members see their own imports, admins all.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for

from trellis.platform.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from trellis.platform.imports.csvfile import CsvTable, decode, parse
from trellis.platform.imports.service import Imports

from .auth import caller
from .payload import flag, json_response, refuse_nul


def post_import() -> Response:
    imports = _imports()
    text, table = _upload()
    document = _json_field("object_document")
    preview = flag("preview", request.form.get("preview", "false"))
    if document is not None:
        if caller().role != "admin":
            raise Forbidden("Only an admin can create an object.")
        if preview:
            raise InvalidInput("A new object cannot be previewed before it exists.", [FieldProblem(
                "preview", "Send the object_document without preview to create the object and import.")])
        if not isinstance(document, dict) or not isinstance(document.get("api_name"), str):
            raise InvalidInput("The object document is not valid.", [FieldProblem(
                "object_document", "Send the proposed object (a JSON object with an api_name), adjusted.")])
        _, spec = imports.create_object(document, table, _json_field("mapping"))
    else:
        object_name = _required("object")
        spec = imports.spec(object_name, table, _json_field("mapping"), request.form.get("upsert_by"),
                            _json_field("match_by"))
    if preview:
        body = imports.inspect(spec.object, table) | {"mapping": spec.mapping, "upsert_by": spec.upsert_by,
                                                      "preview": imports.preview(spec, table)}
        return json_response({"data": body})
    import_id = imports.start(spec, table, text, request.files["file"].filename)
    location = url_for(".get_import", import_id=import_id)
    return json_response({"data": imports.status(import_id)}, 202, {"Location": location})


def post_proposal() -> Response:
    """A new object inferred from a file, with the mapping that goes with it; nothing is created."""
    imports = _imports()
    _, table = _upload()
    name = _required("name")
    document = imports.propose(table, name, request.form.get("label"))
    return json_response({"data": {"object_document": document, "columns": table.headers,
                                   "rows": len(table.rows), "sample": table.records(0, 5)}})


def get_import(import_id: int) -> Response:
    return json_response({"data": _visible(import_id)})


def get_rejected(import_id: int) -> Response:
    """Every problem of the rejected rows as CSV (row, column, value, reason), for a spreadsheet."""
    _visible(import_id)
    text = _imports().rejected_csv(import_id)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{import_id}-rejected.csv"'})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/imports", view_func=post_import, methods=["POST"])
    bp.add_url_rule("/imports/proposal", view_func=post_proposal, methods=["POST"])
    bp.add_url_rule("/imports/<int:import_id>", view_func=get_import, methods=["GET"])
    bp.add_url_rule("/imports/<int:import_id>/rejected.csv", view_func=get_rejected, methods=["GET"])


def _imports() -> Imports:
    who = caller()
    return Imports(who.platform, who.runtime(), who.actor)


def _visible(import_id: int) -> dict[str, Any]:
    """The import's status if the caller may see it: any of the tenant's for admins, their own for members."""
    who = caller()
    status = _imports().status(import_id)
    if who.role != "admin" and status["created_by"] != who.actor.user_id:
        raise NotFound(f"There is no import {import_id}.")
    return status


def _upload() -> tuple[str, CsvTable]:
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("No file was sent.", [FieldProblem(
            "file", "Send the CSV as the 'file' part of a multipart/form-data request.")])
    text = decode(upload.read())
    return text, parse(text)


def _required(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise InvalidInput(f"'{name}' is missing.", [FieldProblem(name, f"Send '{name}' as a form field.")])
    refuse_nul({name: value})
    return value


def _json_field(name: str) -> Any:
    text = request.form.get(name)
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInput(f"'{name}' is not JSON.", [FieldProblem(name, "Send it as JSON text.")]) from None
    if name in ("mapping", "match_by") and not (isinstance(value, dict)
                                                  and all(isinstance(v, str) for v in value.values())):
        raise InvalidInput(f"'{name}' is not a JSON object of names.", [FieldProblem(
            name, 'Send an object such as {"Column": "field_name"}.')])
    refuse_nul({name: value})
    return value
