"""Between records and forms: prefill a form from a record, and a record's input from a form.

Records come from the record service as JSON-ready dicts (ISO dates,
numbers) and go back to it as JSON-like input, exactly what the REST API
would send, so the service parses and judges screen input and API input the
same way. Its problems are put back on the form next to the fields they
name, with everything the user typed still there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from wtforms.form import Form

from trellis.metadata.model import FieldDef, ObjectDef
from trellis.platform.errors import FieldProblem

from .forms import VERSION


def create_defaults(obj: ObjectDef) -> dict[str, Any]:
    """Form values for a new record: the fields' metadata defaults."""
    return {f.api_name: _to_form(f, f.default, {}) for f in obj.fields if f.default is not None}


def record_to_form(obj: ObjectDef, record: Mapping[str, Any], titles: Mapping[str, str]) -> dict[str, Any]:
    """Form values for editing ``record``; ``titles`` names the records its lookups point at."""
    data = {f.api_name: _to_form(f, record.get(f.api_name), titles) for f in obj.fields}
    data[VERSION] = record.get("version")
    return data


def _to_form(field: FieldDef, value: Any, titles: Mapping[str, str]) -> Any:
    if value is None:
        return None
    widget = field.kind.widget
    if widget == "number" and field.kind.storage != "integer":
        return Decimal(str(value))
    if widget == "date":
        return date.fromisoformat(value) if isinstance(value, str) else value
    if widget == "datetime":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if widget == "lookup":
        return {"id": value, "title": titles.get(field.api_name) or f"#{value}"}
    return value


def form_to_record(obj: ObjectDef, form: Form, *, creating: bool) -> dict[str, Any]:
    """The record service input for what the form holds.

    On create, empty fields are left out so that metadata defaults apply; on
    edit they are sent as None, which is how a user clears a value.
    """
    data: dict[str, Any] = {}
    for field in obj.fields:
        if field.kind.generated or field.api_name not in form:
            continue
        value = _from_form(field, form[field.api_name].data)
        if creating and value in (None, []):
            continue
        data[field.api_name] = value
    return data


def _from_form(field: FieldDef, value: Any) -> Any:
    widget = field.kind.widget
    if value is None:
        return None
    if isinstance(value, str):
        value = value if widget == "textarea" else value.strip()
        return value or None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if widget == "lookup":
        return value["id"] if isinstance(value, Mapping) else value
    return value


def expected_version(form: Form) -> int | None:
    """The version the user loaded into the edit form, if the form still carries a sane one."""
    raw = form[VERSION].data if VERSION in form else None
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def attach_problems(form: Form, problems: Iterable[FieldProblem]) -> list[FieldProblem]:
    """Show each problem under the field it names; return those no form field can show."""
    unplaced = []
    for problem in problems:
        name = problem.field.split(".")[0].removeprefix("$")
        if name and name != VERSION and name in form:
            errors = form[name].errors
            if not isinstance(errors, list):
                errors = form[name].errors = list(errors)
            errors.append(problem.message)
        else:
            unplaced.append(problem)
    return unplaced
