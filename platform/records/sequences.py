"""Autonumbers: per-field counters kept in the tenant's store.

The counter row is updated inside the record's own transaction, so a failed
insert does not burn a number on PostgreSQL and two inserts never share one.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, insert, update
from sqlalchemy.exc import IntegrityError

from trellis.metadata.model import FieldDef

from ..storage.stores import TenantStore
from ..storage.system import system_tables

_DIGITS = re.compile(r"\{(0+)\}")


def next_autonumber(conn: Connection, store: TenantStore, object_name: str, field: FieldDef) -> str:
    """The next formatted value of an autonumber field, e.g. ``DEAL-0042``."""
    return reserve_autonumbers(conn, store, object_name, field, 1)[0]


def reserve_autonumbers(conn: Connection, store: TenantStore, object_name: str, field: FieldDef,
                        count: int) -> list[str]:
    """The next ``count`` formatted values, taken with one update of the counter (batch writes)."""
    _, sequences = system_tables(store.schema)
    name = f"{object_name}.{field.id}"
    bump = (update(sequences).where(sequences.c.name == name)
            .values(last_value=sequences.c.last_value + count).returning(sequences.c.last_value))
    last = conn.execute(bump).scalar()
    if last is None:
        last = int(field.options.get("start", 1)) + count - 1
        try:
            with conn.begin_nested():
                conn.execute(insert(sequences).values(name=name, last_value=last))
        except IntegrityError:  # another writer created the counter first
            last = conn.execute(bump).scalar()
    return [format_autonumber(field.options["format"], number) for number in range(last - count + 1, last + 1)]


def format_autonumber(pattern: str, number: int) -> str:
    return _DIGITS.sub(lambda m: str(number).zfill(len(m.group(1))), pattern, count=1)
