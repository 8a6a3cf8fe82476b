"""Record routes: list, create, read, update and delete the records of any object.

The routes are generic (the object is a URL part), so an object created a
moment ago through the metadata API is served at once without registering
anything. Everything goes through the record service; this module only turns
HTTP into service calls and back. A record's ``version`` is its ETag, so
ordinary HTTP clients get optimistic concurrency from ``If-Match``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, request, url_for

from trellis.metadata.values import INT64_MAX
from trellis.platform.errors import Conflict, FieldProblem, InvalidInput, NotFound, TrellisError
from trellis.platform.records.service import RecordService

from .auth import caller
from .listing import list_query, page_body
from .payload import empty_response, json_object, json_response
from .problems import PreconditionFailed

#: An ETag as this API writes it (a record version in quotes); a weak one is taken as the same version.
_VERSION_TAG = re.compile(r'(?:W/)?"([0-9]{1,18})"|([0-9]{1,18})')


def list_records(object_name: str) -> Response:
    service = _service(object_name)
    page = service.list(object_name, list_query(request.args))
    return json_response(page_body(page.records, page.next_cursor, page.total))


def create_record(object_name: str) -> Response:
    service = _service(object_name)
    record = service.create(object_name, _record_body(service, object_name))
    location = url_for(".get_record", object_name=object_name, record_id=record["id"])
    return _record_response(record, 201, {"Location": location})


def get_record(object_name: str, record_id: int) -> Response:
    service = _service(object_name)
    return _record_response(service.get(object_name, _checked_id(record_id)))


def update_record(object_name: str, record_id: int) -> Response:
    """PATCH: the fields sent change, the others stay; a stale version is refused, not overwritten."""
    service = _service(object_name)
    record_id = _checked_id(record_id)
    body = _record_body(service, object_name)
    header_version = _if_match_version()
    body_version = _body_version(body.pop("version")) if "version" in body else None
    if header_version is not None and body_version is not None and header_version != body_version:
        service.get(object_name, record_id)  # a missing record is still a 404
        raise Conflict("If-Match and the body name different versions; at most one of them can be current.",
                       [FieldProblem("version", f"The body says {body_version}, If-Match {header_version}.")])
    expected = body_version if body_version is not None else header_version
    with _precondition(from_header=body_version is None and header_version is not None):
        record = service.update(object_name, record_id, body, expected_version=expected)
    return _record_response(record)


def delete_record(object_name: str, record_id: int) -> Response:
    service = _service(object_name)
    record_id = _checked_id(record_id)
    expected = _if_match_version()
    with _precondition(from_header=expected is not None):
        service.delete(object_name, record_id, expected_version=expected)
    return empty_response()


def register(bp: Blueprint) -> None:
    collection = "/records/<object_name>"
    item = collection + "/<int:record_id>"
    bp.add_url_rule(collection, view_func=list_records, methods=["GET"])
    bp.add_url_rule(collection, view_func=create_record, methods=["POST"])
    bp.add_url_rule(item, view_func=get_record, methods=["GET"])
    bp.add_url_rule(item, view_func=update_record, methods=["PATCH"])
    bp.add_url_rule(item, view_func=delete_record, methods=["DELETE"])


# -- helpers ----------------------------------------------------------------

def _service(object_name: str) -> RecordService:
    """The record service for the caller; an unknown object is a 404 before anything else is judged."""
    who = caller()
    service = who.platform.records(who.runtime(), who.actor)
    service.runtime.object(object_name)
    return service


def _record_body(service: RecordService, object_name: str) -> dict[str, Any]:
    """The JSON body of a record, with JSON's own types where the record service is lenient.

    The service also serves HTML forms, so its booleans take "yes", "on" or 0;
    a JSON client that sends those has a bug it should hear about.
    """
    body = json_object()
    obj = service.runtime.object(object_name)
    wrong = [f.api_name for f in obj.fields if f.kind.storage == "boolean"
             and body.get(f.api_name) is not None and not isinstance(body[f.api_name], bool)]
    if wrong:
        raise InvalidInput("Some values are not true or false.", [
            FieldProblem(name, "Send true or false (JSON booleans, without quotes).") for name in wrong])
    return body


def _record_response(record: dict, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = json_response(record, status, headers)
    response.set_etag(str(record["version"]))
    return response


def _checked_id(record_id: int) -> int:
    """An id no table can hold (beyond 64 bits) names no record: 404, not a database overflow."""
    if record_id > INT64_MAX:
        raise NotFound(f"There is no record with id {record_id}.")
    return record_id


def _if_match_version() -> int | None:
    """The version named by ``If-Match: "<version>"``; ``None`` when absent or ``*`` (any version).

    A header that is not one version-shaped tag is a malformed request (400),
    told apart from a well-formed version that is stale (412). A bare ``3`` is
    taken too, as Werkzeug and many clients are that lenient.
    """
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = _VERSION_TAG.fullmatch(raw.strip())
    if match is None:
        raise TrellisError("If-Match must name the one version you last read, as its ETag gave it.",
                           [FieldProblem("If-Match", 'Send one version in quotes, such as "3".')])
    return int(match.group(1) or match.group(2))


def _body_version(value: object) -> int:
    if isinstance(value, float) and value.is_integer():  # JSON does not tell 3 from 3.0
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT64_MAX:
        raise InvalidInput("Bad version.", [FieldProblem("version", "The version must be a whole number, "
                                                         "the one the record had when you read it.")])
    return value


@contextmanager
def _precondition(from_header: bool) -> Iterator[None]:
    """Turn a stale-version conflict into 412 when the version came from If-Match (HTTP's own rule)."""
    try:
        yield
    except Conflict as error:
        if from_header and any(p.field == "version" for p in error.problems):
            raise PreconditionFailed(error.detail, [FieldProblem(
                "If-Match", "The record has a newer version than the one you sent.")]) from error
        raise
