"""Differences between two metadata revisions, as plain change records.

Objects and fields are matched by their stable ``id``, so a rename is seen as a
rename and never as a drop plus an add. Each change names what it touches and
which keys moved; the platform decides what DDL (if any) each one needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Document = Mapping[str, Any]


def diff_objects(old: Sequence[Document], new: Sequence[Document]) -> list[dict[str, Any]]:
    """The changes that turn the object documents ``old`` into ``new``."""
    before = {doc["id"]: doc for doc in old}
    after = {doc["id"]: doc for doc in new}
    changes: list[dict[str, Any]] = []
    for obj_id, doc in after.items():
        previous = before.get(obj_id)
        if previous is None:
            changes.append({"op": "create_object", "object": doc["api_name"]})
            continue
        changes.extend(_object_changes(previous, doc))
    for obj_id, doc in before.items():
        if obj_id not in after:
            changes.append({"op": "remove_object", "object": doc["api_name"]})
    return changes


def _object_changes(old: Document, new: Document) -> list[dict[str, Any]]:
    name = new["api_name"]
    changes: list[dict[str, Any]] = []
    if old["api_name"] != name:
        changes.append({"op": "rename_object", "object": name, "from": old["api_name"]})
    keys = _changed_keys(old, new, ignore={"fields", "api_name", "id"})
    if keys:
        changes.append({"op": "update_object", "object": name, "keys": keys})
    old_fields = {f["id"]: f for f in old.get("fields", [])}
    new_fields = {f["id"]: f for f in new.get("fields", [])}
    for field_id, field in new_fields.items():
        previous = old_fields.get(field_id)
        if previous is None:
            changes.append({"op": "add_field", "object": name, "field": field["api_name"]})
            continue
        if previous["api_name"] != field["api_name"]:
            changes.append({"op": "rename_field", "object": name,
                            "field": field["api_name"], "from": previous["api_name"]})
        keys = _changed_keys(previous, field, ignore={"api_name", "id"})
        if keys:
            changes.append({"op": "update_field", "object": name, "field": field["api_name"], "keys": keys})
    for field_id, field in old_fields.items():
        if field_id not in new_fields:
            changes.append({"op": "remove_field", "object": name, "field": field["api_name"]})
    return changes


def _changed_keys(old: Document, new: Document, ignore: set[str]) -> list[str]:
    keys = (set(old) | set(new)) - ignore
    return sorted(key for key in keys if old.get(key) != new.get(key))
