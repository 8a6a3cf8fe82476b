"""Run expressions of ``trellis.metadata.expressions``: in the database (``to_sql``, ``to_condition``)
and in Python (``evaluate``), with the same answers on SQLite, PostgreSQL and Python.

Known, documented divergences (the parity test keeps clear of them):

- SQLite has no exact decimal type: its arithmetic is binary floating point, so
  results can differ from PostgreSQL's NUMERIC and Python's Decimal in the last
  digits (the parity test compares numbers to 9 significant digits), and ROUND of a
  value that is exactly halfway in decimal may round the other way on SQLite.
- TEXT of a number that is not a whole number, or beyond 2^63, is written by
  SQLite's float formatting (``1.0e+20``); whole numbers and short decimals agree.
- UPPER and LOWER change only ASCII letters on SQLite (``UPPER('ß')`` is ``'ß'``
  there, ``'SS'`` in Python); PostgreSQL follows its collation.
"""

from trellis.metadata.expressions import Checked, ExprType, Scope, check, parse

from .budget import MAX_SQL_DEPTH, MAX_SQL_SIZE
from .context import Context, RecordReader
from .evaluate import evaluate
from .sql import ExprNumber, to_condition, to_sql

__all__ = ["MAX_SQL_DEPTH", "MAX_SQL_SIZE", "Checked", "Context", "ExprNumber", "ExprType", "RecordReader", "Scope",
           "check", "evaluate", "parse", "to_condition", "to_sql"]
