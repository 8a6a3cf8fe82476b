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
    _, sequences = system_tables(store.schema)
    name = f"{object_name}.{field.id}"
    bump = (update(sequences).where(sequences.c.name == name)
            .values(last_value=sequences.c.last_value + 1).returning(sequences.c.last_value))
    number = conn.execute(bump).scalar()
    if number is None:
        number = int(field.options.get("start", 1))
        try:
            with conn.begin_nested():
                conn.execute(insert(sequences).values(name=name, last_value=number))
        except IntegrityError:  # another writer created the counter first
            number = conn.execute(bump).scalar()
    return format_autonumber(field.options["format"], number)


def format_autonumber(pattern: str, number: int) -> str:
    return _DIGITS.sub(lambda m: str(number).zfill(len(m.group(1))), pattern, count=1)
