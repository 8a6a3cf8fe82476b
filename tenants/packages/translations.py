"""Labels in other languages, shipped as ``translations/<locale>.json`` beside the documents.

A translation file maps a name to a label: ``"account"`` (the object's label),
``"account.plural"`` (its plural label), ``"account.industry"`` (a field's label) and
``"account.industry.retail"`` (a picklist value's label). Names rather than JSON
paths, so reordering fields never breaks a translation. On install the labels are
merged into the documents' label maps (a plain string label counts as English),
which is also what an export writes back, inline.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def translate(objects: Mapping[str, dict[str, Any]], translations: Mapping[str, Mapping[str, str]],
              ) -> dict[str, dict[str, Any]]:
    """Copies of ``objects`` with every translation merged into their labels."""
    result = copy.deepcopy(dict(objects))
    for locale in sorted(translations):
        for key, text in translations[locale].items():
            if (target := _target(result, key)) is not None:
                holder, slot = target
                holder[slot] = _with(holder.get(slot), locale, text)
    return result


def unknown_keys(objects: Mapping[str, dict[str, Any]], translations: Mapping[str, Any]) -> list[str]:
    """The keys of one translation file that name nothing in ``objects``."""
    return [key for key in translations if _target(copy.deepcopy(dict(objects)), key) is None]


def _target(objects: Mapping[str, dict[str, Any]], key: str) -> tuple[dict[str, Any], str] | None:
    """The document holding the label ``key`` names, and the label's key in it."""
    object_name, *rest = key.split(".")
    doc = objects.get(object_name)
    if not isinstance(doc, dict) or len(rest) > 2:
        return None
    if not rest:
        return doc, "label"
    if rest == ["plural"]:
        return doc, "plural_label"
    field = next((f for f in doc.get("fields", []) if isinstance(f, dict) and f.get("api_name") == rest[0]), None)
    if field is None:
        return None
    if len(rest) == 1:
        return field, "label"
    value = next((v for v in field.get("values", []) if isinstance(v, dict) and v.get("value") == rest[1]), None)
    return (value, "label") if value is not None else None


def _with(label: Any, locale: str, text: str) -> dict[str, str]:
    labels = dict(label) if isinstance(label, dict) else ({"en": label} if isinstance(label, str) else {})
    labels[locale] = text
    return labels
