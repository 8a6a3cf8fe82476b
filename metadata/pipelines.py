"""Pipelines: the stages a record moves through, as metadata on one of its picklist fields.

A picklist field with a ``pipeline`` setting (``{"label": …}``, may be empty) is a pipeline:
its values, in order, are the stages. Each value may say what entering it means:

- ``probability`` (0–100) and ``category`` (``open``, the default, ``won`` or ``lost``);
- ``guidance``: text (or texts by language) shown to the people working the record;
- ``required_fields``: api_names of fields of the same object that must have a value to enter it;
- ``next``: the stages it may move to (left out: any).

This module is the typed view (``Pipeline``, ``Stage``) the runtime and screens read, the
rules a JSON Schema cannot say (``pipeline_problems``, called by ``validation``) and the
upkeep when the fields a stage names are renamed or archived. Several objects may each have
their own pipelines; an object may even have more than one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .labels import Label, localize
from .model import FieldDef, ObjectDef

#: Settings of a picklist value that only mean something on a pipeline's stages.
STAGE_KEYS = ("probability", "category", "guidance", "required_fields", "next")


@dataclass(frozen=True)
class Stage:
    value: str
    label: Label
    color: str | None
    probability: float | None
    category: str
    guidance: Label | None
    required_fields: tuple[str, ...]
    #: The stages this one may move to; ``None`` means any.
    next: tuple[str, ...] | None

    @classmethod
    def from_choice(cls, choice: Mapping[str, Any]) -> Stage:
        nexts = choice.get("next")
        return cls(value=choice["value"], label=choice["label"], color=choice.get("color"),
                   probability=choice.get("probability"), category=choice.get("category", "open"),
                   guidance=choice.get("guidance"), required_fields=tuple(choice.get("required_fields", ())),
                   next=tuple(nexts) if nexts is not None else None)

    def title(self, locale: str) -> str:
        return localize(self.label, locale, self.value)

    def guidance_text(self, locale: str) -> str:
        return localize(self.guidance, locale, "")

    def allows(self, target: str) -> bool:
        """Whether a record in this stage may move to ``target`` (staying put is always allowed)."""
        return self.next is None or target == self.value or target in self.next


@dataclass(frozen=True)
class Pipeline:
    """The stages of one picklist field of one object, in order."""

    object_name: str
    field: FieldDef
    stages: tuple[Stage, ...]

    def title(self, locale: str) -> str:
        label = self.field.options.get("pipeline", {}).get("label")
        return localize(label, locale, "") or self.field.title(locale)

    def stage(self, value: str | None) -> Stage | None:
        return next((stage for stage in self.stages if stage.value == value), None)

    def index(self, value: str | None) -> int:
        """The stage's position (0-based); -1 for no stage or a retired value."""
        return next((i for i, stage in enumerate(self.stages) if stage.value == value), -1)


def pipeline_of(obj: ObjectDef, field: FieldDef) -> Pipeline | None:
    """The pipeline ``field`` carries, if it is one."""
    if field.type != "picklist" or "pipeline" not in field.options:
        return None
    return Pipeline(obj.api_name, field, tuple(Stage.from_choice(choice) for choice in field.choices))


def pipelines_of(obj: ObjectDef) -> list[Pipeline]:
    """The object's pipelines, in field order (usually none or one)."""
    return [pipeline for field in obj.fields if (pipeline := pipeline_of(obj, field)) is not None]


# --- rules a schema cannot say --------------------------------------------------------------------------------------

def pipeline_problems(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, message) for every pipeline rule a schema-valid object document breaks."""
    fields = [f for f in doc.get("fields") or [] if isinstance(f, Mapping)]
    names = {f.get("api_name"): f for f in fields}
    problems = []
    for index, field in enumerate(fields):
        problems += [(f"$.fields[{index}]{path}", message) for path, message in field_problems(field, names)]
    return problems


def field_problems(field: Mapping[str, Any], siblings: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(path inside the field, message) for one field's stage settings; ``siblings`` are the object's fields."""
    choices = field.get("values") if isinstance(field.get("values"), list) else []
    problems = []
    if "pipeline" not in field:
        for at, choice in enumerate(choices):
            problems += [(f".values[{at}].{key}", f"{key} is a stage setting, but this field is not a pipeline; "
                          'add "pipeline": {"label": "Sales"} to the field, or remove it.')
                         for key in STAGE_KEYS if isinstance(choice, Mapping) and key in choice]
        return problems
    values = [c.get("value") for c in choices if isinstance(c, Mapping)]
    for at, choice in enumerate(choices):
        if isinstance(choice, Mapping):
            problems += [(f".values[{at}].{key}", message) for key, message in _stage_rules(choice, field,
                                                                                             siblings, values)]
    return problems


def _stage_rules(choice: Mapping[str, Any], field: Mapping[str, Any], siblings: Mapping[str, Mapping[str, Any]],
                 values: list[Any]) -> list[tuple[str, str]]:
    rules = []
    for name in _duplicated(choice.get("required_fields", [])):
        rules.append(("required_fields", f"'{name}' is listed twice in required_fields; list it once."))
    for name in choice.get("required_fields", []):
        if problem := _required_problem(name, field, siblings):
            rules.append(("required_fields", problem))
    for name in _duplicated(choice.get("next", [])):
        rules.append(("next", f"'{name}' is listed twice in next; list it once."))
    for name in choice.get("next", []):
        if name not in values:
            shown = ", ".join(str(v) for v in values)
            rules.append(("next", f"'{name}' is not a stage of this pipeline; name one of: {shown}."))
    return rules


def _required_problem(name: str, field: Mapping[str, Any], siblings: Mapping[str, Mapping[str, Any]]) -> str | None:
    if name == field.get("api_name"):
        return f"'{name}' is the stage field itself; list the other fields a record needs in this stage."
    if name not in siblings:
        shown = ", ".join(str(n) for n in siblings if n != field.get("api_name"))
        return f"'{name}' is not a field of this object; name one of: {shown}."
    kind = siblings[name].get("type")
    if kind in ("formula", "rollup"):
        return f"'{name}' is a {kind}, computed rather than filled in; name a field people can fill."
    return None


def _duplicated(names: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    return [name for name in names if name in seen or seen.add(name)]


# --- upkeep when fields change -----------------------------------------------------------------------------------

def follow_rename(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """``doc`` with its stages' required_fields naming ``old`` naming ``new`` instead (a field rename)."""
    if old == new:
        return doc

    def follow(choice: Mapping[str, Any]) -> Mapping[str, Any]:
        names = choice.get("required_fields")
        if not names or old not in names:
            return choice
        return {**choice, "required_fields": [new if name == old else name for name in names]}

    fields = [{**f, "values": [follow(c) for c in f["values"]]} if "pipeline" in f else f for f in doc["fields"]]
    return {**doc, "fields": fields}


def archive_problems(doc: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    """(path, message) when archiving field ``name`` would leave a stage requiring a field that is gone."""
    found = []
    for index, field in enumerate(doc.get("fields", [])):
        for at, choice in enumerate(field.get("values", []) if "pipeline" in field else []):
            if name in choice.get("required_fields", []):
                found.append((f"$.fields[{index}].values[{at}].required_fields",
                              f"The stage '{choice['value']}' of {field['api_name']} requires {name}; remove it "
                              "from that stage's required_fields first."))
    return found


def new_field_problems(field: Mapping[str, Any], object_doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(JSON path in the field, message) for a schema-valid field added to, or replacing one in, object_doc."""
    siblings = {f.get("api_name"): f for f in object_doc.get("fields") or [] if isinstance(f, Mapping)
                and not (f.get("id") is not None and f.get("id") == field.get("id"))}
    return [(f"${path}", message) for path, message in field_problems(field, {**siblings,
                                                                             field["api_name"]: field})]
