"""Three-way merge of configuration documents: installed template version, new version, the tenant's own.

Per key, recursively: where only the tenant changed something, the tenant's value
stays; where only the template changed it, the new template value applies; where both
changed it differently, that is a conflict, decided by the admin's resolution for its
path ("template" or "tenant") and otherwise listed, never decided silently. Lists of
named items (fields by api_name, layouts and rules by name, picklist values by
value, form fields by field) merge item by item; fields are matched by their stable
id, so a field the tenant renamed is still the template's field. A field the new
version drops is kept (its data matters more than the template's tidiness).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
_KEYS = ("api_name", "name", "value", "field")


@dataclass
class Merge:
    """One merge run: the id → template name map of fields, the admin's resolutions, what it found."""

    renamed: Mapping[str, str] = field(default_factory=dict)
    resolutions: Mapping[str, str] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def document(self, file: str, base: Any, ours: Any, theirs: Any) -> Any:
        """The merged document (``MISSING`` when it should not exist)."""
        return self._merge(base, ours, theirs, file, "$")

    def _merge(self, base: Any, ours: Any, theirs: Any, file: str, path: str) -> Any:
        if _same(ours, theirs) or _same(base, theirs):
            return ours
        if _same(base, ours):
            return theirs
        if isinstance(ours, dict) and isinstance(theirs, dict) and isinstance(base, dict | type(MISSING)):
            return self._dicts(base if isinstance(base, dict) else {}, ours, theirs, file, path)
        if all(self._keyed(v) for v in (ours, theirs)) and (base is MISSING or self._keyed(base)):
            return self._lists(base if isinstance(base, list) else [], ours, theirs, file, path)
        return self._conflict(base, ours, theirs, file, path)

    def _conflict(self, base: Any, ours: Any, theirs: Any, file: str, path: str) -> Any:
        key = f"{file}:{path}"
        choice = self.resolutions.get(key)
        if choice not in ("template", "tenant"):
            self.conflicts.append({"key": key, "file": file, "path": path, "installed": _show(base),
                                   "tenant": _show(ours), "template": _show(theirs)})
        return theirs if choice == "template" else ours

    def _dicts(self, base: dict, ours: dict, theirs: dict, file: str, path: str) -> dict:
        result = {}
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            value = self._merge(base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING),
                                file, f"{path}.{key}")
            if value is not MISSING:
                result[key] = value
        return result

    def _lists(self, base: list, ours: list, theirs: list, file: str, path: str) -> list:
        b, o, t = (self._by_key(items) for items in (base, ours, theirs))
        result = {}
        for key in _order(list(o), list(t)):
            value = self._merge(b.get(key, MISSING), o.get(key, MISSING), t.get(key, MISSING), file,
                                f"{path}[{key!r}]")
            if value is MISSING and key in o and path.endswith(".fields"):
                self.notes.append(f"{file}: the new version drops field {key}; it is kept with its data.")
                value = o[key]
            if value is not MISSING:
                result[key] = value
        return list(result.values())

    def _key(self, item: Mapping[str, Any]) -> str:
        if isinstance(item.get("id"), str) and item["id"] in self.renamed:
            return self.renamed[item["id"]]
        return str(next(item[k] for k in _KEYS if k in item))

    def _keyed(self, items: Any) -> bool:
        """A list of named items, each name once (the others merge as one value)."""
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            return isinstance(items, list) and not items
        if not all(any(k in i for k in _KEYS) for i in items):
            return False
        keys = [self._key(i) for i in items]
        return len(set(keys)) == len(keys)

    def _by_key(self, items: list) -> dict[str, Any]:
        return {self._key(item): item for item in items}


def _order(ours: list[str], theirs: list[str]) -> list[str]:
    """The tenant's order, with each item only the template has placed after its predecessor there."""
    result = list(ours)
    for index, key in enumerate(theirs):
        if key in result:
            continue
        before = next((theirs[i] for i in range(index - 1, -1, -1) if theirs[i] in result), None)
        result.insert(result.index(before) + 1 if before is not None else 0, key)
    return result


def _same(first: Any, second: Any) -> bool:
    return first is second or (first is not MISSING and second is not MISSING and first == second)


def _show(value: Any) -> Any:
    return None if value is MISSING else value
