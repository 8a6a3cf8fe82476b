"""Split an expression's text into tokens; anything that is not a token is a positioned error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .nodes import ExpressionError

#: The longest number literal, in digits: far beyond any CRM value, small enough for every backend.
MAX_DIGITS = 30

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r\n]+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|[-+*/&=<>(),.])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] in "\"'":
            token, pos = _string(text, pos)
            tokens.append(token)
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(f"Unexpected character {text[pos]!r}; remove it or put the text in quotes.",
                                  pos, text)
        kind = match.lastgroup or ""
        if kind == "number" and len(match.group().replace(".", "")) > MAX_DIGITS:
            raise ExpressionError(f"A number may have at most {MAX_DIGITS} digits.", pos, text)
        if kind != "space":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _string(text: str, start: int) -> tuple[Token, int]:
    """A quoted text; the quote character is written twice to include it: 'it''s'."""
    quote, pos, parts = text[start], start + 1, []
    while True:
        end = text.find(quote, pos)
        if end < 0:
            raise ExpressionError(f"This text has no closing {quote}; add one at its end.", start, text)
        parts.append(text[pos:end])
        if text.startswith(quote * 2, end):
            parts.append(quote)
            pos = end + 2
            continue
        value = "".join(parts)
        if "\x00" in value:
            raise ExpressionError("Text may not contain the NUL character.", start, text)
        return Token("string", value, start), end + 1
