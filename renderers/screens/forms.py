"""Form classes for an object's create and edit screens, built from its metadata.

The create form leaves out generated fields (an autonumber is assigned on
save); the edit form shows them read-only and carries the record's version
in a hidden field, so a save that would overwrite someone else's newer
change is refused instead of silently winning.
"""

from __future__ import annotations

from typing import Any

from wtforms import HiddenField
from wtforms.form import Form

from trellis.metadata.model import ObjectDef

from .formfields import form_field
from .lookups import RecordLoader

#: The hidden edit-form field holding the version the user loaded; a system column, so never a field's name.
VERSION = "version"


def form_class(obj: ObjectDef, base: type[Form], loaders: dict[str, RecordLoader], *,
               editing: bool) -> type[Form]:
    """A form class with one field per editable field of ``obj``, in metadata order."""
    attributes: dict[str, Any] = {}
    for field in obj.fields:
        if field.kind.generated and not editing:
            continue
        unbound = form_field(field, loaders)
        if unbound is not None:
            attributes[field.api_name] = unbound
    if editing:
        attributes[VERSION] = HiddenField()
    kind = "Edit" if editing else "Create"
    return type(f"{kind}{_camel(obj.api_name)}Form", (base,), attributes)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
