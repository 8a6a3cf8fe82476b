"""A bounded cache of built tenant apps, keyed by (tenant, revision).

flask-admin cannot add or remove views once an app has served a request, so
a metadata change is picked up by building a new app for the new revision.
Building costs tens of milliseconds to a second, so each app is built once
(concurrent first requests wait for the same build) and the least recently
used apps are dropped when there are more than ``capacity`` of them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

WSGIApp = Callable[..., Any]
Key = tuple[str, int]


class AppCache:
    """Least-recently-used map of ``(slug, revision)`` to WSGI apps.

    Each entry also keeps a *stamp* (the tenant's control-plane facts): a
    tenant renamed, or deleted and created again under the same slug, gets a
    fresh app even though its revision number looks the same.
    """

    def __init__(self, capacity: int = 64) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._apps: OrderedDict[Key, tuple[Hashable, WSGIApp]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Key, threading.Lock] = {}

    def get(self, slug: str, revision: int, stamp: Hashable, build: Callable[[], WSGIApp]) -> WSGIApp:
        """The app for this tenant and revision, built by ``build`` if it is not cached."""
        key = (slug, revision)
        if (app := self._cached(key, stamp)) is not None:
            return app
        with self._lock:
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            if (app := self._cached(key, stamp)) is None:
                app = build()
                self._store(key, stamp, app)
        with self._lock:
            self._building.pop(key, None)
        return app

    def _cached(self, key: Key, stamp: Hashable) -> WSGIApp | None:
        with self._lock:
            entry = self._apps.get(key)
            if entry is None or entry[0] != stamp:
                return None
            self._apps.move_to_end(key)
            return entry[1]

    def _store(self, key: Key, stamp: Hashable, app: WSGIApp) -> None:
        """Keep the new app and drop the tenant's other revisions: they are never asked for again."""
        with self._lock:
            for old in [k for k in self._apps if k[0] == key[0]]:
                del self._apps[old]
            self._apps[key] = (stamp, app)
            while len(self._apps) > self.capacity:
                self._apps.popitem(last=False)

    def latest(self, slug: str) -> WSGIApp | None:
        """Any cached app of the tenant (there is at most one revision kept), without asking the database."""
        with self._lock:
            return next((app for (cached, _), (_, app) in self._apps.items() if cached == slug), None)

    def forget(self, slug: str) -> None:
        """Drop every cached app of a tenant."""
        with self._lock:
            for key in [k for k in self._apps if k[0] == slug]:
                del self._apps[key]

    def keys(self) -> list[Key]:
        """The cached (slug, revision) pairs, least recently used first."""
        with self._lock:
            return list(self._apps)
