"""The record page's extension buttons: one per action of the tenant's enabled extensions.

``RecordView`` inherits ``ExtensionActions``; ``record_details.html`` includes
``trellis/extension_actions.html``, which lists ``extension_buttons(record)``. A button posts
to ``run_extension_action``, which runs the action through the platform (the same call as
POST /records/<object>/<id>/actions/<extension>.<action>) and says what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, url_for
from flask_admin import expose
from flask_babel import gettext
from werkzeug.wrappers import Response

from trellis.metadata.model import ObjectDef
from trellis.platform.errors import TrellisError
from trellis.platform.extensions import calls
from trellis.platform.records.service import RecordService


class ExtensionActions:
    """Methods and a route for the record page; the view provides ``obj`` and ``service``."""

    obj: ObjectDef
    service: Callable[[], RecordService]

    def extension_buttons(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        if record.get("id") is None:
            return []
        return [{"name": f"{entry.extension.name}.{action.name}", "label": action.label,
                 "extension": entry.extension.title,
                 "url": url_for(".run_extension_action", record_id=record["id"],
                                qualified=f"{entry.extension.name}.{action.name}")}
                for entry, action in calls.actions_for(self.service().runtime, self.obj.api_name)]

    @expose("/extension-action/<int:record_id>/<qualified>", methods=["POST"])
    def run_extension_action(self, record_id: int, qualified: str) -> Response:
        service = self.service()
        try:
            result = calls.run_action(current_app.extensions["trellis"], service.runtime, service.actor,
                                      self.obj.api_name, record_id, qualified)
            flash(str(result.get("message") or gettext("Done.")), "success")
        except TrellisError as error:
            flash(error.detail, "error")
        return redirect(url_for(".details_view", id=record_id))
