"""The metadata JSON Schemas as files on disk: read once, validators over them, per-type settings.

The schemas in metadata/schemas are the contract other tools read; this module is
the one place Python reads them, so validation and the value checks agree on
every setting and its default.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SCHEMA_DIR = Path(__file__).parent / "schemas"
FORMATS = FormatChecker()


@cache
def read_schema(name: str) -> dict[str, Any]:
    """Parse a schema once per process; the validators share this copy."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"{name!r} is not a schema name")
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def load_schema(name: str) -> dict[str, Any]:
    """Return metadata/schemas/<name>.schema.json as a copy, so no caller can alter the one we validate with."""
    return copy.deepcopy(read_schema(name))


FIELD_TYPES: tuple[str, ...] = tuple(read_schema("field")["$defs"]["field_type"]["enum"])
NUMBER_TYPES = ("integer", "decimal", "currency", "percent")


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator whose registry resolves the $refs between our schemas by their $id."""
    schemas = [read_schema(path.name.removesuffix(".schema.json")) for path in sorted(SCHEMA_DIR.glob("*.schema.json"))]
    registry = Registry().with_resources((schema["$id"], Resource.from_contents(schema)) for schema in schemas)
    return Draft202012Validator(read_schema(name), registry=registry, format_checker=FORMATS)


@cache
def type_options(field_type: str) -> dict[str, dict[str, Any]]:
    """The type's own settings with their schemas ($refs into $defs merged), which also hold their defaults."""
    schema = read_schema("field")
    options: dict[str, dict[str, Any]] = {}
    for branch in schema["allOf"]:
        if branch["if"].get("properties", {}).get("type", {}).get("const") == field_type:
            for key, option in branch["then"]["properties"].items():
                shared = schema["$defs"][option["$ref"].rsplit("/", 1)[1]] if "$ref" in option else {}
                options[key] = {**shared, **option}
    return options


def setting(field: Mapping, key: str) -> Any:
    """A field's setting, or the schema's default for its type when the admin left it out."""
    return field.get(key, type_options(field["type"]).get(key, {}).get("default"))
