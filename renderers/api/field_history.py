"""``GET /records/<object>/<id>/history``: the changes of a record's tracked fields, newest first.

Paged with ``limit`` (1–200, default 50) and ``before`` (the ``next_before`` of the
previous page). Only fields the caller may read appear; each change names who made
it by id and by name.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from trellis.metadata.values import INT64_MAX
from trellis.platform.controlplane.people import names_of
from trellis.platform.errors import FieldProblem, InvalidInput, NotFound
from trellis.platform.records.history import field_history

from .auth import caller
from .payload import json_response


def get_field_history(object_name: str, record_id: int) -> Response:
    who = caller()
    service = who.platform.records(who.runtime(), who.actor)
    obj = service.runtime.object(object_name)
    if record_id > INT64_MAX:
        raise NotFound(f"There is no {obj.title('en')} with id {record_id}.")
    page = field_history(service, object_name, record_id, limit=_number("limit", 50),
                         before=_number("before", None))
    with who.platform.control() as session:
        names = names_of(session, {entry["changed_by"] for entry in page.entries})
    data = [{**entry, "changed_by_name": names.get(entry["changed_by"])} for entry in page.entries]
    return json_response({"data": data, "next_before": page.next_before})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/records/<object_name>/<int:record_id>/history", view_func=get_field_history,
                    methods=["GET"])


def _number(name: str, default: int | None) -> int | None:
    text = request.args.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise InvalidInput(f"Bad {name}.", [FieldProblem(name, f"'{text}' is not a whole number.")])
    return int(text)
