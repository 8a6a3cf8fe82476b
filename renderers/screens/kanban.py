"""The kanban board of a pipeline: one column per stage, cards for records, drag a card to move it.

``/boards/`` lists the tenant's pipelines; ``/boards/<object>/<field>/`` shows one. Columns
are the stages in order with their record count and the total of the object's first
currency field (counted by the database, ``records.aggregates``). Dropping a card on
another column POSTs the move (with the CSRF token) to ``.../move``, which is an
ordinary ``RecordService.update`` of the stage field: a move the pipeline refuses
answers 422 with the problems, each naming its field, and the page puts the card back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, jsonify, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from trellis.metadata.model import FieldDef, ObjectDef
from trellis.metadata.pipelines import Pipeline, pipelines_of
from trellis.platform.errors import TrellisError
from trellis.platform.records.aggregates import group_totals
from trellis.platform.records.query import Filter, ListQuery
from trellis.platform.records.service import RecordService
from trellis.platform.runtime import TenantRuntime

from .display import amount, choice_labels
from .i18n import language_tag
from .lookups import record_id

#: Cards shown per column; the count and total always cover every record of the stage.
CARDS_PER_COLUMN = 50
#: Fields shown on a card besides its title.
CARD_FIELDS = 3
#: Types that make a useful line on a card.
_CARD_TYPES = ("currency", "date", "datetime", "percent", "integer", "decimal", "picklist", "email", "phone")


@dataclass(frozen=True)
class Board:
    """A link to one pipeline's board."""

    title: str
    object_title: str
    url: str


class KanbanView(BaseView):
    """``/boards/``: the boards of every pipeline of the tenant's objects."""

    def __init__(self, runtime: TenantRuntime, service: Callable[[], RecordService],
                 details_endpoint: Callable[[str], str]) -> None:
        super().__init__(name=lazy_gettext("Boards"), endpoint="boards", url="/boards")
        self.pipelines = {(p.object_name, p.field.api_name): p for obj in runtime.objects.values()
                          for p in pipelines_of(obj)}
        self.objects = runtime.objects
        self.service = service
        self.details_endpoint = details_endpoint

    def create_blueprint(self, admin: Any) -> Any:
        """Also offer ``trellis_boards()`` to every template, so the home page can list the boards."""
        blueprint = super().create_blueprint(admin)
        blueprint.add_app_template_global(lambda: boards(self._readable()), "trellis_boards")
        return blueprint

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    def is_visible(self) -> bool:
        return bool(self.pipelines) and self.is_accessible()

    def _readable(self) -> dict[str, ObjectDef]:
        """The objects whose boards the signed-in user may see: those their roles read."""
        access = self.service().access
        return {name: obj for name, obj in self.objects.items() if access.allows(obj, "read")}

    @expose("/")
    def index(self) -> str:
        return self.render("trellis/boards.html", boards=boards(self._readable()))

    @expose("/<object_name>/<field_name>/")
    def board(self, object_name: str, field_name: str) -> str:
        pipeline = self._pipeline(object_name, field_name)
        obj = self.objects[object_name]
        locale = language_tag()
        money = next((f for f in obj.fields if f.type == "currency"), None)
        totals = group_totals(self.service(), object_name, field_name, money.api_name if money else None)
        shown = _card_fields(obj, pipeline.field)
        columns = [{"stage": stage, "title": stage.title(locale), "guidance": stage.guidance_text(locale),
                    "count": totals[stage.value].count if stage.value in totals else 0,
                    "total": _money(totals.get(stage.value), money),
                    "cards": [self._card(obj, r, shown, money) for r in self._records(pipeline, stage.value)]}
                   for stage in pipeline.stages]
        return self.render("trellis/kanban.html", pipeline=pipeline, title=pipeline.title(locale), obj=obj,
                           columns=columns, money=money, list_url=url_for(f"{self.details_endpoint(object_name)}"
                                                                           ".index_view"),
                           move_url=url_for(".move", object_name=object_name, field_name=field_name))

    @expose("/<object_name>/<field_name>/move", methods=("POST",))
    def move(self, object_name: str, field_name: str) -> Response | tuple[Response, int]:
        pipeline = self._pipeline(object_name, field_name)
        body = request.get_json(silent=True) or {}
        found, stage, version = record_id(str(body.get("id", ""))), body.get("stage"), body.get("version")
        if found is None or pipeline.stage(stage) is None or not isinstance(version, int | None):
            return jsonify(detail=gettext("Choose a card and a stage of this board."), errors=[]), 400
        try:
            saved = self.service().update(object_name, found, {field_name: stage}, expected_version=version)
        except TrellisError as error:
            return jsonify(detail=error.detail, errors=_problems(self.objects[object_name], error)), error.status
        return jsonify(id=saved["id"], stage=saved[field_name], version=saved["version"])

    def _pipeline(self, object_name: str, field_name: str) -> Pipeline:
        pipeline = self.pipelines.get((object_name, field_name))
        if pipeline is None:
            abort(404)
        if not self.service().access.allows(self.objects[object_name], "read"):
            abort(403)  # the user's roles cannot read this object
        return pipeline

    def _records(self, pipeline: Pipeline, value: str) -> list[dict[str, Any]]:
        query = ListQuery(filters=[Filter(pipeline.field.api_name, "eq", value)], sort=[("updated_at", True)],
                          limit=CARDS_PER_COLUMN)
        return self.service().list(pipeline.object_name, query).records

    def _card(self, obj: ObjectDef, record: dict[str, Any], shown: list[FieldDef],
              money: FieldDef | None) -> dict[str, Any]:
        locale = language_tag()
        title = record.get(obj.name_field) if obj.name_field else None
        lines = [(field.title(locale), _shown(field, record.get(field.api_name))) for field in shown
                 if record.get(field.api_name) not in (None, "", [])]
        return {"id": record["id"], "version": record["version"], "title": title or f"#{record['id']}", "lines": lines,
                "amount": record.get(money.api_name) if money else None,
                "url": url_for(f"{self.details_endpoint(obj.api_name)}.details_view", id=record["id"])}


def boards(objects: dict[str, ObjectDef]) -> list[Board]:
    """Every pipeline's board, for the boards page and the home page."""
    locale = language_tag()
    return [Board(p.title(locale), obj.plural_title(locale),
                  url_for("boards.board", object_name=obj.api_name, field_name=p.field.api_name))
            for obj in objects.values() for p in pipelines_of(obj)]


def _card_fields(obj: ObjectDef, stage_field: FieldDef) -> list[FieldDef]:
    skip = {stage_field.api_name, obj.name_field}
    return [f for f in obj.fields if f.type in _CARD_TYPES and f.api_name not in skip][:CARD_FIELDS]


def _shown(field: FieldDef, value: Any) -> str:
    if field.type == "picklist":
        return choice_labels(value, {c["value"]: c.get("label") for c in field.choices})
    if field.type in ("currency", "percent"):
        return amount(value, "%" if field.type == "percent" else f" {field.options.get('currency', '')}".rstrip())
    return str(value)


def _money(total: Any, money: FieldDef | None) -> str:
    if money is None:
        return ""
    return amount(total.total if total is not None else 0, f" {money.options.get('currency', '')}".rstrip())


def _problems(obj: ObjectDef, error: TrellisError) -> list[dict[str, str]]:
    """The service's problems with each field's label, so the page can say which fields to fill."""
    locale = language_tag()
    return [{"field": p.field, "label": obj.field(p.field).title(locale) if obj.has_field(p.field) else p.field,
             "message": p.message} for p in error.problems]
