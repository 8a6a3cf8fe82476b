"""The expression tree: immutable plain dataclasses, each carrying its offset in the source text.

A tree is built only by the parser (so it is always within the caps) and read by the
type checker, the SQL compiler and the Python evaluator; nothing in it is ever executed
as SQL or Python text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class ExprType(enum.Enum):
    """What an expression yields, known before it runs."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    #: The literal BLANK/NULL: fits wherever any other type is expected.
    BLANK = "blank"

    def __str__(self) -> str:
        return self.value


VALUE_TYPES = frozenset(t for t in ExprType if t is not ExprType.BLANK)


class ExpressionError(ValueError):
    """A problem with an expression's text, at an offset (0-based) into it."""

    def __init__(self, message: str, offset: int = 0, text: str = "") -> None:
        self.message = message
        self.offset = offset
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"{message} (at position {offset + 1}, line {self.line}, column {self.column})")

    def located(self, text: str) -> ExpressionError:
        """The same error with line and column computed against the full text."""
        return ExpressionError(self.message, self.offset, text)


Scalar = Decimal | str | bool | date | datetime | None


@dataclass(frozen=True)
class Literal:
    value: Scalar
    type: ExprType
    pos: int


@dataclass(frozen=True)
class FieldRef:
    """A field of the record, or a path through lookup fields (``account.owner.name``)."""

    path: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "NOT"
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / & = != < <= > >= AND OR
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class InList:
    value: Node
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Call:
    name: str  # upper case
    args: tuple[Node, ...]
    pos: int


Node = Literal | FieldRef | Unary | Binary | InList | Call


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node, in source order."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.value, *node.items)
    if isinstance(node, Call):
        return node.args
    return ()


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the tree and the text it came from (for error positions)."""

    text: str
    root: Node

    def error(self, message: str, node: Node) -> ExpressionError:
        return ExpressionError(message, node.pos, self.text)
