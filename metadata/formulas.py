"""Formula fields: every formula of an object type-checked against the object's other fields.

A formula may read other formulas of its own object, so they are checked in an order where
each comes after the formulas it reads (a cycle is refused with the path round it), and a
formula already checked reads, inside the next ones, as a field of its result type. The
platform compiles them in the same order, each into the SQL of the ones before it, so a
formula's value is always computed by the database from stored columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from .expressions import Checked, Expression, ExpressionError, ExprType, FieldRef, Node, Scope, check, children, parse
from .memo import MetadataMemo
from .model import ObjectDef
from .rollups import Rollup, rollups_of, with_stand_ins

#: The result types a formula may declare, by their name in the field document.
RESULT_TYPES: dict[str, ExprType] = {t.value: t for t in ExprType if t is not ExprType.BLANK}
#: The catalog type a checked formula reads as inside another expression on its object.
_STAND_INS = {ExprType.NUMBER: "decimal", ExprType.TEXT: "long_text", ExprType.BOOLEAN: "boolean",
              ExprType.DATE: "date", ExprType.DATETIME: "datetime"}


@dataclass(frozen=True)
class FormulaProblem:
    """What is wrong with one formula: the field and a sentence with the position in its expression."""

    field: str
    message: str


@dataclass(frozen=True)
class Formulas:
    """The checked formulas of one object, in compile order, and the object as expressions see it."""

    checked: Mapping[str, Checked]
    #: The object with each formula standing in as a field of its result type (for where= and filters).
    scope_obj: ObjectDef
    #: The object's rollups that check; the query compiles them before the formulas, which may read them.
    rollups: Mapping[str, Rollup] = field(default_factory=dict)

    def result(self, name: str) -> ExprType:
        return self.checked[name].type


def check_formulas(obj: ObjectDef, objects: Mapping[str, ObjectDef]) -> tuple[Formulas, list[FormulaProblem]]:
    """Check every formula of ``obj``; a formula with a problem (or reading one) is left out of the result."""
    texts = {f.api_name: f.options.get("expression", "") for f in obj.fields if f.type == "formula"}
    declared = {f.api_name: f.options.get("result") for f in obj.fields if f.type == "formula"}
    problems: list[FormulaProblem] = []
    parsed: dict[str, Expression] = {}
    for name, text in texts.items():
        try:
            parsed[name] = parse(text)
        except ExpressionError as error:
            problems.append(FormulaProblem(name, str(error)))
    order, cycles = _order(parsed)
    problems += cycles
    checked: dict[str, Checked] = {}
    current = with_stand_ins(obj, objects)  # formulas read the object's rollups like columns
    for name in order:
        if any(ref not in checked for ref in _formula_refs(parsed[name], parsed)):
            continue  # it reads a formula with a problem, which is reported on that one
        expect = RESULT_TYPES.get(declared[name] or "")
        try:
            result = check(parsed[name], Scope(current, objects), expect=expect)
        except ExpressionError as error:
            problems.append(FormulaProblem(name, str(error)))
            continue
        if result.type is ExprType.BLANK:
            problems.append(FormulaProblem(name, "This formula always gives a blank; declare its result type, "
                                           "such as \"result\": \"number\", or give it a value."))
            continue
        checked[name] = result
        current = _stand_in(current, name, result.type)
    return Formulas(checked, current, rollups_of(obj, objects)), problems


#: ``check_formulas`` remembered for the same (immutable) metadata objects, as a compiled runtime holds them,
#: so a request does not parse and check every formula again; problems were refused when saved.
formulas_of: MetadataMemo[Formulas] = MetadataMemo(lambda obj, objects: check_formulas(obj, objects)[0])


def _stand_in(obj: ObjectDef, name: str, kind: ExprType) -> ObjectDef:
    fields = tuple(replace(f, type=_STAND_INS[kind]) if f.api_name == name else f for f in obj.fields)
    return replace(obj, fields=fields)


def _refs(node: Node) -> Iterator[FieldRef]:
    if isinstance(node, FieldRef):
        yield node
    for child in children(node):
        yield from _refs(child)


def _formula_refs(expression: Expression, formulas: Mapping[str, Expression]) -> dict[str, FieldRef]:
    """The formulas of the same object this one reads, with the first place it reads each."""
    found: dict[str, FieldRef] = {}
    for ref in _refs(expression.root):
        if len(ref.path) == 1 and ref.path[0] in formulas:
            found.setdefault(ref.path[0], ref)
    return found


def _order(parsed: Mapping[str, Expression]) -> tuple[list[str], list[FormulaProblem]]:
    """The formulas, each after those it reads; a formula on a cycle is reported and left out."""
    order: list[str] = []
    problems: list[FormulaProblem] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> bool:
        if state.get(name) == "done":
            return name in order
        if state.get(name) == "open":
            loop = trail[trail.index(name):] + [name]
            first = loop[0]
            ref = _formula_refs(parsed[first], parsed)[loop[1]]
            message = (f"This formula reads itself through {' → '.join(loop)}; a formula cannot depend on its "
                       "own value, so remove one of these references.")
            problems.append(FormulaProblem(first, str(parsed[first].error(message, ref))))
            return False
        state[name] = "open"
        ok = all([visit(ref, [*trail, name]) for ref in _formula_refs(parsed[name], parsed)])
        state[name] = "done"
        if ok:
            order.append(name)
        return ok

    for name in parsed:
        visit(name, [])
    return order, problems
