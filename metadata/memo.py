"""Results computed from one compiled revision's metadata, remembered while that revision is in use.

A compiled runtime holds immutable ``ObjectDef``s and the mapping of all of them, so what is
derived from them (checked formulas, rollups, automation rules) can be computed once per
revision instead of on every request. Entries are keyed by the identity of those very
objects and hold them, so an id reused by a later object can never return a stale result.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from threading import Lock
from typing import Any, Generic, TypeVar

from .model import ObjectDef

T = TypeVar("T")


class MetadataMemo(Generic[T]):
    """A small LRU of ``compute(obj, objects, *more)`` per (object, revision); ``more`` must be fixed by the
    revision too (such as the object's document)."""

    def __init__(self, compute: Callable[..., T], size: int = 512) -> None:
        self._compute = compute
        self._size = size
        self._entries: OrderedDict[tuple[int, int], tuple[ObjectDef, Mapping[str, ObjectDef], T]] = OrderedDict()
        self._lock = Lock()

    def __call__(self, obj: ObjectDef, objects: Mapping[str, ObjectDef], *more: Any) -> T:
        key = (id(obj), id(objects))
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] is obj and hit[1] is objects:
                self._entries.move_to_end(key)
                return hit[2]
        value = self._compute(obj, objects, *more)
        with self._lock:
            self._entries[key] = (obj, objects, value)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
