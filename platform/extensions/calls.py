"""Calling an enabled extension's actions and routes, and what the renderers show of them.

Everything here starts from the tenant's runtime, so an extension the tenant
disabled has no action, route or button: it is simply not found.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as NoRoute
from werkzeug.routing import Map, Rule

from trellis.extensions.api import ActionSpec, HookRefused, RouteSpec

from ..automation.webhooks import ATTEMPTS, DELIVER_KIND
from ..errors import Conflict, FieldProblem, InvalidInput, NotFound, TrellisError
from ..records.service import Actor
from .facade import extension_context, record_context
from .registry import Enabled, enabled

if TYPE_CHECKING:
    from ..core import Platform
    from ..runtime import TenantRuntime

log = logging.getLogger(__name__)


def actions_for(runtime: TenantRuntime, object_name: str) -> list[tuple[Enabled, ActionSpec]]:
    """The actions offered on the records of ``object_name``: buttons, API endpoints, automation actions."""
    return [(entry, action) for entry in enabled(runtime).values() for action in entry.extension.actions.values()
            if action.object in (None, object_name)]


def find_action(runtime: TenantRuntime, object_name: str, qualified: str) -> tuple[Enabled, ActionSpec]:
    """The action called ``<extension>.<action>`` for this object, or NotFound naming the ones there are."""
    for entry, action in actions_for(runtime, object_name):
        if f"{entry.extension.name}.{action.name}" == qualified:
            return entry, action
    offered = ", ".join(f"{e.extension.name}.{a.name}" for e, a in actions_for(runtime, object_name)) or "none"
    raise NotFound(f"There is no action '{qualified}' on {object_name}; actions: {offered}.")


def run_action(platform: Platform, runtime: TenantRuntime, actor: Actor, object_name: str, record_id: int,
               qualified: str, *, depth: int = 0) -> dict[str, Any]:
    """Run an action on one record (a button, the API, an automation); its answer, or a problem saying why not."""
    entry, action = find_action(runtime, object_name, qualified)
    service = platform.records(runtime, actor, depth=depth)
    record = service.get(object_name, record_id)
    ctx = record_context(service, entry, object_name, "action", record=record,
                         send_webhook=webhook_sender(platform, runtime.tenant.slug, actor.user_id))
    result = _call(entry, lambda: action.function(ctx))
    return dict(result) if isinstance(result, Mapping) else {}


def find_route(runtime: TenantRuntime, name: str, path: str, method: str
               ) -> tuple[Enabled, RouteSpec, dict[str, Any]]:
    """The enabled extension's route for ``path`` (below /x/<name>) and its URL values."""
    entry = enabled(runtime).get(name)
    if entry is None:
        raise NotFound(f"No extension '{name}' is enabled for this tenant.")
    urls = Map([Rule(r.rule, endpoint=str(i), methods=list(r.methods)) for i, r in enumerate(entry.extension.routes)],
               strict_slashes=False).bind("trellis")
    try:
        index, values = urls.match("/" + path, method=method)
    except MethodNotAllowed as refused:
        raise TrellisError(f"{method} is not allowed here; use {', '.join(refused.valid_methods or [])}.") from None
    except NoRoute:
        raise NotFound(f"The extension '{name}' has no route /{path}.") from None
    return entry, entry.extension.routes[int(index)], values


def call_route(platform: Platform, runtime: TenantRuntime, actor: Actor, entry: Enabled, route: RouteSpec,
               values: Mapping[str, Any], **request: Any) -> Any:
    """Run a route's function with an ``ExtensionContext``; what it returns is the answer's body (and status)."""
    service = platform.records(runtime, actor)
    ctx = extension_context(service, entry, send_webhook=webhook_sender(platform, runtime.tenant.slug,
                                                                        actor.user_id), **request)
    return _call(entry, lambda: route.function(ctx, **values))


def webhook_sender(platform: Platform, slug: str, user_id: int | None) -> Callable[..., str]:
    """``send_webhook(url, payload, secret_ref=None)``: a signed delivery through the automation webhooks' job."""

    def send(url: str, payload: Mapping[str, Any], secret_ref: str | None = None) -> str:
        delivery_id = hashlib.sha256(f"{slug}:{uuid.uuid4().hex}".encode()).hexdigest()[:32]
        args = {"url": url, "secret_ref": secret_ref, "payload": {"id": delivery_id, "tenant": slug, **payload},
                "delivery_id": delivery_id, "run_id": None}
        platform.jobs.enqueue(slug, DELIVER_KIND, args, user_id, idempotency_key=f"hook:{delivery_id}",
                              max_attempts=ATTEMPTS, timeout_s=60)
        return delivery_id

    return send


def _call(entry: Enabled, function: Callable[[], Any]) -> Any:
    """Run extension code: a refusal becomes a problem with its message; a bug a problem that names the extension."""
    try:
        return function()
    except HookRefused as refusal:
        problems = [FieldProblem(refusal.field, refusal.message)] if refusal.field else []
        raise (Conflict if refusal.conflict else InvalidInput)(f"{entry.extension.title}: {refusal.message}",
                                                               problems) from None
    except TrellisError:
        raise
    except Exception as failure:
        log.exception("Extension %s failed", entry.extension.name)
        raise Conflict(f"The extension {entry.extension.title} failed: {failure}") from None
