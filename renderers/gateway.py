"""The outermost WSGI layer: a tenant's subdomain, and what its status means to the people knocking.

- **Subdomains.** With ``TRELLIS_BASE_DOMAIN=crm.example.com``, a request to
  ``acme.crm.example.com/<path>`` is served as ``/t/acme/<path>``: the same screens and
  API, with no second set of routes. Links the app generates keep their ``/t/acme/``
  prefix; such a path is passed on unchanged, so they work on the subdomain as well. The
  sign-in cookie, scoped to ``/t/acme/`` on the shared host, is widened to the whole subdomain.
  A host that is not one label under the base domain gets the same 404 as an unknown tenant.
- **Status** (see ``tenants/lifecycle.py``). A suspended tenant's requests get 403 "this
  organization is suspended" instead of the 404 or 401 the doors give for a tenant they do not
  serve; a tenant being moved answers its writes with 503 and ``Retry-After``. Reads cost
  nothing extra: the status is looked up only for writes and for answers that were 401 or 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from trellis.platform.controlplane.tables import SLUG_PATTERN
from trellis.platform.core import Platform
from trellis.tenants.lifecycle import gate

from .api.problems import PROBLEM_TYPE, TYPE_BASE

WSGIApp = Callable[..., Any]
StartResponse = Callable[..., Any]

_TENANT_PATH = re.compile(r"^/t/(?P<slug>[^/]+)(?P<rest>/.*)?$")
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
#: Seconds a client should wait before retrying a write to a tenant being moved.
RETRY_AFTER = 30
_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
         "<body><h1>{title}</h1><p>{detail}</p></body></html>")
_SUSPENDED = (403, "Organization suspended", "tenant-suspended",
              "This organization is suspended. Its administrators can ask the operator of this "
              "installation to resume it.")
_MOVING = (503, "Organization being moved", "tenant-moving",
           "This organization is being moved to another database; changes are paused. "
           "Try again shortly (reading works meanwhile).")
_NO_SUCH_HOST = (404, "Not found", "about:blank", "There is no such CRM here. Check the address.")


class TenantGate:
    """Answer for suspended and moving tenants before (writes) or instead of (401/404) the doors."""

    def __init__(self, app: WSGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = _TENANT_PATH.match(environ.get("PATH_INFO") or "")
        if match is None or not SLUG_PATTERN.match(match["slug"]):
            return self.app(environ, start_response)
        slug = match["slug"]
        if environ.get("REQUEST_METHOD", "GET") not in _SAFE and (blocked := self._blocked(slug, write=True)):
            return _answer(environ, start_response, blocked)
        captured: list[Any] = []
        body = self.app(environ, lambda status, headers, exc_info=None: captured.append((status, headers)))
        status, headers = captured[0]
        if status[:3] in ("401", "404") and (blocked := self._blocked(slug, write=False)):
            getattr(body, "close", lambda: None)()
            return _answer(environ, start_response, blocked)
        start_response(status, headers)
        return body

    def _blocked(self, slug: str, *, write: bool) -> tuple[int, str, str, str] | None:
        state = gate(self.platform, slug)
        if state is None:
            return None
        if state.status == "suspended":
            return _SUSPENDED
        return _MOVING if write and state.moving and state.status == "active" else None


class SubdomainResolver:
    """Serve ``<slug>.<base domain>/<path>`` as ``/t/<slug>/<path>``."""

    def __init__(self, app: WSGIApp, base_domain: str) -> None:
        self.app = app
        self.suffix = "." + base_domain.lower()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").lower().rsplit(":", 1)[0]
        if not host.endswith(self.suffix):
            return self.app(environ, start_response)
        slug = host[: -len(self.suffix)]
        if not SLUG_PATTERN.match(slug):
            return _answer(environ, start_response, _NO_SUCH_HOST)
        path = environ.get("PATH_INFO") or "/"
        prefix = f"/t/{slug}"
        if path != prefix and not path.startswith(prefix + "/"):
            environ = dict(environ, PATH_INFO=prefix + path)
        return self.app(environ, _whole_host_cookies(start_response, prefix + "/"))


def _whole_host_cookies(start_response: StartResponse, tenant_path: str) -> StartResponse:
    """Widen the screens' session cookie from the tenant's path to the whole host: the host is the tenant's,
    and pages are reached both with and without the ``/t/<slug>`` prefix."""
    scoped = f"Path={tenant_path}"

    def rewritten(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        headers = [(name, value.replace(scoped, "Path=/") if name.lower() == "set-cookie" else value)
                   for name, value in headers]
        return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

    return rewritten


def mount_gateway(app: WSGIApp, platform: Platform) -> WSGIApp:
    """Wrap the whole app: status answers always, subdomains when a base domain is configured."""
    gated = TenantGate(app, platform)
    base = platform.settings.base_domain
    return SubdomainResolver(gated, base) if base else gated


def _answer(environ: dict[str, Any], start_response: StartResponse,
            answer: tuple[int, str, str, str]) -> list[bytes]:
    """A problem document for the API, a short page for the screens."""
    status, title, kind, detail = answer
    path = environ.get("PATH_INFO") or "/"
    match = _TENANT_PATH.match(path)
    headers = [("Retry-After", str(RETRY_AFTER))] if status == 503 else []
    if match and (match["rest"] or "").startswith("/api/"):
        body = json.dumps({"type": kind if kind == "about:blank" else TYPE_BASE + kind, "title": title,
                           "status": status, "detail": detail, "instance": path, "errors": []}).encode()
        headers.append(("Content-Type", PROBLEM_TYPE))
    else:
        body = _PAGE.format(title=title, detail=detail).encode()
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    reason = {403: "FORBIDDEN", 404: "NOT FOUND", 503: "SERVICE UNAVAILABLE"}[status]
    start_response(f"{status} {reason}", [*headers, ("Content-Length", str(len(body)))])
    return [body]
