"""Storage engine: each object is a real table a BI tool can read (both backends).

PostgreSQL keeps a tenant in its own schema, the embedded default in its own SQLite file;
the inspector is pointed at the tenant's schema (None on SQLite).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from crm_kit import ACCOUNT, DEAL, Crm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from trellis.metadata import names
from trellis.metadata.model import SYSTEM_FIELDS
from trellis.tenants.registry import create_tenant

#: Words that are keywords somewhere but not reserved where an unquoted column or table name stands
#: (PostgreSQL's unreserved and column-name keywords, SQLite's fallback identifiers, functions, types).
TRICKY_WORDS = [
    "between", "bigint", "bit", "boolean", "char", "character", "coalesce", "dec", "decimal", "exists", "extract",
    "float", "greatest", "grouping", "inout", "int", "integer", "interval", "least", "national", "nchar", "none",
    "normalize", "nullif", "numeric", "out", "overlay", "position", "precision", "real", "row", "setof", "smallint",
    "substring", "time", "timestamp", "treat", "trim", "varchar", "xmlelement", "abort", "action", "after",
    "also", "always", "attribute", "before", "begin", "by", "cache", "called", "cascade", "comment", "commit",
    "content", "cost", "cycle", "data", "day", "document", "domain", "double", "each", "enum", "event", "external",
    "family", "filter", "first", "following", "force", "function", "generated", "global", "handler", "header",
    "hold", "hour", "identity", "import", "include", "inherit", "input", "key", "label", "language", "large",
    "last", "level", "local", "location", "lock", "mapping", "match", "method", "minute", "mode", "month", "move",
    "name", "names", "new", "next", "nothing", "nulls", "object", "of", "off", "oids", "old", "option", "options",
    "over", "owned", "parser", "partial", "partition", "password", "plans", "policy", "prepare", "prior",
    "procedure", "program", "publication", "quote", "range", "read", "ref", "referencing", "relative", "reset",
    "restart", "returns", "role", "routine", "rows", "rule", "schema", "scroll", "search", "second", "security",
    "sequence", "server", "session", "share", "show", "simple", "skip", "snapshot", "sql", "stable", "standalone",
    "start", "statement", "statistics", "stdin", "storage", "strict", "subscription", "support", "sysid", "system",
    "tables", "tablespace", "temp", "text", "ties", "type", "types", "uncommitted", "unknown", "until", "valid",
    "validator", "value", "version", "view", "views", "volatile", "whitespace", "within", "without", "work",
    "wrapper", "write", "xml", "year", "yes", "zone", "rowid", "oid", "main", "temp", "sqlite_master", "score",
]


def test_an_object_is_a_real_table_with_readable_columns(crm: Crm) -> None:
    crm.sales()
    assert {"account", "deal"} <= crm.tables()
    columns = crm.columns("deal")
    assert list(columns)[:7] == list(SYSTEM_FIELDS)
    assert list(columns)[7:] == [f["api_name"] for f in DEAL["fields"]]
    assert not columns["id"]["nullable"] and not columns["version"]["nullable"]
    assert not columns["name"]["nullable"] and columns["partner"]["nullable"]
    assert columns["name"]["type"].length == 255
    assert crm.columns("account")["name"]["type"].length == 200
    assert columns["contact_email"]["type"].length == 254
    assert (columns["amount"]["type"].precision, columns["amount"]["type"].scale) == (18, 2)
    assert (columns["ratio"]["type"].precision, columns["ratio"]["type"].scale) == (12, 6)


def test_a_bi_tool_can_read_records_by_plain_names(crm: Crm) -> None:
    crm.sales()
    account = crm.records.create("account", {"name": "Acme"})
    crm.records.create("deal", {"name": "Big one", "account": account["id"], "amount": "1250.50"})
    rows = crm.sql("SELECT d.number, d.name, a.name, d.amount, d.stage FROM {t}deal d "
                   "JOIN {t}account a ON a.id = d.account")
    [(number, name, account_name, amount, stage)] = rows
    assert (number, name, account_name, Decimal(str(amount)), stage) == ("DEAL-0001", "Big one", "Acme",
                                                                        Decimal("1250.50"), "new")


def test_lookups_are_foreign_keys_with_their_delete_rule(crm: Crm) -> None:
    crm.sales()
    keys = {fk["constrained_columns"][0]: fk for fk in crm.inspector().get_foreign_keys("deal", schema=crm.schema)}
    assert set(keys) == {"account", "partner"}
    for fk in keys.values():
        assert fk["referred_table"] == "account" and fk["referred_columns"] == ["id"]
        assert fk["referred_schema"] == crm.schema
    assert keys["account"]["options"]["ondelete"] == "RESTRICT"
    assert keys["partner"]["options"]["ondelete"] == "SET NULL"


def test_a_required_lookup_restricts_deletion_even_if_set_null_was_asked(crm: Crm) -> None:
    crm.create(ACCOUNT, {"api_name": "contact", "label": "Contact", "fields": [
        {"api_name": "account", "label": "Account", "type": "lookup", "target": "account", "required": True}]})
    [fk] = crm.inspector().get_foreign_keys("contact", schema=crm.schema)
    assert fk["options"]["ondelete"] == "RESTRICT", "SET NULL would break NOT NULL"


def test_database_deletes_follow_the_rule_too(crm: Crm) -> None:
    """A row deleted by hand (a BI tool, a script) cannot orphan a deal either."""
    crm.sales()
    acme = crm.records.create("account", {"name": "Acme"})["id"]
    other = crm.records.create("account", {"name": "Other"})["id"]
    crm.records.create("deal", {"name": "D", "account": other, "partner": acme})
    crm.sql("DELETE FROM {t}account WHERE id = :id", id=acme)
    assert crm.sql("SELECT partner FROM {t}deal") == [(None,)]
    with pytest.raises(Exception, match="(?i)foreign key"):
        crm.sql("DELETE FROM {t}account WHERE id = :id", id=other)


def test_unique_and_plain_indexes(crm: Crm) -> None:
    crm.sales()
    indexes = {ix["name"]: ix for ix in crm.inspector().get_indexes("deal", schema=crm.schema)}
    shape = {name: (ix["column_names"], bool(ix["unique"])) for name, ix in indexes.items()}
    assert shape == {
        "ix_deal_owner": (["owner"], False),
        "uq_deal_number": (["number"], True),  # autonumbers are always unique
        "ix_deal_name": (["name"], False),  # indexed: true
        "ix_deal_account": (["account"], False),  # lookups are indexed for joins
        "ix_deal_partner": (["partner"], False),
        "uq_deal_contact_email": (["contact_email"], True),
    }
    account = {ix["name"]: ix["unique"] for ix in crm.inspector().get_indexes("account", schema=crm.schema)}
    assert account == {"ix_account_owner": False, "uq_account_name": True}


def test_the_unique_index_holds_even_around_the_record_service(crm: Crm) -> None:
    crm.create(ACCOUNT)
    crm.records.create("account", {"name": "Acme"})
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        crm.sql("INSERT INTO {t}account (name, created_at, updated_at, version) "
                "VALUES ('Acme', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)")


def test_tenants_are_isolated(crm: Crm) -> None:
    crm.create(ACCOUNT)
    crm.records.create("account", {"name": "Acme"})
    second = Crm(crm.platform, f"t-{uuid.uuid4().hex[:12]}", crm.actor)
    create_tenant(crm.platform, second.slug)
    assert "account" not in second.tables()
    second.create(ACCOUNT)
    assert second.records.list("account").records == []
    assert [r["name"] for r in crm.records.list("account").records] == ["Acme"]
    if crm.schema:
        assert crm.schema != second.schema
        assert crm.schema == "tenant_" + crm.slug.replace("-", "_")
    else:
        assert crm.runtime.store.engine.url != second.runtime.store.engine.url


def works_unquoted(crm: Crm, names_: list[str]) -> None:
    """Each name can be a table and a column, written by hand without quotes (then all is rolled back)."""
    prefix = f'"{crm.schema}".' if crm.schema else ""
    with crm.runtime.store.engine.connect() as conn, conn.begin() as transaction:
        for name in names_:
            conn.execute(text(f"CREATE TABLE {prefix}{name} (id integer PRIMARY KEY, {name} integer)"))
            conn.execute(text(f"INSERT INTO {prefix}{name} (id, {name}) VALUES (1, 2)"))
            row = conn.execute(text(f"SELECT {name}.{name} FROM {prefix}{name} WHERE {name} = 2 ORDER BY {name}"))
            assert row.all() == [(2,)], name
        transaction.rollback()


def accepted(name: str) -> bool:
    return not names.api_name_problem(name, kind="field") and not names.api_name_problem(name, kind="object")


def test_keywords_the_validator_lets_through_work_unquoted(crm: Crm) -> None:
    candidates = [word for word in sorted(set(TRICKY_WORDS) | names.RESERVED_WORDS) if accepted(word)]
    assert len(candidates) > 150 and not set(candidates) & names.RESERVED_WORDS
    works_unquoted(crm, candidates)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(names.API_NAME_PATTERN, fullmatch=True).filter(accepted))
def test_every_accepted_api_name_works_unquoted(crm: Crm, name: str) -> None:
    works_unquoted(crm, [name])
