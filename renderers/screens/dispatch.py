"""The WSGI dispatcher that sends ``/t/<slug>/...`` to that tenant's screens.

Each tenant's screens are a small Flask app of their own (flask-admin needs
its views fixed before the first request), so this layer decides per request
which app answers: the tenant's current revision picks a cached app, the API
below ``/t/<slug>/api/`` and everything outside ``/t/`` stay with the outer
app. The tenant app sees ``SCRIPT_NAME=/t/<slug>``, so its URLs are built
relative to the tenant without knowing where it is mounted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from trellis.platform.controlplane.tables import SLUG_PATTERN
from trellis.platform.core import Platform
from trellis.platform.errors import NotFound

from .appcache import AppCache, WSGIApp
from .tenant_app import build_tenant_app

_STATIC = "/static/admin/"
_TENANT_PATH = re.compile(r"^/t/(?P<slug>[^/]+)(?P<rest>/.*)?$")
_NOT_FOUND = (b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>'
              b"<body><h1>Not found</h1><p>There is no such CRM here. Check the address, or go to "
              b'<a href="/">the list of CRMs</a>.</p></body></html>')

StartResponse = Callable[..., Any]


class ScreenDispatcher:
    """Route tenant screen requests to per-(tenant, revision) apps; all else to ``outer``."""

    def __init__(self, outer: WSGIApp, platform: Platform, capacity: int = 64) -> None:
        self.outer = outer
        self.platform = platform
        self.apps = AppCache(capacity)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = _TENANT_PATH.match(environ.get("PATH_INFO") or "")
        if match is None or _is_api(match["rest"]):
            return self.outer(environ, start_response)
        slug, rest = match["slug"], match["rest"]
        app = self._static_app(slug, rest) or self.app_for(slug)
        if app is None:
            return _not_found(start_response)
        if not rest:
            return _redirect(start_response, f"{environ.get('SCRIPT_NAME', '')}/t/{slug}/", environ)
        inner = dict(environ, SCRIPT_NAME=f"{environ.get('SCRIPT_NAME', '')}/t/{slug}", PATH_INFO=rest)
        return app(inner, start_response)

    def app_for(self, slug: str) -> WSGIApp | None:
        """The screens app of the tenant's current revision, or None for an unknown tenant."""
        if not SLUG_PATTERN.match(slug):
            return None
        try:
            runtime = self.platform.runtime(slug)
        except NotFound:
            return None
        ref = runtime.tenant
        return self.apps.get(slug, runtime.revision.number, ref,
                             lambda: build_tenant_app(self.platform, runtime))

    def _static_app(self, slug: str, rest: str | None) -> WSGIApp | None:
        """For flask-admin's bundled CSS and JS (about twenty files a page), any cached app of the
        tenant will do: they are the same for every revision, so skip the tenant and revision queries."""
        return self.apps.latest(slug) if rest and rest.startswith(_STATIC) else None


def mount_screens(outer: WSGIApp, platform: Platform, capacity: int = 64) -> ScreenDispatcher:
    """Wrap ``outer`` (a WSGI app) so that ``/t/<slug>/`` serves that tenant's screens."""
    return ScreenDispatcher(outer, platform, capacity)


def _is_api(rest: str | None) -> bool:
    return rest is not None and (rest == "/api" or rest.startswith("/api/"))


def _not_found(start_response: StartResponse) -> list[bytes]:
    start_response("404 NOT FOUND", [("Content-Type", "text/html; charset=utf-8"),
                                     ("Content-Length", str(len(_NOT_FOUND)))])
    return [_NOT_FOUND]


def _redirect(start_response: StartResponse, path: str, environ: dict[str, Any]) -> list[bytes]:
    query = environ.get("QUERY_STRING")
    start_response("308 PERMANENT REDIRECT", [("Location", f"{path}?{query}" if query else path),
                                              ("Content-Length", "0")])
    return []
