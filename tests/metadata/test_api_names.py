"""API names: the rules, their explanations and their suggestions.

(That every accepted name really works unquoted on SQLite and PostgreSQL is a property
tested against both databases in tests/platform/test_storage.py.)
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.metadata import names
from trellis.metadata.model import SYSTEM_FIELDS


def test_the_system_columns_are_the_models_system_fields() -> None:
    assert names.SYSTEM_COLUMNS == SYSTEM_FIELDS


@pytest.mark.parametrize("name", ["deal", "close_date", "a", "x1", "amount_2024", "a" * 63, "sqlite_ish_field"])
def test_plain_snake_case_names_are_accepted(name: str) -> None:
    assert names.api_name_problem(name, kind="field") is None


def test_reserved_words_of_both_databases_are_refused() -> None:
    for word in ("select", "order", "user", "group", "table", "analyse", "pragma", "vacuum", "autoincrement",
                 "system_user", "ilike", "returning"):
        assert word in names.RESERVED_WORDS
        assert "reserved SQL word" in names.api_name_problem(word, kind="object")


@pytest.mark.parametrize("word", sorted(names.RESERVED_WORDS))
def test_every_suggestion_for_a_reserved_word_is_itself_acceptable(word: str) -> None:
    message = names.api_name_problem(word, kind="field")
    suggested = re.search(r"try (\w+) or (\w+)\.$", message).groups()
    for name in suggested:
        assert names.api_name_problem(name, kind="field") is None, (word, name)


@pytest.mark.parametrize("column", [*names.SYSTEM_COLUMNS, *sorted(names.DATABASE_COLUMNS)])
def test_every_suggestion_for_a_system_column_is_itself_acceptable(column: str) -> None:
    message = names.api_name_problem(column, kind="field")
    for name in re.search(r"try (\w+) or (\w+)\.$", message).groups():
        assert names.api_name_problem(name, kind="field") is None


@given(st.text(max_size=80))
def test_any_text_gets_a_verdict_and_accepted_names_match_the_pattern(text: str) -> None:
    problem = names.api_name_problem(text, kind="field")
    if problem is None:
        assert re.fullmatch(names.API_NAME_PATTERN, text)
        assert text not in names.RESERVED_WORDS | set(names.SYSTEM_COLUMNS) | names.DATABASE_COLUMNS
    else:
        assert problem.endswith(".")


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40))
def test_the_example_in_a_shape_message_is_a_valid_name(text: str) -> None:
    """'Deal Name' is not valid … (for example deal_name): the offered example must itself work."""
    problem = names.shape_problem(text)
    match = problem and re.search(r"\((?:for example )?([a-z0-9_]+)\)\.$", problem)
    if match:
        assert names.api_name_problem(match.group(1), kind="field") is None, problem


def test_the_example_keeps_what_the_admin_meant() -> None:
    assert "(for example deal_name)" in names.shape_problem("Deal Name")
    assert "(score)" in names.shape_problem("trellis_score")
    assert "(order_date)" in names.shape_problem("__")
