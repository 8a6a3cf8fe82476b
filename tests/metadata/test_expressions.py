"""The expression language's text side: parsing, types, caps, and only clean errors for any input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.metadata.expressions import (
    FIELD_TYPES,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    Binary,
    Call,
    ExpressionError,
    ExprType,
    FieldRef,
    InList,
    Literal,
    Scope,
    Unary,
    check,
    parse,
)
from trellis.metadata.fieldtypes import CATALOG
from trellis.metadata.model import ObjectDef, with_ids

ACCOUNT = ObjectDef.from_document(with_ids({"api_name": "account", "label": "Account", "fields": [
    {"api_name": "name", "label": "Name", "type": "text"},
    {"api_name": "industry", "label": "Industry", "type": "picklist", "values": [{"value": "retail", "label": "R"}]},
    {"api_name": "parent", "label": "Parent", "type": "lookup", "target": "account"},
]}))
DEAL = ObjectDef.from_document(with_ids({"api_name": "deal", "label": "Deal", "fields": [
    {"api_name": "name", "label": "Name", "type": "text"},
    {"api_name": "amount", "label": "Amount", "type": "currency"},
    {"api_name": "seats", "label": "Seats", "type": "integer"},
    {"api_name": "hot", "label": "Hot", "type": "boolean"},
    {"api_name": "close_date", "label": "Close", "type": "date"},
    {"api_name": "stage", "label": "Stage", "type": "picklist", "values": [{"value": "won", "label": "Won"}]},
    {"api_name": "tags", "label": "Tags", "type": "multi_picklist", "values": [{"value": "x", "label": "X"}]},
    {"api_name": "account", "label": "Account", "type": "lookup", "target": "account"},
]}))
SCOPE = Scope(DEAL, {"deal": DEAL, "account": ACCOUNT})
RULES = Scope(DEAL, SCOPE.objects, rules=True)


def type_of(text: str, scope: Scope = SCOPE) -> ExprType:
    return check(parse(text), scope).type


def error_of(text: str, scope: Scope = SCOPE) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        check(parse(text), scope)
    return caught.value


def test_operators_bind_as_in_a_spreadsheet():
    root = parse("1 + 2 * -3 > 4 AND NOT a = b OR c").root
    assert isinstance(root, Binary) and root.op == "OR"
    both = root.left
    assert isinstance(both, Binary) and both.op == "AND"
    compare, negated = both.left, both.right
    assert compare.op == ">" and compare.left.op == "+" and compare.left.right.op == "*"
    assert isinstance(compare.left.right.right, Unary) and compare.left.right.right.op == "-"
    assert isinstance(negated, Unary) and negated.op == "NOT" and negated.operand.op == "="


def test_the_tree_is_plain_immutable_data_with_positions():
    root = parse('IF(amount >= 1000.50, "it""s big", BLANK)').root
    assert isinstance(root, Call) and root.name == "IF" and root.pos == 0
    test, then, other = root.args
    assert test == Binary(">=", FieldRef(("amount",), 3), Literal(Decimal("1000.50"), ExprType.NUMBER, 13), 10)
    assert then == Literal('it"s big', ExprType.TEXT, 22) and other.type is ExprType.BLANK
    with pytest.raises(AttributeError):
        root.name = "CASE"


def test_keywords_and_functions_are_case_insensitive_and_not_in_works():
    root = parse("stage not in ('won', 'lost') and isblank(name)").root
    assert isinstance(root.left, Unary) and isinstance(root.left.operand, InList)
    assert root.right.name == "ISBLANK"
    assert type_of("upper(name) <> lower(name)") is ExprType.BOOLEAN


@pytest.mark.parametrize(("text", "kind"), [
    ("amount * 2 - seats / 3", ExprType.NUMBER),
    ('name & " (" & stage & ")"', ExprType.TEXT),
    ("account.industry", ExprType.TEXT),
    ("account.parent.parent.name", ExprType.TEXT),
    ("IF(hot, amount, BLANK)", ExprType.NUMBER),
    ('CASE(stage, "won", 1, "lost", 0, BLANK)', ExprType.NUMBER),
    ("ADD_DAYS(close_date, 30)", ExprType.DATE),
    ("DAYS_BETWEEN(created_at, TODAY())", ExprType.NUMBER),
    ("MAX(close_date, TODAY(), DATE(2025, 1, 31))", ExprType.DATE),
    ("NOW()", ExprType.DATETIME),
    ('TEXT(amount) & TEXT(hot) & TEXT(close_date)', ExprType.TEXT),
    ("ROUND(VALUE(name), 2) + LEN(name) + ABS(MIN(seats, 3)) + YEAR(NOW()) + MONTH(close_date)", ExprType.NUMBER),
    ('CONTAINS(LEFT(name, 3) & RIGHT(name, 2), CONCAT("a", "b"))', ExprType.BOOLEAN),
    ("BLANKVALUE(account, USER()) = owner", ExprType.BOOLEAN),
    ("BLANK", ExprType.BLANK),
])
def test_result_types_are_known_before_running(text, kind):
    assert type_of(text) is kind


@pytest.mark.parametrize(("text", "position", "words"), [
    ('amount + "x"', 10, "VALUE("),
    ("seats > name", 9, "same type"),
    ("close_date + 1", 12, "ADD_DAYS"),
    ("amunt", 1, "Did you mean 'amount'"),
    ("account.industri", 1, "not a field of account"),
    ("name.first", 1, "not a lookup field"),
    ("tags", 1, "cannot use"),
    ("FOO(1)", 1, "no function FOO"),
    ("IFF(hot, 1, 2)", 1, "Did you mean IF"),
    ("LEFT(name)", 1, "LEFT(text, count)"),
    ("IF(hot, 1, \"one\")", 12, "one type"),
    ("CASE(stage, 1, 2, 3)", 13, "same type"),
    ("CASE(stage, \"a\", 1)", 1, "pairs of match and result"),
    ("MIN(name, name)", 5, "date or datetime or number"),
    ("amount = BLANK", 10, "ISBLANK"),
    ("ISCHANGED(stage)", 1, "validation rules"),
    ("NOT amount", 5, "needs a boolean"),
])
def test_type_errors_say_where_and_how_to_fix(text, position, words):
    error = error_of(text)
    assert error.offset + 1 == position and words in str(error), str(error)
    assert f"position {position}," in str(error)


def test_rules_only_functions_need_a_rule_and_a_field_of_the_record():
    assert type_of("ISCHANGED(stage) AND PRIORVALUE(stage) = \"won\"", RULES) is ExprType.BOOLEAN
    assert type_of("PRIORVALUE(amount) * 2", RULES) is ExprType.NUMBER
    assert "field of this record" in str(error_of("ISCHANGED(account.name)", RULES))


@pytest.mark.parametrize(("text", "position", "words"), [
    ("amount >", 9, "Expected a value"),
    ("(amount > 1", 12, "')'"),
    ('name = "abc', 8, "no closing"),
    ("amount # 2", 8, "Unexpected character"),
    ("amount 2", 8, "operator such as AND"),
    ("", 1, "empty"),
    ("a.b.c.d.e", 1, "at most 3 lookups"),
    ("1" * 31, 1, "at most 30 digits"),
    ('"a\x00b"', 1, "NUL"),
])
def test_syntax_errors_say_where_and_how_to_fix(text, position, words):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.offset + 1 == position and words in str(caught.value), str(caught.value)


def test_errors_on_later_lines_give_line_and_column():
    error = error_of('amount > 1\nAND name = 2')
    assert (error.line, error.column) == (2, 12)


def test_caps_on_length_nodes_and_depth():
    assert "at most 4000 characters" in str(pytest.raises(ExpressionError, parse, "1" + " " * MAX_LENGTH).value)
    assert "parts" in str(pytest.raises(ExpressionError, parse, f"MAX({', '.join(['1'] * MAX_NODES)})").value)
    deep = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    assert "nested" in str(pytest.raises(ExpressionError, parse, deep).value)
    assert "nested" in str(pytest.raises(ExpressionError, parse, "ABS(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH).value)
    assert "nested" in str(pytest.raises(ExpressionError, parse, "-" * 3000 + "1").value)
    parse("ABS(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1))


def test_checking_takes_one_pass_over_the_tree():
    """Each node is typed once (typing an operand twice per level would take 2^50 steps here)."""
    chain = "(" * 40 + "amount" + " + 1)" * 40
    assert type_of(chain) is ExprType.NUMBER
    assert type_of("IF(" * 24 + "hot" + ", hot, hot)" * 24) is ExprType.BOOLEAN


def test_every_field_type_of_the_catalog_is_mapped_or_refused_by_name():
    # formulas and rollups stand in by their result type: trellis.metadata.formulas and trellis.metadata.rollups
    assert set(FIELD_TYPES) | {"multi_picklist", "formula", "rollup"} == set(CATALOG)


ALPHABET = st.sampled_from(list('abcdeIFNOTANDORIN()",.+-*/&=<>!\' 0123456789_\n') + ["amount", "account.", "BLANK",
                                                                                      "CASE(", "DATE(", "\x00"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(ALPHABET, max_size=40).map("".join)))
def test_any_text_is_a_tree_or_a_clean_error(text):
    try:
        checked = check(parse(text), SCOPE)
    except ExpressionError as error:
        assert 0 <= error.offset <= len(text) and error.message
    else:
        assert checked.type in ExprType
