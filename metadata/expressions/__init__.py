"""The expression language: text → tree (``parse``) → typed tree (``check``).

Excel-like formulas used by filters (the API's ``where=``), and later by formula
fields, validation rules, forms and automation conditions. This package only
reads and types the text; ``trellis.platform.expressions`` compiles a checked
tree to SQL (``to_sql``) and evaluates it in Python (``evaluate``).

Blank semantics, the same in SQL and in Python (the parity test holds them to it):

- A blank is a missing value (SQL NULL, Python None); ``ISBLANK`` also counts the
  empty text ``""`` as blank, and ``BLANKVALUE`` replaces both.
- Arithmetic and functions given a blank give a blank, except: ``&`` and
  ``CONCAT`` read a blank as ``""``; ``LEN`` of a blank is 0; ``CONTAINS`` is false;
  ``MIN``/``MAX`` skip blanks (blank only if all are); ``ISBLANK`` and ``ISCHANGED``
  are never blank. ``IF``/``CASE`` take the else branch for a blank condition or value.
- A comparison or ``IN`` with a blank operand is false (so ``NOT`` of it is true).
  A condition (``AND``/``OR``/``NOT``, ``IF``, ``where=``) reads a blank as false.
- Division by zero, ``VALUE`` of a text that is not a plain number
  (``-?digits[.digits]``), ``LEFT``/``RIGHT`` with a negative count, an invalid
  ``DATE`` and a date outside years 1-9999 give a blank. Counts, days and date
  parts are truncated toward zero; ``ROUND`` keeps 0 to 10 digits (half away from zero).
- ``TEXT`` writes numbers without trailing zeros, booleans as ``true``/``false``,
  dates as ``YYYY-MM-DD`` and date-times in UTC as ``YYYY-MM-DD HH:MM:SS``.
- Text comparisons are case-sensitive and by code point; ``CONTAINS`` is case-sensitive.

Caps: ``MAX_LENGTH`` characters, ``MAX_NODES`` parts, ``MAX_DEPTH`` levels of nesting,
``MAX_PATH`` lookups in a field path and 30 digits in a number; any other text is an
``ExpressionError`` with its position, never an exception of another kind.
"""

from .checker import FIELD_TYPES, SYSTEM_TYPES, Checked, Scope, Step, check
from .functions import FUNCTIONS, Function, Param
from .nodes import (
    Binary,
    Call,
    Expression,
    ExpressionError,
    ExprType,
    FieldRef,
    InList,
    Literal,
    Node,
    Unary,
    children,
)
from .parser import MAX_DEPTH, MAX_LENGTH, MAX_NODES, MAX_PATH, parse

__all__ = [
    "FIELD_TYPES", "FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "MAX_NODES", "MAX_PATH", "SYSTEM_TYPES", "Binary",
    "Call", "Checked", "ExprType", "Expression", "ExpressionError", "FieldRef", "Function", "InList", "Literal",
    "Node", "Param", "Scope", "Step", "Unary", "check", "children", "parse",
]
