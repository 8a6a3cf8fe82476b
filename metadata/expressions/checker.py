"""The type checker: every field path resolved, every operator and function given the types it takes.

``check`` returns a ``Checked`` expression — the tree plus the type of each node
and the resolved path of each field reference — which is what the SQL compiler
and the Python evaluator take, so neither can run an expression that did not pass.
A BLANK literal takes the type its place calls for (the ``then`` of an IF whose
``else`` is a number is a number), so the compiler can type it for the database.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from trellis.metadata.model import ObjectDef

from .functions import FUNCTIONS, Function
from .nodes import Binary, Call, Expression, ExprType, FieldRef, InList, Literal, Node, Unary

N, T, B, D, DT, BLANK = (ExprType.NUMBER, ExprType.TEXT, ExprType.BOOLEAN, ExprType.DATE, ExprType.DATETIME,
                         ExprType.BLANK)

#: Field types of the catalog (metadata/fieldtypes.py) as expression types; a lookup reads as the target's id.
FIELD_TYPES: dict[str, ExprType] = {
    "text": T, "long_text": T, "email": T, "phone": T, "url": T, "picklist": T, "autonumber": T,
    "integer": N, "decimal": N, "currency": N, "percent": N, "lookup": N,
    "boolean": B, "date": D, "datetime": DT,
}
SYSTEM_TYPES: dict[str, ExprType] = {"id": N, "owner": N, "created_by": N, "updated_by": N, "version": N,
                                     "created_at": DT, "updated_at": DT}
_ARITHMETIC = ("+", "-", "*", "/")
_COMPARISON = ("=", "!=", "<", "<=", ">", ">=")
_HINTS = {T: "convert it with TEXT(...)", N: "convert it with VALUE(...)"}


@dataclass(frozen=True)
class Scope:
    """Where an expression is used: on which object, which other objects lookups may reach, and whether
    it is a validation rule (the only place ISCHANGED and PRIORVALUE mean something)."""

    obj: ObjectDef
    objects: Mapping[str, ObjectDef]
    rules: bool = False


@dataclass(frozen=True)
class Step:
    """One field read along a path: ``field`` of ``object`` (a lookup, unless it is the last step)."""

    object: str
    field: str


@dataclass(frozen=True, eq=False)
class Checked:
    """A type-checked expression; compile it with ``to_sql`` or run it with ``evaluate``."""

    expression: Expression
    scope: Scope
    type: ExprType
    types: Mapping[int, ExprType] = field(repr=False)
    paths: Mapping[int, tuple[Step, ...]] = field(repr=False)

    @property
    def root(self) -> Node:
        return self.expression.root

    def type_of(self, node: Node) -> ExprType:
        return self.types[id(node)]

    def path_of(self, node: FieldRef) -> tuple[Step, ...]:
        return self.paths[id(node)]


def check(expression: Expression, scope: Scope, expect: ExprType | None = None) -> Checked:
    """Type-check ``expression`` in ``scope``; with ``expect``, its result must have that type."""
    checker = _Checker(expression, scope)
    result = checker.visit(expression.root)
    if expect is not None and result not in (expect, BLANK):
        raise expression.error(f"This expression gives a {result}, but a {expect} is needed here.", expression.root)
    if expect is not None:
        checker.coerce(expression.root, expect)
    return Checked(expression, scope, checker.types[id(expression.root)], checker.types, checker.paths)


class _Checker:
    def __init__(self, expression: Expression, scope: Scope) -> None:
        self.expression = expression
        self.scope = scope
        self.types: dict[int, ExprType] = {}
        self.paths: dict[int, tuple[Step, ...]] = {}

    def error(self, message: str, node: Node) -> Exception:
        return self.expression.error(message, node)

    def visit(self, node: Node) -> ExprType:
        if isinstance(node, Literal):
            result = node.type
        elif isinstance(node, FieldRef):
            result = self.field(node)
        elif isinstance(node, Unary):
            result = self.unary(node)
        elif isinstance(node, Binary):
            result = self.binary(node)
        elif isinstance(node, InList):
            result = self.in_list(node)
        else:
            result = self.call(node)
        self.types[id(node)] = result
        return result

    def coerce(self, node: Node, wanted: ExprType) -> None:
        """Give a BLANK-typed node (and the generic arguments it passes on) the type its place needs."""
        if self.types[id(node)] is not BLANK or wanted is BLANK:
            return
        self.types[id(node)] = wanted
        if isinstance(node, Call):
            if node.name == "CASE":
                passed = [a for i, a in enumerate(node.args[1:], 1) if i % 2 == 0 or i == len(node.args) - 1]
            else:
                function = FUNCTIONS[node.name]
                passed = [a for a, p in zip(node.args, _params(function, len(node.args)), strict=True) if p.generic]
            for arg in passed:
                self.coerce(arg, wanted)

    # -- fields ------------------------------------------------------------

    def field(self, node: FieldRef) -> ExprType:
        obj, steps = self.scope.obj, []
        for index, name in enumerate(node.path):
            last = index == len(node.path) - 1
            kind = self.field_type(obj, name, node)
            steps.append(Step(obj.api_name, name))
            if last:
                self.paths[id(node)] = tuple(steps)
                return kind
            if name in SYSTEM_TYPES or obj.field(name).type != "lookup":
                raise self.error(f"'{name}' is not a lookup field of {obj.api_name}, so '.' cannot follow it.", node)
            target = obj.field(name).target
            if target not in self.scope.objects:
                raise self.error(f"The lookup '{name}' points at '{target}', which does not exist.", node)
            obj = self.scope.objects[target]
        raise AssertionError("a field path is never empty")

    def field_type(self, obj: ObjectDef, name: str, node: FieldRef) -> ExprType:
        if name in SYSTEM_TYPES:
            return SYSTEM_TYPES[name]
        if not obj.has_field(name):
            names = [*SYSTEM_TYPES, *(f.api_name for f in obj.fields)]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else " Check the spelling against the object's fields."
            raise self.error(f"'{name}' is not a field of {obj.api_name}.{hint}", node)
        kind = obj.field(name).type
        if kind not in FIELD_TYPES:
            raise self.error(f"'{name}' is a {kind} field, which expressions cannot use yet.", node)
        return FIELD_TYPES[kind]

    # -- operators ---------------------------------------------------------

    def unary(self, node: Unary) -> ExprType:
        wanted = N if node.op == "-" else B
        self.operand(node.operand, wanted, f"'{node.op}'")
        return wanted

    def operand(self, node: Node, wanted: ExprType, where: str, got: ExprType | None = None) -> None:
        """Check (once: ``got`` is the type when already known) that an operand has the wanted type."""
        got = self.visit(node) if got is None else got
        if got not in (wanted, BLANK):
            hint = _HINTS.get(wanted, "")
            raise self.error(f"{where} needs a {wanted} here, but this is a {got}{'; ' + hint if hint else ''}.", node)
        self.coerce(node, wanted)

    def binary(self, node: Binary) -> ExprType:
        if node.op in ("AND", "OR"):
            self.operand(node.left, B, node.op)
            self.operand(node.right, B, node.op)
            return B
        if node.op == "&":
            self.operand(node.left, T, "'&'")
            self.operand(node.right, T, "'&'")
            return T
        if node.op in _ARITHMETIC:
            left = self.visit(node.left)
            if left in (D, DT) and node.op in ("+", "-"):
                raise self.error("To move a date by some days use ADD_DAYS(date, days); "
                                 "to count days between two dates use DAYS_BETWEEN(start, end).", node)
            self.operand(node.left, N, f"'{node.op}'", got=left)
            self.operand(node.right, N, f"'{node.op}'")
            return N
        self.same_types(node, [node.left, node.right], f"'{node.op}'")
        return B

    def in_list(self, node: InList) -> ExprType:
        self.same_types(node, [node.value, *node.items], "IN")
        return B

    def same_types(self, node: Node, operands: list[Node], what: str) -> ExprType:
        """Comparisons: all operands of one type, none of them the literal BLANK."""
        kinds = [self.visit(operand) for operand in operands]
        for operand, kind in zip(operands, kinds, strict=True):
            if kind is BLANK:
                raise self.error("A comparison with BLANK is never true; test with ISBLANK(value) instead.", operand)
        for operand, kind in zip(operands[1:], kinds[1:], strict=True):
            if kind is not kinds[0]:
                raise self.error(f"{what} compares a {kinds[0]} with a {kind}; both sides must have the same "
                                 "type (convert with TEXT(...), VALUE(...) or DATE(...)).", operand)
        return kinds[0]

    # -- functions ---------------------------------------------------------

    def call(self, node: Call) -> ExprType:
        function = FUNCTIONS.get(node.name)
        if function is None:
            close = difflib.get_close_matches(node.name, list(FUNCTIONS), n=1)
            hint = f"Did you mean {close[0]}?" if close else f"The functions are: {', '.join(sorted(FUNCTIONS))}."
            raise self.error(f"There is no function {node.name}. {hint}", node)
        if function.rules_only and not self.scope.rules:
            raise self.error(f"{node.name} compares a record with its saved version, so it can only be used in "
                             "validation rules; remove it here.", node)
        if node.name == "CASE":
            return self.case(node)
        count = len(node.args)
        if count < function.fewest or (count > len(function.params) and not function.variadic):
            raise self.error(f"{node.name} takes {_arity(function)}, not {count}: {function.usage}.", node)
        if function.field_argument and not (isinstance(node.args[0], FieldRef) and len(node.args[0].path) == 1):
            raise self.error(f"{node.name} takes a field of this record, such as {node.name}(stage).", node.args[0])
        return self.arguments(node, function)

    def arguments(self, node: Call, function: Function) -> ExprType:
        shared: ExprType = BLANK
        params = _params(function, len(node.args))
        for position, (arg, param) in enumerate(zip(node.args, params, strict=True), 1):
            got = self.visit(arg)
            if got is not BLANK and got not in param.types:
                allowed = " or ".join(sorted(str(t) for t in param.types))
                hint = _HINTS.get(next(iter(param.types)), "") if len(param.types) == 1 else ""
                raise self.error(f"Argument {position} of {node.name} ({param.name}) must be a {allowed}, but this "
                                 f"is a {got}{'; ' + hint if hint else ''}. Use {function.usage}.", arg)
            if param.generic and got is not BLANK:
                if shared is not BLANK and got is not shared:
                    raise self.error(f"The arguments of {node.name} must have one type, but this is a {got} and an "
                                     f"earlier one a {shared}. Use {function.usage}.", arg)
                shared = got
            if len(param.types) == 1:
                self.coerce(arg, next(iter(param.types)))
        for arg, param in zip(node.args, params, strict=True):
            if param.generic:
                self.coerce(arg, shared)
        return shared if function.result is None else function.result

    def case(self, node: Call) -> ExprType:
        args = node.args
        if len(args) < 4 or len(args) % 2:
            raise self.error(f"CASE takes a value, pairs of match and result, and a last result for no match: "
                             f"{FUNCTIONS['CASE'].usage}.", node)
        matches = [args[0], *args[1:-1:2]]
        self.same_types(node, matches, "CASE")
        results = [*args[2:-1:2], args[-1]]
        shared: ExprType = BLANK
        for result in results:
            got = self.visit(result)
            if got is not BLANK and shared is not BLANK and got is not shared:
                raise self.error(f"The results of CASE must have one type, but this is a {got} and an earlier one "
                                 f"a {shared}.", result)
            shared = got if got is not BLANK else shared
        for result in results:
            self.coerce(result, shared)
        return shared


def _params(function: Function, count: int) -> list:
    """The parameter each of ``count`` arguments fills (a variadic last parameter repeats)."""
    params = list(function.params[:count])
    return params + [function.params[-1]] * (count - len(params)) if count > len(params) else params


def _arity(function: Function) -> str:
    most = len(function.params)
    if function.variadic:
        return f"at least {max(function.fewest, 1)} arguments"
    if function.fewest == most:
        return f"{most} argument{'s' if most != 1 else ''}"
    return f"{function.fewest} to {most} arguments"


