"""Field-level security on the generated screens, per signed-in user.

A tenant's screens are built once per revision and shared by all its users, so what differs by user
is decided per request from the record service's ``access``: list and detail columns leave hidden
fields out, forms drop hidden fields and show read-only ones as values (a submitted value for them is
discarded before saving), and the form layout is the one the user's roles name. Records themselves
are already filtered by the record service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import has_request_context
from flask_admin.helpers import is_form_submitted
from wtforms.form import Form

from trellis.metadata.layouts import Layout
from trellis.metadata.model import ObjectDef
from trellis.platform.permissions import UNRESTRICTED, Unrestricted


class FieldSecurity:
    """Mixin of ``RecordView`` placed before ``FormLayouts`` (it provides ``obj`` and ``service``)."""

    def access(self) -> Unrestricted:
        if not has_request_context():
            return UNRESTRICTED
        return self.service().access  # type: ignore[attr-defined]

    def readable(self) -> bool:
        """Objects the user's roles cannot read are left out of the menu and answer 403."""
        return self.access().allows(self.obj, "read")  # type: ignore[attr-defined]

    @property
    def can_create(self) -> bool:
        return self.access().allows(self.obj, "create")  # type: ignore[attr-defined]

    @property
    def can_edit(self) -> bool:
        return self.access().allows(self.obj, "edit")  # type: ignore[attr-defined]

    @property
    def can_delete(self) -> bool:
        return self.access().allows(self.obj, "delete")  # type: ignore[attr-defined]

    def _shown(self, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
        hidden = self.access().hidden(self.obj)  # type: ignore[attr-defined]
        return [column for column in columns if column[0] not in hidden]

    @property
    def _list_columns(self) -> list[tuple[str, str]]:
        return self._shown(self.__dict__.get("_all_list_columns", []))

    @_list_columns.setter
    def _list_columns(self, columns: list[tuple[str, str]]) -> None:
        self.__dict__["_all_list_columns"] = columns

    @property
    def _details_columns(self) -> list[tuple[str, str]]:
        return self._shown(self.__dict__.get("_all_details_columns", []))

    @_details_columns.setter
    def _details_columns(self, columns: list[tuple[str, str]]) -> None:
        self.__dict__["_all_details_columns"] = columns

    def _get_filter_groups(self) -> Any:
        """The list's filters without those on hidden fields (the record service refuses them anyway)."""
        groups = super()._get_filter_groups()  # type: ignore[misc]
        hidden = self.access().hidden(self.obj)  # type: ignore[attr-defined]
        if not groups or not hidden:
            return groups
        indexes = {index for index, flt in enumerate(self._filters) if flt.field.api_name in hidden}  # type: ignore
        kept = {key: [item for item in items if item["index"] not in indexes] for key, items in groups.items()}
        return type(groups)((key, items) for key, items in kept.items() if items)

    def _secured(self, form: Form) -> Form:
        """The form without the fields the user may not write (the layout shows read-only ones as values)."""
        access = self.access()
        for name in access.hidden(self.obj) | access.read_only(self.obj):  # type: ignore[attr-defined]
            if name in form:
                del form[name]
        return form

    def validate_form(self, form: Form) -> bool:
        if is_form_submitted():
            self._secured(form)
        return super().validate_form(form)  # type: ignore[misc]

    def form_sections(self, form: Form, model: dict[str, Any] | None = None) -> list[Any]:
        sections = super().form_sections(form, model)  # type: ignore[misc]
        hidden = self.access().hidden(self.obj)  # type: ignore[attr-defined]
        for section in sections:
            section.cells = [cell for cell in section.cells if cell.name not in hidden]
        return sections


def role_layout(document: Mapping[str, Any], access: Unrestricted, obj: ObjectDef) -> Layout | None:
    """The layout of ``document`` that the user's roles name, if it has it (else the caller's default)."""
    wanted = access.layout(obj)
    found = [item for item in document.get("layouts") or [] if item.get("name") == wanted] if wanted else []
    return Layout.from_document(found[0]) if found else None
