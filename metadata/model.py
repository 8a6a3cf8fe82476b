"""Typed views of metadata documents.

The documents (plain JSON, validated against ``metadata/schemas``) stay the
source of truth; these frozen classes give the runtime typed, read-only access
without copying the rules about defaults into every caller.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .fieldtypes import FieldType, field_type
from .labels import Label, localize

#: Columns every object table carries, in the order they are created.
SYSTEM_FIELDS = ("id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version")

#: Keys of a field document that are common to all types; the rest are type options.
COMMON_KEYS = {"id", "api_name", "label", "type", "help_text", "required", "unique", "indexed", "default"}

#: Types whose value can title a record (shown in lookups and page headings).
TITLE_TYPES = ("text", "autonumber", "email", "phone", "url")


def new_id(prefix: str) -> str:
    """A stable identifier for an object or field, kept across renames."""
    return f"{prefix}_{secrets.token_hex(6)}"


@dataclass(frozen=True)
class FieldDef:
    id: str
    api_name: str
    label: Label
    type: str
    required: bool
    unique: bool
    indexed: bool
    default: Any
    help_text: Label | None
    options: Mapping[str, Any]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> FieldDef:
        return cls(
            id=doc["id"],
            api_name=doc["api_name"],
            label=doc["label"],
            type=doc["type"],
            required=bool(doc.get("required", False)),
            unique=bool(doc.get("unique", False)) or doc["type"] == "autonumber",
            indexed=bool(doc.get("indexed", False)),
            default=doc.get("default"),
            help_text=doc.get("help_text"),
            options={k: v for k, v in doc.items() if k not in COMMON_KEYS},
        )

    @property
    def kind(self) -> FieldType:
        return field_type(self.type)

    @property
    def target(self) -> str | None:
        """The object a lookup points at."""
        return self.options.get("target")

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Picklist values in order, each ``{"value", "label", "color"?}``."""
        return list(self.options.get("values", []))

    def title(self, locale: str) -> str:
        return localize(self.label, locale, self.api_name)


@dataclass(frozen=True)
class ObjectDef:
    id: str
    api_name: str
    label: Label
    plural_label: Label | None
    description: str
    name_field: str | None
    fields: tuple[FieldDef, ...]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ObjectDef:
        fields = tuple(FieldDef.from_document(f) for f in doc.get("fields", []))
        name_field = doc.get("name_field") or next((f.api_name for f in fields if f.type in TITLE_TYPES), None)
        return cls(
            id=doc["id"],
            api_name=doc["api_name"],
            label=doc["label"],
            plural_label=doc.get("plural_label"),
            description=doc.get("description", ""),
            name_field=name_field,
            fields=fields,
        )

    def field(self, api_name: str) -> FieldDef:
        for field in self.fields:
            if field.api_name == api_name:
                return field
        raise KeyError(api_name)

    def has_field(self, api_name: str) -> bool:
        return any(f.api_name == api_name for f in self.fields)

    def title(self, locale: str) -> str:
        return localize(self.label, locale, self.api_name)

    def plural_title(self, locale: str) -> str:
        return localize(self.plural_label, locale, "") or self.title(locale)


def is_live(doc: Mapping[str, Any]) -> bool:
    """Whether an object document is in use (not archived)."""
    return "archived" not in doc


def live_documents(documents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The object documents in use: what records, the API and the screens are built from."""
    return [doc for doc in documents if is_live(doc)]


def stored_as(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """``doc`` named as its table is: an archived object's table has its archive name."""
    return {**doc, "api_name": doc["archived"]["table"]} if not is_live(doc) else doc


def with_ids(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an object document in which the object and every field have a stable id."""
    result = dict(doc)
    result.setdefault("id", new_id("obj"))
    result["fields"] = [{"id": new_id("fld"), **field} for field in doc.get("fields", [])]
    return result
