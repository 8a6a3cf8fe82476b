"""What an expression may know beyond the record: who runs it, when, and (for rules) the saved record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

#: Reads a related record for a lookup path in Python: (object api_name, id) → the record, or None.
RecordReader = Callable[[str, int], Mapping[str, Any] | None]
#: The condition a related record must meet for a lookup path to read it in SQL: (object api_name, the
#: target table's alias) → condition; the user's record-level access, so a path never reads what they cannot.
PathGuard = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Context:
    """The inputs of USER(), TODAY(), NOW(), ISCHANGED() and PRIORVALUE().

    ``now`` is fixed once per use, so every row of a list and both the SQL and the
    Python side see the same instant; TODAY() is its date in UTC.
    """

    user_id: int | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: The record as saved before this change (None while it is being created).
    prior: Mapping[str, Any] | None = None
    #: How the Python evaluator follows lookup paths; SQL joins instead.
    read: RecordReader | None = None
    #: What a lookup path compiled to SQL may read of the records it reaches (None: everything).
    guard: PathGuard | None = None

    @property
    def utc_now(self) -> datetime:
        return self.now.astimezone(UTC) if self.now.tzinfo else self.now.replace(tzinfo=UTC)

    @property
    def today(self) -> date:
        return self.utc_now.date()
