"""Differences between two metadata revisions, as plain change records.

Objects and fields are matched by their stable ``id``, so a rename is seen as a
rename and never as a drop plus an add. Each change names what it touches and
which keys moved; the platform decides what DDL (if any) each one needs.

A field that leaves ``fields`` for the object's ``archived_fields`` is archived
(its column kept under another name), one that comes back is restored, and one
that leaves ``archived_fields`` for nowhere is purged. Only a field that simply
vanishes is a removal, which the platform refuses. A change of type (or of
storage size) is a conversion: the editor archives a copy of the old field
(with a new id and ``replaced_by`` naming the live one) in the same revision,
and the change names that archive's column. Objects work the same way: one
that gains ``archived`` is archived (its table renamed), one that loses it is
restored, and an archived one that disappears is purged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Document = Mapping[str, Any]
#: Field keys whose change needs a new column: the values are converted into it, the old one archived.
STORAGE_KEYS = {"type", "precision", "scale", "max_length"}


def diff_objects(old: Sequence[Document], new: Sequence[Document]) -> list[dict[str, Any]]:
    """The changes that turn the object documents ``old`` into ``new``."""
    before = {doc["id"]: doc for doc in old}
    after = {doc["id"]: doc for doc in new}
    changes: list[dict[str, Any]] = []
    for obj_id, doc in after.items():
        previous = before.get(obj_id)
        if previous is None:
            changes.append({"op": "create_object", "object": doc["api_name"]})
        elif "archived" in doc and "archived" not in previous:
            changes.append({"op": "archive_object", "object": doc["api_name"], "table": doc["archived"]["table"]})
        elif "archived" in previous and "archived" not in doc:
            changes.append({"op": "restore_object", "object": doc["api_name"],
                            "table": previous["archived"]["table"]})
            changes.extend(_object_changes({**previous, "api_name": doc["api_name"]}, doc))
        elif "archived" not in doc:
            changes.extend(_object_changes(previous, doc))
    for obj_id, doc in before.items():
        if obj_id not in after:
            op = "purge_object" if "archived" in doc else "remove_object"
            changes.append({"op": op, "object": doc["api_name"], **({"table": doc["archived"]["table"]}
                                                                      if "archived" in doc else {})})
    return changes


def _object_changes(old: Document, new: Document) -> list[dict[str, Any]]:
    name = new["api_name"]
    changes: list[dict[str, Any]] = []
    if old["api_name"] != name:
        changes.append({"op": "rename_object", "object": name, "from": old["api_name"]})
    keys = _changed_keys(old, new, ignore={"fields", "archived_fields", "archived", "api_name", "id"})
    if keys:
        changes.append({"op": "update_object", "object": name, "keys": keys})
    old_fields = {f["id"]: f for f in old.get("fields", [])}
    new_fields = {f["id"]: f for f in new.get("fields", [])}
    old_archived, new_archived = _archived(old), _archived(new)
    for field_id, field in new_fields.items():
        previous = old_fields.get(field_id)
        if previous is None and field_id in old_archived:
            changes.append({"op": "restore_field", "object": name, "field": field["api_name"],
                            "column": old_archived[field_id]["column"]})
            continue
        if previous is None:
            changes.append({"op": "add_field", "object": name, "field": field["api_name"]})
            continue
        if previous["api_name"] != field["api_name"]:
            changes.append({"op": "rename_field", "object": name,
                            "field": field["api_name"], "from": previous["api_name"]})
        keys = _changed_keys(previous, field, ignore={"api_name", "id"})
        if STORAGE_KEYS & set(keys):
            changes.append(_conversion(name, previous, field, new_archived.keys() - old_archived.keys(), new))
        elif keys:
            changes.append({"op": "update_field", "object": name, "field": field["api_name"], "keys": keys})
    for field_id, field in old_fields.items():
        if field_id in new_archived:
            changes.append({"op": "archive_field", "object": name, "field": field["api_name"],
                            "column": new_archived[field_id]["column"]})
        elif field_id not in new_fields:
            changes.append({"op": "remove_field", "object": name, "field": field["api_name"]})
    for field_id, entry in old_archived.items():
        if field_id not in new_archived and field_id not in new_fields:
            changes.append({"op": "purge_field", "object": name, "field": entry["field"]["api_name"],
                            "column": entry["column"], "type": entry["field"]["type"]})
    return changes


def _conversion(name: str, old: Document, new: Document, archived_now: set[str], doc: Document) -> dict[str, Any]:
    """A change of type or storage size: the values move to a new column, the old one is archived."""
    entry = next((e for e in doc.get("archived_fields", []) if e["field"]["id"] in archived_now
                  and e.get("replaced_by") == new["id"]), None)
    return {"op": "convert_field", "object": name, "field": new["api_name"], "from_type": old["type"],
            "to_type": new["type"], "column": entry["column"] if entry else None,
            "previous_field": entry["field"]["id"] if entry else None}


def _archived(doc: Document) -> dict[str, Document]:
    """The object's archived fields by field id: ``{"field": …, "column": …, "archived_at": …, …}``."""
    return {entry["field"]["id"]: entry for entry in doc.get("archived_fields", [])}


def _changed_keys(old: Document, new: Document, ignore: set[str]) -> list[str]:
    keys = (set(old) | set(new)) - ignore
    return sorted(key for key in keys if old.get(key) != new.get(key))
