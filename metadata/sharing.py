"""Record sharing settings of an object: who sees whose records beyond their own.

An object document may carry ``sharing``::

    {"default": "private" | "public_read" | "public_read_write",
     "rules": [{"name": "emea", "when": "region = \\"EMEA\\"", "role": "emea_sales", "access": "read"}]}

Without ``sharing`` an object is public read/write, as before roles existed. A rule shares the
records matching ``when`` (an expression of the shared language, on this object) with the holders
of ``role`` and of the roles above it. This module checks the expressions (``sharing_problems``,
called by ``validation``) and the role names (``role_problems``, given the tenant's roles).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .expressions import Checked, ExpressionError, ExprType, Scope, check, parse
from .formulas import formulas_of
from .model import ObjectDef, with_ids

DEFAULTS = ("private", "public_read", "public_read_write")


def rules_of(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((doc.get("sharing") or {}).get("rules") or [])


def checked_rule(obj: ObjectDef, objects: Mapping[str, ObjectDef], when: str) -> Checked:
    """A rule's condition type-checked on ``obj`` (its formulas read like fields); raises ExpressionError."""
    return check(parse(when), Scope(formulas_of(obj, objects).scope_obj, objects), expect=ExprType.BOOLEAN)


def sharing_problems(doc: Mapping[str, Any], known_objects: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Each rule's ``when`` that does not check as a condition on this object, and rule names used twice."""
    rules = rules_of(doc)
    if not rules:
        return []
    everything = {name: other for name, other in known_objects.items() if name != doc["api_name"]}
    objects = {name: ObjectDef.from_document(with_ids(d)) for name, d in everything.items()}
    obj = objects[doc["api_name"]] = ObjectDef.from_document(with_ids(doc))
    problems, seen = [], set()
    for index, rule in enumerate(rules):
        if rule["name"] in seen:
            problems.append((f"$.sharing.rules[{index}].name", f"Another rule is already called '{rule['name']}'; "
                             "give each rule its own name."))
        seen.add(rule["name"])
        try:
            checked_rule(obj, objects, rule["when"])
        except ExpressionError as error:
            problems.append((f"$.sharing.rules[{index}].when", str(error)))
    return problems


def role_problems(doc: Mapping[str, Any], roles: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules naming a role the tenant does not have (with the nearest names)."""
    problems = []
    rules = rules_of(doc) if isinstance(doc.get("sharing"), Mapping) else []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, Mapping) or not isinstance(rule.get("role"), str):
            continue  # the schema names what is wrong with it
        if rule["role"] not in roles:
            close = difflib.get_close_matches(rule["role"], sorted(roles), n=3)
            hint = f"did you mean {', '.join(map(repr, close))}?" if close else "create the role first."
            problems.append((f"$.sharing.rules[{index}].role", f"There is no role '{rule['role']}'; {hint}"))
    return problems
