"""The extension API, version 1: everything an extension package imports from Trellis.

An extension is an ``Extension`` object exposed in the ``trellis.extensions``
entry-point group of an installed package; a tenant enables it with an
``extension`` definition (PUT /metadata/extensions/<name>). This module is the
whole surface: what it registers (field types, record hooks, actions, API
routes, scheduled jobs, templates) is plain data, and what its code is handed
at run time is a small facade (``RecordContext``/``ExtensionContext``) whose
record API goes through the record service — never the runtime, a database
connection or a Flask app. Platform internals may change between releases;
this module changes only with ``API_VERSION``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate

#: The version of this surface; an extension says which one it was written for.
API_VERSION = 1
#: The record events a hook can follow.
HOOK_EVENTS = ("before_create", "after_create", "before_update", "after_update", "before_delete", "after_delete",
               "stage_changed")
#: How an extension's field type may be stored (the catalog's storage kinds that hold a plain value).
STORAGE_KINDS = ("string", "text", "integer", "numeric", "boolean", "date", "datetime", "json")
#: How the screens may edit it.
WIDGETS = ("text", "textarea", "number", "checkbox", "date", "datetime", "email", "tel", "url", "rating")
#: Filter operators the query engine knows.
FILTER_OPS = ("eq", "ne", "blank", "lt", "lte", "gt", "gte", "contains", "starts_with")

#: marshmallow's fields and validators, re-exported so an extension needs no other import to build a field.
fields = ma_fields
validate = ma_validate


class HookRefused(Exception):
    """Raise from a ``before_*`` hook (or an action) to stop the change; the message is shown to the user.

    ``conflict=True`` answers 409 (the record's state forbids it) instead of 422 (the input is wrong);
    ``field`` names the field the message is about.
    """

    def __init__(self, message: str, *, field: str | None = None, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.conflict = conflict


class Records(Protocol):
    """Records of the tenant, through the record service (rules, defaults, automations all apply)."""

    def get(self, object_name: str, record_id: int) -> dict[str, Any]: ...
    def list(self, object_name: str, *, filters: Mapping[str, Any] | None = None,
             limit: int = 50) -> list[dict[str, Any]]: ...
    def create(self, object_name: str, data: Mapping[str, Any]) -> dict[str, Any]: ...
    def update(self, object_name: str, record_id: int, data: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass
class ExtensionContext:
    """What a route, action or job gets: who and where, the tenant's settings for this extension, records."""

    tenant: str
    user_id: int | None
    settings: Mapping[str, Any]
    records: Records
    #: For routes: the request's JSON body (None when it has none), raw body and headers.
    body: Any = None
    raw_body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    #: ``send_webhook(url, payload, secret_ref=None) -> delivery id``: a signed, retried, logged POST
    #: (see docs/automations.md); None in hooks, which run inside or right after a record write.
    send_webhook: Callable[..., str] | None = None


@dataclass
class RecordContext(ExtensionContext):
    """What a hook or an action gets: the record concerned, as it is and as the change makes it.

    In ``before_create``/``before_update`` hooks ``changes`` may be altered: what it holds is written.
    ``record`` is the stored record (None before a create); after a write it is the saved record.
    """

    object: str = ""
    event: str = ""
    record: Mapping[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] | None = None


Function = Callable[..., Any]


@dataclass(frozen=True)
class FieldTypeSpec:
    """A field type: used in object documents as ``"type": "<extension>.<name>"``."""

    name: str
    storage: str
    make_field: Callable[[Mapping[str, Any]], ma_fields.Field]
    widget: str = "text"
    filter_ops: tuple[str, ...] = ("eq", "ne", "blank")
    label: str = ""


@dataclass(frozen=True)
class HookSpec:
    event: str
    function: Function
    #: The object it follows; None: every object.
    object: str | None = None


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str
    function: Function
    object: str | None = None


@dataclass(frozen=True)
class RouteSpec:
    rule: str
    methods: tuple[str, ...]
    function: Function
    #: Callable without an API token: the function must check the caller itself (e.g. an HMAC signature).
    public: bool = False


@dataclass(frozen=True)
class JobSpec:
    name: str
    #: {"every_minutes": n} or {"daily_at": "HH:MM"} (UTC), as automation schedules.
    schedule: Mapping[str, Any]
    function: Function


class Extension:
    """One extension: its name (lower-case, also its settings' and types' prefix), version and registrations."""

    def __init__(self, name: str, version: str, title: str, *, api_version: int = API_VERSION,
                 description: str = "", templates: str | Path | None = None) -> None:
        if api_version != API_VERSION:
            raise ValueError(f"Extension {name!r} was written for extension API {api_version}; this Trellis "
                             f"offers version {API_VERSION}.")
        self.name, self.version, self.title, self.api_version = name, version, title, api_version
        self.description = description
        #: A folder of templates the extension carries (installed by the template feature).
        self.templates = Path(templates) if templates is not None else None
        self.field_types: dict[str, FieldTypeSpec] = {}
        self.hooks: list[HookSpec] = []
        self.actions: dict[str, ActionSpec] = {}
        self.routes: list[RouteSpec] = []
        self.jobs: dict[str, JobSpec] = {}

    def field_type(self, name: str, *, storage: str, make_field: Callable[[Mapping[str, Any]], ma_fields.Field],
                   widget: str = "text", filter_ops: Sequence[str] = ("eq", "ne", "blank"),
                   label: str = "") -> FieldTypeSpec:
        """Add a field type; ``make_field(field settings)`` builds the marshmallow field that loads and dumps it."""
        _one_of("storage", storage, STORAGE_KINDS)
        _one_of("widget", widget, WIDGETS)
        for op in filter_ops:
            _one_of("filter operator", op, FILTER_OPS)
        spec = FieldTypeSpec(name, storage, make_field, widget, tuple(filter_ops), label or name)
        self.field_types[name] = spec
        return spec

    def hook(self, event: str, *, object: str | None = None) -> Callable[[Function], Function]:  # noqa: A002
        """Decorate ``function(ctx: RecordContext)`` to run on ``event`` of ``object`` (or of every object)."""
        _one_of("hook event", event, HOOK_EVENTS)
        return self._add(lambda f: self.hooks.append(HookSpec(event, f, object)))

    def action(self, name: str, label: str, *, object: str | None = None) -> Callable[[Function], Function]:  # noqa: A002
        """Decorate ``function(ctx: RecordContext) -> dict | None``: a record button and an automation action."""
        return self._add(lambda f: self.actions.__setitem__(name, ActionSpec(name, label, f, object)))

    def route(self, rule: str, methods: Sequence[str] = ("GET",), *,
              public: bool = False) -> Callable[[Function], Function]:
        """Decorate ``function(ctx: ExtensionContext, **url_values) -> (json, status) | json``.

        Served at /t/<tenant>/api/v1/x/<extension><rule> (Werkzeug rule syntax, e.g. /leads/<int:id>) for
        tenants that enabled the extension; callers need an API token unless ``public``."""
        if not rule.startswith("/"):
            raise ValueError(f"Route {rule!r} must start with /.")
        methods = tuple(m.upper() for m in methods)
        return self._add(lambda f: self.routes.append(RouteSpec(rule, methods, f, public)))

    def job(self, name: str, schedule: Mapping[str, Any]) -> Callable[[Function], Function]:
        """Decorate ``function(ctx: ExtensionContext)`` to run once per schedule slot for each enabling tenant."""
        if not (set(schedule) == {"every_minutes"} or set(schedule) == {"daily_at"}):
            raise ValueError('A schedule is {"every_minutes": n} or {"daily_at": "HH:MM"}.')
        return self._add(lambda f: self.jobs.__setitem__(name, JobSpec(name, dict(schedule), f)))

    @staticmethod
    def _add(register: Callable[[Function], Any]) -> Callable[[Function], Function]:
        def decorator(function: Function) -> Function:
            register(function)
            return function
        return decorator


def _one_of(what: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{value!r} is not a {what}; use one of: {', '.join(allowed)}.")
