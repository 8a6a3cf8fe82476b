"""A Pratt parser from tokens to the expression tree, within fixed caps.

Caps keep every accepted tree small and shallow, so compiling it to SQL or
evaluating it can never exhaust the stack or the database's patience: at most
``MAX_LENGTH`` characters, ``MAX_NODES`` nodes and ``MAX_DEPTH`` levels of nesting.
"""

from __future__ import annotations

from decimal import Decimal

from .lexer import Token, tokenize
from .nodes import Binary, Call, Expression, ExpressionError, ExprType, FieldRef, InList, Literal, Node, Unary, children

MAX_LENGTH = 4000
MAX_NODES = 500
MAX_DEPTH = 50
#: Lookup hops in a field path: ``account.owner.name`` is two.
MAX_PATH = 3

#: Left binding power of each infix operator; higher binds tighter.
_INFIX = {"OR": 10, "AND": 20, "=": 30, "!=": 30, "<>": 30, "<": 30, "<=": 30, ">": 30, ">=": 30, "IN": 30,
          "&": 40, "+": 50, "-": 50, "*": 60, "/": 60}
_NOT_BP = 25  # NOT binds looser than a comparison: NOT a = b is NOT (a = b)
_NEGATE_BP = 70
_KEYWORDS = {"AND", "OR", "NOT", "IN", "TRUE", "FALSE", "BLANK", "NULL"}


def parse(text: str) -> Expression:
    """The tree of ``text``, or an ``ExpressionError`` saying where and how to fix it."""
    if not isinstance(text, str):
        raise ExpressionError("An expression must be text.")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"An expression may be at most {MAX_LENGTH} characters long; shorten it.",
                              MAX_LENGTH, text)
    if not text.strip():
        raise ExpressionError("The expression is empty; write a formula such as amount > 1000.", 0, text)
    return Expression(text, _Parser(text).parse())


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nodes = 0
        self.depths: dict[int, int] = {}
        self.level = 0  # nesting of sub-expressions being read, parentheses included

    def parse(self) -> Node:
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise self.error(f"Unexpected {_describe(token)}; an operator such as AND or + may be missing.", token)
        return node

    # -- tokens ------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, op: str, why: str) -> Token:
        token = self.advance()
        if token.kind != "op" or token.text != op:
            raise self.error(f"Expected '{op}' {why}, found {_describe(token)}.", token)
        return token

    def error(self, message: str, token: Token) -> ExpressionError:
        return ExpressionError(message, token.pos, self.text)

    def make(self, node: Node) -> Node:
        """Count a new node against the caps."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"The expression has more than {MAX_NODES} parts; split it into simpler ones.",
                                  node.pos, self.text)
        depth = 1 + max((self.depths[id(c)] for c in children(node)), default=0)
        if depth > MAX_DEPTH:
            raise ExpressionError(f"The expression is nested more than {MAX_DEPTH} levels deep; simplify it.",
                                  node.pos, self.text)
        self.depths[id(node)] = depth
        return node

    # -- grammar -----------------------------------------------------------

    def expression(self, min_bp: int) -> Node:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise self.error(f"The expression is nested more than {MAX_DEPTH} levels deep; simplify it.", self.peek())
        left = self.prefix(self.advance())
        while True:
            token = self.peek()
            op = _infix_op(token, self.peek(1))
            if op is None or _INFIX[op] <= min_bp:
                self.level -= 1
                return left
            self.advance()
            left = self.infix(op, token, left)

    def prefix(self, token: Token) -> Node:
        if token.kind == "number":
            return self.make(Literal(Decimal(token.text), ExprType.NUMBER, token.pos))
        if token.kind == "string":
            return self.make(Literal(token.text, ExprType.TEXT, token.pos))
        if token.kind == "op" and token.text == "(":
            node = self.expression(0)
            self.expect(")", "to close the '(' opened earlier")
            return node
        if token.kind == "op" and token.text == "-":
            return self.make(Unary("-", self.expression(_NEGATE_BP), token.pos))
        if token.kind == "name":
            return self.name(token)
        raise self.error(f"Expected a value, a field or a function, found {_describe(token)}.", token)

    def name(self, token: Token) -> Node:
        word = token.text.upper()
        if word in ("TRUE", "FALSE"):
            return self.make(Literal(word == "TRUE", ExprType.BOOLEAN, token.pos))
        if word in ("BLANK", "NULL"):
            return self.make(Literal(None, ExprType.BLANK, token.pos))
        if word == "NOT":
            return self.make(Unary("NOT", self.expression(_NOT_BP), token.pos))
        if self.peek().kind == "op" and self.peek().text == "(":
            return self.call(word, token)
        if word in _KEYWORDS:
            raise self.error(f"Expected a value before {word}.", token)
        path = [token.text]
        while self.peek().kind == "op" and self.peek().text == ".":
            self.advance()
            part = self.advance()
            if part.kind != "name":
                raise self.error("Expected a field name after '.'.", part)
            path.append(part.text)
        if len(path) > MAX_PATH + 1:
            raise self.error(f"A field path may go through at most {MAX_PATH} lookups.", token)
        return self.make(FieldRef(tuple(path), token.pos))

    def call(self, name: str, token: Token) -> Node:
        self.expect("(", f"after {name}")
        args = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.expression(0))
            while self.peek().kind == "op" and self.peek().text == ",":
                self.advance()
                args.append(self.expression(0))
        self.expect(")", f"to close the arguments of {name}")
        return self.make(Call(name, tuple(args), token.pos))

    def infix(self, op: str, token: Token, left: Node) -> Node:
        if op == "IN":
            negated = token.text.upper() == "NOT"
            if negated:
                self.advance()  # the IN after NOT
            node = self.make(InList(left, self.in_items(), token.pos))
            return self.make(Unary("NOT", node, token.pos)) if negated else node
        right = self.expression(_INFIX[op])
        return self.make(Binary("!=" if op == "<>" else op, left, right, token.pos))

    def in_items(self) -> tuple[Node, ...]:
        self.expect("(", "after IN, to open the list of values")
        items = [self.expression(0)]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.advance()
            items.append(self.expression(0))
        self.expect(")", "to close the list of values after IN")
        return tuple(items)


def _infix_op(token: Token, following: Token) -> str | None:
    """The infix operator a token starts, if any (``NOT`` counts only as part of ``NOT IN``)."""
    if token.kind == "op":
        return token.text if token.text in _INFIX else None
    if token.kind != "name":
        return None
    word = token.text.upper()
    if word == "NOT" and following.kind == "name" and following.text.upper() == "IN":
        return "IN"
    return word if word in ("AND", "OR", "IN") else None


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    if token.kind == "string":
        return "a text in quotes"
    return f"'{token.text}'"
