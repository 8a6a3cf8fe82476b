"""``RecordView``: flask-admin's list, create, edit, details and delete screens for one object.

It is a custom flask-admin backend whose rows are the record service's plain
dicts: every read goes through the query engine and every write through the
record service, so the screens obey the same validation, defaults,
autonumbers and concurrency rules as the API (flask-admin's SQLAlchemy
``ModelView`` would write around them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeGuard

from flask import abort, current_app, flash, request
from flask_admin.helpers import get_form_data
from flask_admin.model import BaseModelView
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.form import Form

from trellis.metadata.model import ObjectDef
from trellis.platform.errors import Conflict, Forbidden, InvalidInput, NotFound, TrellisError
from trellis.platform.records.query import ListQuery, Where, where_condition
from trellis.platform.records.service import RecordService
from trellis.platform.runtime import TenantRuntime

from .columns import (
    column_descriptions,
    column_formatters,
    column_labels,
    detail_columns,
    list_columns,
    sortable_columns,
)
from .display import TITLES
from .extension_actions import ExtensionActions
from .filters import RecordFilter, object_filters
from .formdata import attach_problems, create_defaults, expected_version, form_to_record, record_to_form
from .forms import form_class
from .history_panel import FieldHistoryPanel
from .i18n import LazyLabel, language_tag
from .layouts import FormLayouts
from .lookups import RecordLoader, record_id
from .permissions import FieldSecurity
from .stage_panels import StagePanels


def endpoint_for(object_name: str) -> str:
    """The Flask endpoint prefix of an object's views (prefixed: objects may be named like our pages)."""
    return f"records_{object_name}"


class RecordView(StagePanels, FieldHistoryPanel, FieldSecurity, FormLayouts, ExtensionActions, BaseModelView):
    """The screens of one object; ``model`` is its ``ObjectDef`` and rows are record dicts."""

    can_view_details = True
    details_template = "trellis/record_details.html"
    list_template = "trellis/record_list.html"
    can_set_page_size = False
    page_size = 20

    def __init__(self, obj: ObjectDef, runtime: TenantRuntime, service: Callable[[], RecordService]) -> None:
        self.obj = obj
        self.objects = runtime.objects
        self.service = service
        self.loaders = {f.api_name: RecordLoader(f.api_name, runtime.object(f.target), service)
                        for f in obj.fields if f.kind.widget == "lookup" and f.target in runtime.objects}
        self.form_ajax_refs = dict(self.loaders)
        # Formulas are shown even past the list's usual width: they are what a list is often sorted by.
        shown = list_columns(obj)
        self.column_list = [*shown, *(f.api_name for f in obj.fields if f.kind.computed and f.api_name not in shown)]
        self.column_details_list = detail_columns(obj)
        self.column_labels = column_labels(obj)
        self.column_descriptions = column_descriptions(obj)
        self.column_formatters = column_formatters(obj, lambda target: f"{endpoint_for(target)}.details_view")
        self.column_default_sort = ("id", True)
        name = LazyLabel(lambda: obj.plural_title(language_tag()))
        super().__init__(obj, name=name, endpoint=endpoint_for(obj.api_name), url=f"/records/{obj.api_name}")

    # -- filters and forms, built on first use -----------------------------------

    def _refresh_filters_cache(self) -> None:
        """Deferred: a tenant's app is rebuilt after every configuration change, and building every
        object's filters up front (a few thousand on a wide tenant) was a third of the first screen's
        wait. The first request that reads them builds them (``__getattr__``)."""

    def _refresh_cache(self) -> None:
        self._refreshing = True  # see __getattr__
        try:
            super()._refresh_cache()
        finally:
            self._refreshing = False

    def _refresh_forms_cache(self) -> None:
        """flask-admin's, except that the create and edit form classes (a form field per field of the
        object) are also built on first use: a page shows one form of one object."""
        self._form_ajax_refs = self._process_ajax_references()
        self.form_widget_args = self.form_widget_args or {}
        self._delete_form_class = self.get_delete_form()
        self._action_form_class = self.get_action_form()
        self.column_editable_list = {}

    def __getattr__(self, name: str) -> Any:
        if name in ("_filters", "_filter_groups", "_filter_args"):
            self.column_filters = object_filters(self.obj)
            super()._refresh_filters_cache()
            return self.__dict__[name]
        if name in ("_create_form_class", "_edit_form_class"):
            if self.__dict__.get("_refreshing"):  # flask-admin checks them against form rules, which we do not use
                return Form
            form = self.get_create_form() if name == "_create_form_class" else self.get_edit_form()
            setattr(self, name, form)
            return form
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- access ---------------------------------------------------------------

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated) and self.readable()

    def inaccessible_callback(self, name: Any, **kwargs: Any) -> Response:
        if current_user.is_authenticated:
            abort(403)  # signed in, but no role of theirs reads this object
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]

    # -- scaffolding flask-admin asks a backend for ------------------------------

    def get_pk_value(self, model: dict[str, Any]) -> Any:
        return model.get("id")

    def scaffold_list_columns(self) -> list[str]:
        return list(self.column_list or [])

    def scaffold_sortable_columns(self) -> dict[str, str]:
        return sortable_columns(self.obj, self.scaffold_list_columns())

    def init_search(self) -> bool:
        return any("contains" in f.kind.filter_ops for f in self.obj.fields)

    def search_placeholder(self) -> str:
        return gettext("Search")

    def scaffold_filters(self, name: Any) -> None:
        return None

    def is_valid_filter(self, filter: Any) -> TypeGuard[RecordFilter]:
        return isinstance(filter, RecordFilter)

    def scaffold_form(self) -> type[Form]:
        return self.get_edit_form()

    def get_create_form(self) -> type[Form]:
        return form_class(self.obj, self.form_base_class, self.loaders, editing=False)

    def get_edit_form(self) -> type[Form]:
        return form_class(self.obj, self.form_base_class, self.loaders, editing=True)

    def create_form(self, obj: Any = None) -> Form:
        return self._secured(self._create_form_class(get_form_data(), data=create_defaults(self.obj)))

    def edit_form(self, obj: dict[str, Any] | None = None) -> Form:
        record = obj or {}
        form = self._edit_form_class(get_form_data(), data=record_to_form(self.obj, record, record.get(TITLES, {})))
        return self._secured(form)

    def _get_field_value(self, model: dict[str, Any], name: Any) -> Any:
        return model.get(name)

    # -- reads -------------------------------------------------------------------

    def get_list(self, page: int | None, sort_field: Any, sort_desc: bool, search: str | None,
                 filters: Sequence[Any] | None, page_size: int | None = None) -> tuple[int, list[dict[str, Any]]]:
        size = page_size or self.page_size
        order = [(sort_field, bool(sort_desc))] if sort_field else (self._get_default_order() or [])
        conditions: list[Any] = []
        for index, _name, value in filters or []:
            flt = self._filters[index]
            conditions = flt.apply(conditions, flt.clean(value))
        try:
            query = ListQuery(filters=conditions, search=search or None, sort=order, limit=size,
                              offset=(page or 0) * size, with_total=True, where=self._where())
            result = self.service().list(self.obj.api_name, query)
        except InvalidInput as error:
            _flash_error(error)
            return 0, []
        return result.total or 0, self.with_titles(result.records)

    def _where(self) -> Where | None:
        """The list's condition box (the API's ``where=``), checked against the object; a mistake is flashed."""
        text = request.args.get("where", "").strip()
        return where_condition(text, self.obj, self.objects, current_user.id) if text else None

    def get_one(self, id: Any) -> dict[str, Any] | None:
        found = record_id(id)
        if found is None:
            return None
        try:
            record = self.service().get(self.obj.api_name, found)
        except NotFound:
            return None
        return self.with_titles([record])[0]

    def with_titles(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add the titles of the records each lookup points at (one query per lookup field)."""
        for record in records:
            record[TITLES] = {}
        for name, loader in self.loaders.items():
            titles = self.service().titles(loader.target, {r[name] for r in records if r.get(name) is not None})
            for record in records:
                if record.get(name) in titles:
                    record[TITLES][name] = titles[record[name]]
        return records

    # -- writes ------------------------------------------------------------------

    def create_model(self, form: Form) -> dict[str, Any] | bool:
        try:
            return self.service().create(self.obj.api_name, form_to_record(self.obj, form, creating=True))
        except (InvalidInput, Conflict, Forbidden) as error:
            _show_problems(form, error)
            return False

    def update_model(self, form: Form, model: dict[str, Any]) -> bool:
        data = form_to_record(self.obj, form, creating=False)
        try:
            saved = self.service().update(self.obj.api_name, model["id"], data, expected_version(form))
        except (InvalidInput, Conflict, NotFound, Forbidden) as error:
            _show_problems(form, error)
            return False
        model.clear()
        model.update(saved)
        return True

    def delete_model(self, model: dict[str, Any]) -> bool:
        try:
            self.service().delete(self.obj.api_name, model["id"])
        except (Conflict, NotFound, Forbidden) as error:
            _flash_error(error)
            return False
        return True


def _show_problems(form: Form, error: TrellisError) -> None:
    """Put the service's problems on the form; say what could not be shown next to a field."""
    if isinstance(error, Conflict) and any(p.field == "version" for p in error.problems):
        flash(gettext("Someone else saved this record after you opened it, so your change was not saved. "
                      "Reload the record (your input here is kept until you do) and apply your change again."),
              "error")
        return
    unplaced = attach_problems(form, error.problems)
    flash(gettext("The record was not saved: %(reason)s", reason=error.detail), "error")
    for problem in unplaced:
        flash(problem.message, "error")


def _flash_error(error: TrellisError) -> None:
    flash(error.detail, "error")
    for problem in error.problems:
        flash(problem.message, "error")
