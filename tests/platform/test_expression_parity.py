"""The expression language gives the same answer in the database (SQLite and PostgreSQL) as in Python.

Hypothesis writes random well-typed expressions over every function of the catalog
and random records; each expression runs once as SQL on a real table and once in
the Python evaluator. Generation keeps clear of the divergences documented in
``trellis.platform.expressions`` (binary floats on SQLite, non-ASCII case mapping):
numbers are whole or binary-exact fractions, divisors are 0 or powers of two, texts are ASCII.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from crm_kit import Crm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from trellis.metadata.expressions import FUNCTIONS, ExpressionError, ExprType, Scope, check, parse
from trellis.platform.expressions import Context, evaluate, to_condition, to_sql

N, T, B, D, DT = ExprType.NUMBER, ExprType.TEXT, ExprType.BOOLEAN, ExprType.DATE, ExprType.DATETIME

PARENT = {"api_name": "parent", "label": "Parent", "fields": [
    {"api_name": "name", "label": "Name", "type": "text"},
    {"api_name": "score", "label": "Score", "type": "decimal", "precision": 12, "scale": 2},
    {"api_name": "born", "label": "Born", "type": "date"},
]}
ITEM = {"api_name": "item", "label": "Item", "fields": [
    {"api_name": "title", "label": "Title", "type": "text"},
    {"api_name": "code", "label": "Code", "type": "picklist",
     "values": [{"value": v, "label": v} for v in ("a", "b", "12")]},
    {"api_name": "qty", "label": "Quantity", "type": "integer"},
    {"api_name": "price", "label": "Price", "type": "currency"},
    {"api_name": "flag", "label": "Flag", "type": "boolean"},
    {"api_name": "day", "label": "Day", "type": "date"},
    {"api_name": "moment", "label": "Moment", "type": "datetime"},
    {"api_name": "parent", "label": "Parent", "type": "lookup", "target": "parent"},
]}

FIELDS = {N: ["qty", "price", "parent.score", "id"], T: ["title", "code", "parent.name"], B: ["flag"],
          D: ["day", "parent.born"], DT: ["moment", "created_at"]}
TEXTS = ["", "abc", "Abc", "b", "12", "-3.5", "0.25", "1.2.3", "-", "x-1", "2.", ".5", "a""b", "ab'c"]
NUMBERS = ["0", "1", "2", "3", "10", "0.5", "2.25", "100", "2026"]
NOW = datetime(2026, 3, 15, 10, 30, 5, 250000, tzinfo=UTC)

maybe = st.one_of  # readability: maybe(st.none(), values)
dyadic = st.integers(-4000, 4000).map(lambda n: Decimal(n) / 4)
days = st.dates(date(1990, 1, 1), date(2030, 12, 31))
moments = st.datetimes(datetime(1990, 1, 1), datetime(2030, 12, 31)).map(lambda v: v.replace(tzinfo=UTC))
parents = st.fixed_dictionaries({"name": maybe(st.none(), st.sampled_from(TEXTS)),
                                 "score": maybe(st.none(), dyadic), "born": maybe(st.none(), days)})
items = st.fixed_dictionaries({
    "title": maybe(st.none(), st.sampled_from(TEXTS)), "code": maybe(st.none(), st.sampled_from(["a", "b", "12"])),
    "qty": maybe(st.none(), st.integers(-1000, 1000)), "price": maybe(st.none(), dyadic),
    "flag": maybe(st.none(), st.booleans()), "day": maybe(st.none(), days),
    "moment": maybe(st.none(), moments), "created_at": moments,
    "has_parent": st.booleans()})


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class Writer:
    """Writes random expression text of a wanted type from a hypothesis-controlled Random (plain Python is
    much faster than nested strategies, and the failing expression is printed whole anyway)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd

    def pick(self, options: list[str]) -> str:
        return self.rnd.choice(options)

    def leaf(self, kind: ExprType) -> str:
        literals = {N: NUMBERS, T: [quoted(t) for t in TEXTS], B: ["TRUE", "FALSE", "true"], D: ["TODAY()"],
                    DT: ["NOW()"]}[kind]
        return self.pick(FIELDS[kind] + literals)

    def write(self, kind: ExprType, depth: int = 3) -> str:
        if depth <= 0 or self.rnd.random() < 0.2:
            return self.leaf(kind)
        sub = lambda k=kind: self.write(k, depth - 1)  # noqa: E731
        own = {N: self.number, T: self.text, B: self.boolean, D: self.date, DT: self.datetime}[kind](sub)
        common = [
            lambda: f"IF({sub(B)}, {sub()}, {sub()})",
            lambda: f"CASE({sub(T)}, {self.leaf(T)}, {sub()}, {quoted(self.pick(TEXTS))}, {sub()}, {sub()})",
            lambda: f"BLANKVALUE({sub()}, {sub()})",
            lambda: f"IF({sub(B)}, BLANK, {sub()})",
        ]
        return self.rnd.choice(own + common)()

    def number(self, sub: Any) -> list[Any]:
        dated = lambda: sub(self.pick([D, DT]))  # noqa: E731
        return [
            lambda: f"({sub()} {self.pick(['+', '-', '*'])} {sub()})",
            lambda: f"({sub()} / {self.pick(['0', '2', '4', '0.5', '-2'])})",
            lambda: f"-{sub()}",
            lambda: f"YEAR({dated()})", lambda: f"MONTH({dated()})",
            lambda: f"DAYS_BETWEEN({dated()}, {dated()})",
            lambda: f"VALUE({sub(T)})", lambda: f"LEN({sub(T)})",
            lambda: f"ROUND({sub()}, {self.pick(['0', '1', '2', '-1', '12'])})", lambda: f"ROUND({sub()})",
            lambda: f"ABS({sub()})", lambda: f"MIN({sub()}, {sub()})", lambda: f"MAX({sub()}, {sub()}, {sub()})",
            lambda: "USER()",
        ]

    def text(self, sub: Any) -> list[Any]:
        count = lambda: self.pick(["-1", "0", "1", "2", "5", "qty", "0.5"])  # noqa: E731
        shown = lambda: self.pick(["qty", "3", "-7", "2.5", "price", sub(B), sub(D), sub(DT), sub(T)])  # noqa: E731
        return [
            lambda: f"({sub()} & {sub()})", lambda: f"CONCAT({sub()}, {sub()}, {sub()})",
            lambda: f"LEFT({sub()}, {count()})", lambda: f"RIGHT({sub()}, {count()})",
            lambda: f"UPPER({sub()})", lambda: f"LOWER({sub()})", lambda: f"TEXT({shown()})",
        ]

    def boolean(self, sub: Any) -> list[Any]:
        kind = lambda: self.pick([N, T, B, D, DT])  # noqa: E731
        ops = ["=", "!=", "<>", "<", "<=", ">", ">="]
        return [
            lambda k=None: (lambda k: f"({sub(k)} {self.pick(ops)} {sub(k)})")(kind()),
            lambda k=None: (lambda k: f"({sub(k)} IN ({sub(k)}, {self.leaf(k)}))")(kind()),
            lambda: f"({sub()} {self.pick(['AND', 'OR'])} {sub()})", lambda: f"NOT {sub()}",
            lambda: f"ISBLANK({sub(kind())})", lambda: f"CONTAINS({sub(T)}, {sub(T)})",
        ]

    def date(self, sub: Any) -> list[Any]:
        return [
            lambda: "DATE({}, {}, {})".format(
                self.pick(["2024", "2023", "0", "10000", "qty", "2.5"]),
                self.pick(["1", "2", "12", "13", "0", "MONTH(day)"]),
                self.pick(["1", "28", "29", "30", "31", "32", "DAYS_BETWEEN(day, TODAY())"])),
            lambda: f"ADD_DAYS({sub()}, {self.pick(['1', '-1', '365', 'qty', '3000000', '-800000', 'price'])})",
            lambda: f"MIN({sub()}, {sub()})", lambda: f"MAX({sub()}, {sub()})",
        ]

    def datetime(self, sub: Any) -> list[Any]:
        return [lambda: f"MIN({sub()}, {sub()})", lambda: f"MAX({sub()}, {sub()})"]


def same(sql_value: Any, python_value: Any) -> bool:
    if isinstance(sql_value, datetime) and sql_value.tzinfo is None:
        sql_value = sql_value.replace(tzinfo=UTC)
    if isinstance(sql_value, Decimal) and isinstance(python_value, Decimal):
        return abs(sql_value - python_value) <= Decimal("1e-9") * max(1, abs(python_value))
    return sql_value == python_value and type(sql_value) is type(python_value)


@pytest.fixture
def lab(crm: Crm) -> Crm:
    crm.create(PARENT, ITEM)
    return crm


def store(lab: Crm, values: dict[str, Any], parent: dict[str, Any]) -> tuple[dict, dict[int, dict]]:
    """Insert a parent and an item; return the item and the parents as the database gives them back."""
    tables = lab.runtime.tables
    row = {k: v for k, v in values.items() if k != "has_parent"}
    with lab.runtime.store.engine.begin() as conn:
        parent_id = conn.execute(insert(tables["parent"]).values(**parent).returning(tables["parent"].c.id)).scalar()
        row["parent"] = parent_id if values["has_parent"] else None
        item_id = conn.execute(insert(tables["item"]).values(**row).returning(tables["item"].c.id)).scalar()
        item = conn.execute(select(tables["item"]).where(tables["item"].c.id == item_id)).mappings().one()
        saved = conn.execute(select(tables["parent"]).where(tables["parent"].c.id == parent_id)).mappings().one()
    return dict(item), {parent_id: dict(saved)}


# No shrinking: a Random's choices do not shrink into a simpler expression, and a failure prints it whole.
@settings(max_examples=80, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), values=items, parent=parents)
def test_sql_and_python_agree(lab: Crm, rnd: random.Random, values: dict, parent: dict) -> None:
    runtime = lab.runtime
    scope = Scope(runtime.objects["item"], runtime.objects)
    writer = Writer(rnd)
    texts = [writer.write(kind) for kind in (N, T, B, D, DT, N, T, B, N, T)]
    checked = [check(parse(text), scope) for text in texts]
    item, saved_parents = store(lab, values, parent)
    context = Context(user_id=42, now=NOW, read=lambda obj, rid: saved_parents.get(rid))
    table = runtime.tables["item"]
    columns = [to_sql(c, table, context).label(f"e{i}") for i, c in enumerate(checked)]
    with runtime.store.engine.connect() as conn:
        got = conn.execute(select(*columns).where(table.c.id == item["id"])).one()
        matched = {text: conn.execute(select(table.c.id).where(table.c.id == item["id"], to_condition(
            c, table, context))).first() is not None for text, c in zip(texts, checked, strict=True) if c.type is B}
    for text, c, sql_value in zip(texts, checked, got, strict=True):
        python_value = evaluate(c, item, context)
        assert same(sql_value, python_value), f"{text}: SQL gave {sql_value!r}, Python {python_value!r}"
        if c.type is B:
            assert matched[text] is (python_value is True), f"{text} as a condition"


@settings(max_examples=30, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), values=items, parent=parents)
def test_big_expressions_run_or_are_refused_cleanly(lab: Crm, rnd: random.Random, values: dict, parent: dict) -> None:
    """Deeply nested expressions never reach the database as SQL it cannot parse or that grows without bound."""
    runtime = lab.runtime
    scope = Scope(runtime.objects["item"], runtime.objects)
    item, saved_parents = store(lab, values, parent)
    context = Context(user_id=42, now=NOW, read=lambda obj, rid: saved_parents.get(rid))
    table = runtime.tables["item"]
    for kind in (N, T, B, D):
        try:
            checked = check(parse(Writer(rnd).write(kind, depth=9)), scope)
            column = to_sql(checked, table, context)
        except ExpressionError:
            continue
        with runtime.store.engine.connect() as conn:
            conn.execute(select(column).where(table.c.id == item["id"])).one()
        evaluate(checked, item, context)


def test_nesting_that_sqlite_could_not_parse_is_refused_before_it_runs(lab: Crm) -> None:
    scope = Scope(lab.runtime.objects["item"], lab.runtime.objects)
    for text in ["DATE(YEAR(" * 3 + "TODAY()" + "), 1, 1)" * 3, "VALUE(TEXT(" * 3 + "qty" + "))" * 3,
                 "ABS(" * 40 + "qty" + ")" * 40]:
        with pytest.raises(ExpressionError, match="too complex"):
            to_sql(check(parse(text), scope), lab.runtime.tables["item"])


def test_the_generator_writes_every_function_but_the_rules_only_ones() -> None:
    writer = Writer(random.Random(0))
    written = " ".join(writer.write(kind) for _ in range(60) for kind in (N, T, B, D, DT))
    called = {name for name in FUNCTIONS if f"{name}(" in written}
    assert called == {name for name, function in FUNCTIONS.items() if not function.rules_only}


def test_rules_compare_a_record_with_its_saved_version_in_python_only(lab: Crm) -> None:
    objects = lab.runtime.objects
    rule = check(parse('ISCHANGED(code) AND PRIORVALUE(code) = "a" AND PRIORVALUE(qty) < qty'),
                 Scope(objects["item"], objects, rules=True))
    saved = {"code": "a", "qty": 1}
    assert evaluate(rule, {"code": "b", "qty": 2}, Context(prior=saved)) is True
    assert evaluate(rule, {"code": "a", "qty": 2}, Context(prior=saved)) is False
    assert evaluate(rule, {"code": "b", "qty": 2}, Context()) is False  # a new record has changed nothing
    with pytest.raises(ExpressionError, match="cannot run in the database"):
        to_sql(rule, lab.runtime.tables["item"])
