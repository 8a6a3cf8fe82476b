"""The record page's pipeline panels: the stage path bar and the stage history.

``RecordView`` inherits ``StagePanels``; ``record_details.html`` includes
``trellis/stage_path.html`` and ``trellis/stage_history.html``, which call these
methods with the shown record. Both read through the record service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from trellis.metadata.labels import localize
from trellis.metadata.model import ObjectDef
from trellis.metadata.pipelines import Pipeline, pipelines_of
from trellis.platform.records.service import RecordService
from trellis.platform.records.stages import stage_history

from .i18n import language_tag


class StagePanels:
    """Methods the record page's pipeline panels call; the view provides ``obj`` and ``service``."""

    obj: ObjectDef
    service: Callable[[], RecordService]

    def stage_paths(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """One path bar per pipeline: every stage in order, marked done, current or ahead."""
        return [_path(pipeline, record) for pipeline in pipelines_of(self.obj)]

    def stage_moves(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The record's stage changes, newest first, in words: stage labels, who, when and for how long."""
        if not pipelines_of(self.obj) or record.get("id") is None:
            return []
        pipelines = {p.field.api_name: p for p in pipelines_of(self.obj)}
        entries = stage_history(self.service(), self.obj.api_name, record["id"])
        return [_move(pipelines[e["field"]], e) for e in reversed(entries) if e["field"] in pipelines]


def _path(pipeline: Pipeline, record: dict[str, Any]) -> dict[str, Any]:
    locale = language_tag()
    at = pipeline.index(record.get(pipeline.field.api_name))
    current = pipeline.stages[at] if at >= 0 else None
    steps = [{"value": stage.value, "title": stage.title(locale), "color": stage.color,
              "state": "current" if i == at else "done" if i < at else "ahead"} for i, stage in
             enumerate(pipeline.stages)]
    return {"title": pipeline.title(locale), "field": pipeline.field.api_name, "steps": steps,
            "guidance": current.guidance_text(locale) if current else "",
            "probability": current.probability if current else None,
            "board": url_for("boards.board", object_name=pipeline.object_name, field_name=pipeline.field.api_name)}


def _move(pipeline: Pipeline, entry: dict[str, Any]) -> dict[str, Any]:
    locale = language_tag()

    def label(value: str | None) -> str:
        stage = pipeline.stage(value)
        return stage.title(locale) if stage else (value or "—")

    return {"field": localize(pipeline.field.label, locale, pipeline.field.api_name), "from": label(entry["from"]),
            "to": label(entry["to"]), "who": _who(entry["changed_by"]),
            "when": entry["changed_at"].strftime("%Y-%m-%d %H:%M UTC"),
            "for": _duration(entry["changed_at"], entry["left_at"])}


def _who(user_id: int | None) -> str:
    if user_id is None:
        return gettext("the system")
    if current_user.is_authenticated and current_user.id == user_id:
        return current_user.display_name
    return gettext("user #%(id)s", id=user_id)


def _duration(start: datetime, end: datetime | None) -> str:
    """Time spent in the stage entered, rounded the way people say it; empty while it is still current."""
    if end is None:
        return ""
    seconds = int((end - start).total_seconds())
    if seconds < 3600:
        return gettext("%(n)s min", n=max(seconds // 60, 0))
    if seconds < 86400:
        return gettext("%(n)s h", n=seconds // 3600)
    return gettext("%(n)s days", n=seconds // 86400)
