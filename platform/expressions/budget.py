"""How big and how deeply nested an expression's SQL will be, estimated before it is built.

SQLite's parser has a fixed stack (about 100 entries) and some functions repeat an
argument in their SQL (a date is checked before it is built), so a short expression
could still make SQL that SQLite refuses or that grows exponentially. The weights
below were measured on SQLite (the tighter backend): ``ABS`` nests about 30 deep,
``IF`` about 18, ``DATE`` 3; an expression over the budget is refused with a clean
error before any SQL exists.
"""

from __future__ import annotations

from trellis.metadata.expressions import Binary, Call, Checked, FieldRef, InList, Node, Unary, children

#: Parser stack SQLite spends per node kind (functions not listed cost ``_CALL``).
_DEPTH = {"IF": 6, "CASE": 7, "BLANKVALUE": 7, "MIN": 10, "MAX": 10, "DATE": 35, "LEFT": 10, "RIGHT": 10,
          "ADD_DAYS": 15, "VALUE": 10, "TEXT": 8, "ROUND": 8, "CONTAINS": 6, "DAYS_BETWEEN": 6, "YEAR": 6,
          "MONTH": 6, "LEN": 5, "CONCAT": 5}
_CALL = 4
_OPERATOR = {"&": 4, "/": 4, "AND": 2, "OR": 2, "+": 2, "-": 2, "*": 2}
_COMPARISON = 4
_HOP = 6
#: How many times a function's SQL repeats each argument (at most; both dialects).
_REPEATS = {"DATE": 4, "VALUE": 8, "TEXT": 4, "LEFT": 2, "RIGHT": 4, "ADD_DAYS": 2}
MAX_SQL_DEPTH = 90
MAX_SQL_SIZE = 4000


def within_budget(checked: Checked) -> None:
    """Raise the expression's error if its SQL would nest too deeply or grow too large."""
    depth, size = _measure(checked.root)
    if depth > MAX_SQL_DEPTH or size > MAX_SQL_SIZE:
        raise checked.expression.error("The expression is too complex to run in the database; nest fewer "
                                       "functions (DATE, VALUE, TEXT and ADD_DAYS weigh most).", checked.root)


def _measure(node: Node) -> tuple[int, int]:
    """(nesting, size) of the node's SQL, by the weights above."""
    parts = [_measure(child) for child in children(node)]
    repeats = _REPEATS.get(node.name, 1) if isinstance(node, Call) else 1
    depth = _own_depth(node) + max((d for d, _ in parts), default=0)
    size = 1 + repeats * sum(s for _, s in parts)
    return depth, size


def _own_depth(node: Node) -> int:
    if isinstance(node, Call):
        return _DEPTH.get(node.name, _CALL)
    if isinstance(node, Binary):
        return _OPERATOR.get(node.op, _COMPARISON)
    if isinstance(node, InList):
        return _COMPARISON
    if isinstance(node, Unary):
        return 2
    if isinstance(node, FieldRef):
        return _HOP * (len(node.path) - 1)
    return 0
