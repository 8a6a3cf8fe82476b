"""The CSV import screens: upload → mapping (suggested) → preview → run → progress and result.

Each step is a page over ``trellis.platform.imports.Imports``, as the signed-in user (their
roles limit what the import may write, as in the API). The uploaded file is kept on a
draft import between the steps, so reloading a page or coming back later loses nothing.
Every object's list screen links here with its object chosen ("Import CSV").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from trellis.platform.core import Platform
from trellis.platform.errors import TrellisError
from trellis.platform.imports.csvfile import decode, parse
from trellis.platform.imports.mapping import ImportSpec
from trellis.platform.imports.service import Imports
from trellis.platform.records.service import RecordService
from trellis.platform.runtime import TenantRuntime

from .i18n import language_tag
from .views import endpoint_for


class ImportsView(BaseView):
    """``/imports/``: import a CSV into an object, step by step."""

    def __init__(self, platform: Platform, runtime: TenantRuntime, service: Callable[[], RecordService]) -> None:
        super().__init__(name=lazy_gettext("Import CSV"), endpoint="imports", url="/imports")
        self.platform = platform
        self.runtime = runtime
        self.service = service

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    def is_visible(self) -> bool:
        return False  # reached from each list screen's "Import CSV"

    def inaccessible_callback(self, name: str, **kwargs: object) -> Response:
        return redirect(url_for("admin.login_view", next=request.url))

    @expose("/")
    def index(self) -> str:
        objects = sorted(self.runtime.objects.values(), key=lambda obj: obj.title(language_tag()))
        return self.render("trellis/import_upload.html", objects=objects, chosen=request.args.get("object"),
                           locale=language_tag())

    @expose("/upload", methods=("POST",))
    def upload(self) -> Response:
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise TrellisError(gettext("Choose a CSV file to import."))
            text = decode(upload.read())
            import_id = self._imports().draft(request.form.get("object", ""), parse(text), text, upload.filename)
        except TrellisError as error:
            _flash(error)
            return redirect(url_for(".index", object=request.form.get("object")))
        return redirect(url_for(".mapping", import_id=import_id))

    @expose("/<int:import_id>/mapping", methods=("GET", "POST"))
    def mapping(self, import_id: int) -> Any:
        imports = self._imports()
        spec, table = self._stored(imports, import_id)
        if request.method == "POST":
            try:
                spec = imports.spec(spec.object, table, *_choices(table.headers))
                imports.save_spec(import_id, spec)
                return redirect(url_for(".preview", import_id=import_id))
            except TrellisError as error:
                _flash(error)
        obj = self.runtime.object(spec.object)
        return self.render("trellis/import_mapping.html", import_id=import_id, obj=obj, spec=spec, table=table,
                           fields=[f for f in obj.fields if not (f.kind.generated or f.kind.computed)],
                           objects=self.runtime.objects, locale=language_tag())

    @expose("/<int:import_id>/preview")
    def preview(self, import_id: int) -> str:
        imports = self._imports()
        spec, table = self._stored(imports, import_id)
        try:
            rows = imports.preview(spec, table)
        except TrellisError as error:
            _flash(error)
            rows = []
        obj = self.runtime.object(spec.object)
        return self.render("trellis/import_preview.html", import_id=import_id, obj=obj, spec=spec, rows=rows,
                           total=len(table.rows), locale=language_tag())

    @expose("/<int:import_id>/run", methods=("POST",))
    def run(self, import_id: int) -> Response:
        imports = self._imports()
        self._stored(imports, import_id)
        try:
            imports.run(import_id)
        except TrellisError as error:
            _flash(error)
        return redirect(url_for(".status", import_id=import_id))

    @expose("/<int:import_id>")
    def status(self, import_id: int) -> str:
        imports = self._imports()
        self._stored(imports, import_id)
        found = imports.status(import_id)
        obj = self.runtime.object(found["object"])
        return self.render("trellis/import_status.html", status=found, obj=obj, locale=language_tag(),
                           list_url=url_for(f"{endpoint_for(obj.api_name)}.index_view"))

    @expose("/<int:import_id>/rejected.csv")
    def rejected(self, import_id: int) -> Response:
        imports = self._imports()
        self._stored(imports, import_id)
        return Response(imports.rejected_csv(import_id), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="import-{import_id}-rejected.csv"'})

    def _imports(self) -> Imports:
        return Imports(self.platform, self.runtime, self.service().actor)

    def _stored(self, imports: Imports, import_id: int) -> tuple[ImportSpec, Any]:
        """The draft or import, if this user may see it (their own; any for admins); else 404."""
        try:
            found = imports.status(import_id)
        except TrellisError:
            abort(404)
        if current_user.role != "admin" and found["created_by"] != current_user.id:
            abort(404)
        return imports.stored(import_id)


def _choices(headers: list[str]) -> tuple[dict[str, str], str | None, dict[str, str]]:
    """The mapping form's answers: column → field, the upsert field, lookup column → field to match by."""
    mapping = {header: request.form[f"field_{i}"] for i, header in enumerate(headers) if request.form.get(f"field_{i}")}
    match_by = {header: request.form[f"match_{i}"] for i, header in enumerate(headers)
                if request.form.get(f"match_{i}") and header in mapping}
    return mapping, request.form.get("upsert_by") or None, match_by


def _flash(error: TrellisError) -> None:
    flash(error.detail, "error")
    for problem in error.problems:
        flash(f"{problem.field}: {problem.message}", "error")
