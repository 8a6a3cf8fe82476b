"""Follow a tenant's field renames into the template's documents before they are merged.

A tenant that renamed ``website`` to ``homepage`` keeps the field (matched by id), but
the installed and the new version still name it ``website`` in form layouts,
validation rules, the name field and stage requirements. Renaming those references
in both template versions first lets the merge see the template's layout change as a
change to *the tenant's* field. Expressions are left as written (the merged
configuration is validated, and a stale name is reported where it is).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def tenant_names(template: str, ours: Mapping[str, Any], field_ids: Mapping[str, str]) -> dict[str, str]:
    """Template field name → the tenant's name, for the fields of object ``template`` the tenant renamed."""
    current = {f["id"]: f["api_name"] for f in ours.get("fields", [])}
    prefix = f"{template}."
    return {key.removeprefix(prefix): current[fid] for key, fid in field_ids.items()
            if key.startswith(prefix) and fid in current and current[fid] != key.removeprefix(prefix)}


def follow(doc: Any, names: Mapping[str, str]) -> Any:
    """A copy of template object document ``doc`` whose references to renamed fields use the new names."""
    if not names or not isinstance(doc, dict):
        return doc
    result = copy.deepcopy(doc)
    if result.get("name_field") in names:
        result["name_field"] = names[result["name_field"]]
    for layout in result.get("layouts", []):
        for section in layout.get("sections", []):
            for item in section.get("fields", []):
                item["field"] = names.get(item.get("field"), item.get("field"))
    for rule in result.get("validation_rules", []):
        if rule.get("field") in names:
            rule["field"] = names[rule["field"]]
    for field in result.get("fields", []):
        for value in field.get("values", []) if isinstance(field.get("values"), list) else []:
            if isinstance(value.get("required_fields"), list):
                value["required_fields"] = [names.get(n, n) for n in value["required_fields"]]
    return result
