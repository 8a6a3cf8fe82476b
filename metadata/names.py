"""Naming rules for the API names of objects and fields.

An API name becomes a real table or column name (readable by a BI tool pointed at the
tenant's schema) and a key of the REST API, so it must be a plain identifier that
PostgreSQL and SQLite both accept unquoted, and must not collide with what the platform
or the databases already put in every table.
"""

from __future__ import annotations

import re
from typing import Literal

MAX_LENGTH = 63
"""PostgreSQL silently truncates identifiers longer than 63 bytes (NAMEDATALEN - 1)."""

API_NAME_PATTERN = r"^(?!trellis_)(?!.*__)[a-z](?:[a-z0-9_]{0,61}[a-z0-9])?$"
"""The spelling rules as one regex; the JSON Schemas carry this same pattern."""

_POSTGRESQL_RESERVED = """
all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation
column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze
from full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit
localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references
returning right select session_user similar some symmetric system_user table tablesample then to trailing true union
unique user using variadic verbose when where window with
"""  # pg_get_keywords() with catcode R or T; PostgreSQL 16 added system_user.

_SQLITE_KEYWORDS = """
abort action add after all alter always analyze and as asc attach autoincrement before begin between by cascade case
cast check collate column commit conflict constraint create cross current current_date current_time current_timestamp
database default deferrable deferred delete desc detach distinct do drop each else end escape except exclude exclusive
exists explain fail filter first following for foreign from full generated glob group groups having if ignore
immediate in index indexed initially inner insert instead intersect into is isnull join key last left like limit match
materialized natural no not nothing notnull null nulls of offset on or order others outer over partition plan pragma
preceding primary query raise range recursive references regexp reindex release rename replace restrict returning
right rollback row rows savepoint select set table temp temporary then ties to transaction trigger unbounded union
unique update using vacuum values view virtual when where window with without
"""  # sqlite3_keyword_name(): all 147 keywords of SQLite 3.4x.

RESERVED_WORDS: frozenset[str] = frozenset(_POSTGRESQL_RESERVED.split() + _SQLITE_KEYWORDS.split())
"""Words that need quoting in SQL, which trips up anyone who queries the tables by hand."""

SYSTEM_COLUMNS: tuple[str, ...] = ("id", "owner", "created_at", "created_by", "updated_at", "updated_by", "version")
"""Columns the platform adds to every object table (model.SYSTEM_FIELDS; a test keeps them equal)."""

DATABASE_COLUMNS: frozenset[str] = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid", "rowid"})
"""Hidden columns: PostgreSQL refuses them as column names, and a rowid column hides SQLite's own."""

_SUGGESTIONS: dict[str, tuple[str, str]] = {
    "order": ("order_number", "sort_order"),
    "user": ("app_user", "assigned_user"),
    "group": ("group_name", "team"),
    "table": ("table_name", "dining_table"),
    "from": ("from_date", "sender"),
    "to": ("to_date", "recipient"),
    "key": ("key_code", "license_key"),
    "values": ("value_list", "amounts"),
    "index": ("index_number", "position"),
    "end": ("end_date", "finish"),
    "default": ("is_default", "default_value"),
    "id": ("external_id", "reference_number"),
    "owner": ("primary_owner", "account_owner"),
    "created_at": ("opened_at", "received_at"),
    "created_by": ("submitted_by", "entered_by"),
    "updated_at": ("changed_at", "reviewed_at"),
    "updated_by": ("changed_by", "reviewed_by"),
    "version": ("version_number", "revision"),
}


def _suggest(name: str) -> str:
    """Offer two concrete names, because "choose another name" alone leaves an admin stuck."""
    first, second = _SUGGESTIONS.get(name, (f"{name}_name", f"{name}_code"))
    return f"try {first} or {second}"


def shape_problem(name: str) -> str | None:
    """Say how `name` breaks API_NAME_PATTERN, or None if it does not.

    The rules are checked one by one so that the message names the rule that was broken.
    """
    example = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_").removeprefix("trellis_")
    if not re.fullmatch(API_NAME_PATTERN, example) or example in RESERVED_WORDS:
        example = "order_date"
    if name.startswith(("trellis_", "_")):
        prefix = "_" if name.startswith("_") else "trellis_"
        return f"'{name}' starts with '{prefix}', which is kept for the platform; start with a letter ({example})."
    if len(name) > MAX_LENGTH:
        return f"'{name[:20]}…' has {len(name)} characters; API names may have at most {MAX_LENGTH}, so shorten it."
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return (f"'{name}' is not a valid API name: use lower-case letters, digits and underscores, starting with "
                f"a letter (for example {example}).")
    if "__" in name:
        return f"'{name}' contains a double underscore; use single underscores ({example})."
    if name.endswith("_"):
        return f"'{name}' ends with an underscore; remove it ({example})."
    return None


def api_name_problem(name: str, *, kind: Literal["object", "field"]) -> str | None:
    """Say why `name` cannot be the API name of an object or a field, or None if it can."""
    if problem := shape_problem(name):
        return problem
    if name in RESERVED_WORDS:
        return f"'{name}' is a reserved SQL word and cannot be an API name; {_suggest(name)}."
    if kind == "object" and name.startswith("sqlite_"):
        return f"'{name}' starts with 'sqlite_', which SQLite keeps for its own tables; drop that prefix."
    if kind == "field" and name in SYSTEM_COLUMNS:
        return (f"'{name}' is a built-in field that every record already has, so you need not add it; "
                f"for something else, {_suggest(name)}.")
    if kind == "field" and name in DATABASE_COLUMNS:
        return f"'{name}' is a hidden column of the database and cannot be used; {_suggest(name)}."
    return None
