"""Values of each field type: what ``check_value`` (defaults in metadata) and the catalog's
marshmallow fields (what an integration sends) accept, refuse and how they explain it.

Two deliberate differences, tested as decisions:
- a decimal *default* in a metadata document must be a JSON number, while the record API also
  takes a numeric string ("0.10"), so an integration can send exact decimals through JSON;
- a lookup *default* must be a JSON integer, while the record API also takes ``42.0``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from trellis.metadata.fieldtypes import CATALOG
from trellis.metadata.validation import check_value

CHOICES = [{"value": "open", "label": "Open"}, {"value": "won", "label": "Won"}]


def field(kind: str, **options) -> dict:
    return {"api_name": "x", "label": "X", "type": kind, **options}


ACCEPTED = [
    (field("formula", expression="1"), None),
    (field("rollup", child_object="line", via="deal", function="count"), None),
    (field("text"), "a" * 255),
    (field("text", max_length=3), "abc"),
    (field("long_text"), "a" * 100_000),
    (field("integer"), 3),
    (field("integer"), 3.0),
    (field("integer"), -(2**63)),
    (field("integer", min=0, max=10), 10),
    (field("decimal"), 0.1),
    (field("decimal"), Decimal("0.30")),
    (field("decimal"), 10**15),
    (field("currency", scale=0), 5),
    (field("percent"), 999.99),
    (field("boolean"), False),
    (field("date"), "2024-02-29"),
    (field("datetime"), "2024-05-31T14:30:00Z"),
    (field("datetime"), "2024-05-31T14:30:00+02:00"),
    (field("datetime"), "2024-05-31T14:30:00"),
    (field("email"), "ana@example.com"),
    (field("phone"), "+44 20 7946 0958"),
    (field("phone"), "555-010-0199 / 12"),
    (field("url"), "https://example.com/path?q=1"),
    (field("picklist", values=CHOICES), "won"),
    (field("multi_picklist", values=CHOICES), ["open", "won"]),
    (field("multi_picklist", values=CHOICES), []),
    (field("lookup", target="account"), 42),
    (field("autonumber", format="DEAL-{0000}"), "DEAL-0042"),
    (field("autonumber", format="DEAL-{0000}"), "DEAL-12345"),
    (field("text"), None),
]

REFUSED = [
    (field("text", max_length=3), "abcd", "shorten it to at most 3"),
    (field("text"), 5, "put it in quotes"),
    (field("formula", expression="1"), 5, "computed from its expression"),
    (field("rollup", child_object="line", via="deal", function="count"), 5, "computed from child records"),
    (field("integer"), 3.5, "not a whole number"),
    (field("integer"), "7", "without quotes"),
    (field("integer"), True, "not a number"),
    (field("integer"), 2**63, "too large"),
    (field("integer", min=0), -1, "below the minimum of 0"),
    (field("integer", max=10), 11, "above the maximum of 10"),
    (field("decimal"), 1.234, "has 3 decimal places, but this field keeps 2"),
    (field("decimal"), 0.1 + 0.2, "decimal places"),
    (field("decimal"), 10**16, "at most 16 digits before the decimal point"),
    (field("decimal"), float("nan"), "not a number"),
    (field("decimal"), "0.1", "without quotes"),
    (field("percent"), 1000, "at most 3 digits"),
    (field("currency", scale=0), 5.5, "keeps 0"),
    (field("boolean"), None, "true or false"),
    (field("boolean"), "true", "true or false"),
    (field("boolean"), 0, "true or false"),
    (field("date"), "2024-02-30", "YYYY-MM-DD"),
    (field("date"), "31/05/2024", "YYYY-MM-DD"),
    (field("datetime"), "2024-05-31", "ISO 8601"),
    (field("email"), "ana@", "email address"),
    (field("phone"), "call me", "phone number"),
    # Decision (noted): a number starts with a digit or "+", so the US habit "(555) 010-0199" is refused.
    (field("phone"), "(555) 010-0199", "phone number"),
    (field("url"), "example.com", "http:// or https://"),
    (field("url"), "javascript:alert(1)", "http:// or https://"),
    (field("picklist", values=CHOICES), "Open", "use one of: open, won"),
    (field("multi_picklist", values=CHOICES), ["open", "lost"], "'lost' is not a value"),
    (field("multi_picklist", values=CHOICES), ["open", "open"], "chosen twice"),
    (field("multi_picklist", values=CHOICES), "open", "not a list"),
    (field("lookup", target="account"), 0, "pick an account record"),
    (field("lookup", target="account"), "42", "not a record id"),
    (field("autonumber", format="DEAL-{0000}"), "DEAL-1", "DEAL-{0000}"),
    (field("text", required=True), None, "A value is required"),
]


@pytest.mark.parametrize(("doc", "value"), ACCEPTED, ids=lambda x: x["type"] if isinstance(x, dict) else repr(x)[:20])
def test_check_value_accepts(doc: dict, value: object) -> None:
    assert check_value(doc, value) is None


@pytest.mark.parametrize(("doc", "value", "fragment"), REFUSED,
                         ids=lambda x: x["type"] if isinstance(x, dict) else repr(x)[:20])
def test_check_value_refuses_with_a_sentence(doc: dict, value: object, fragment: str) -> None:
    message = check_value(doc, value)
    assert message is not None and fragment in message
    assert message.endswith(".")


def test_check_value_covers_every_type() -> None:
    assert {doc["type"] for doc, _ in ACCEPTED} == set(CATALOG)
    assert {doc["type"] for doc, _, _ in REFUSED} == set(CATALOG) - {"long_text"} | {"text"}


# --- What the record API accepts: the catalog's marshmallow fields ------------------------------------------------

def load(kind: str, value: object, **options):
    return CATALOG[kind].make_field(options).deserialize(value)


def refused(kind: str, value: object, **options) -> str:
    with pytest.raises(ValidationError) as caught:
        load(kind, value, **options)
    return " ".join(map(str, caught.value.messages))


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (3.0, 3), (-7, -7)])
def test_integers_accept_whole_numbers(value: object, expected: int) -> None:
    assert load("integer", value) == expected


@pytest.mark.parametrize(("value", "fragment"), [
    (3.5, "not a whole number"), ("7", "whole number"), (True, "whole number"), (2**63, "too large"),
])
def test_integers_never_truncate_or_guess(value: object, fragment: str) -> None:
    assert fragment in refused("integer", value)


def test_integer_range_is_enforced() -> None:
    assert "greater than or equal to 0" in refused("integer", -1, min=0)


@pytest.mark.parametrize(("value", "expected"), [
    (0.1, Decimal("0.1")), ("0.30", Decimal("0.30")), ("1234567890123456.78", Decimal("1234567890123456.78")),
    (-5, Decimal(-5)), ("1e3", Decimal(1000)),
])
def test_decimals_are_exact(value: object, expected: Decimal) -> None:
    loaded = load("currency", value)
    assert isinstance(loaded, Decimal) and loaded == expected


@pytest.mark.parametrize(("value", "fragment"), [
    (0.1 + 0.2, "at most 2 decimal places"), ("1.234", "at most 2 decimal places"), ("NaN", "finite"),
    ("Infinity", "finite"), ("lots", "not a number"), (True, "Enter a number"), ("12345678901234567", "too large"),
])
def test_decimals_are_never_rounded(value: object, fragment: str) -> None:
    assert fragment in refused("currency", value)


def test_decimal_settings_change_what_fits() -> None:
    assert load("decimal", "0.0000000001", precision=20, scale=10) == Decimal("1E-10")
    assert "at most 0 decimal places" in refused("currency", "5.5", scale=0)
    assert "at most 3 digits" in refused("percent", 1000)


def test_datetimes_are_read_as_utc() -> None:
    assert load("datetime", "2024-05-31T14:30:00+02:00") == datetime(2024, 5, 31, 12, 30, tzinfo=UTC)
    assert load("datetime", "2024-05-31T14:30:00+02:00").utcoffset() == timedelta(0)
    assert load("datetime", "2024-05-31T14:30:00") == datetime(2024, 5, 31, 14, 30, tzinfo=UTC)
    aware = datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=-5))).isoformat()
    assert load("datetime", aware).hour == 14
    assert refused("datetime", "tomorrow")


def test_dates_booleans_and_text() -> None:
    assert load("date", "2024-02-29") == date(2024, 2, 29)
    assert refused("date", "2023-02-29")
    assert load("boolean", "true") is True and load("boolean", False) is False
    assert "Longer than maximum length 3" in refused("text", "abcd", max_length=3)
    assert load("long_text", "a" * 100_000)


@pytest.mark.parametrize(("kind", "good", "bad"), [
    ("email", "ana@example.com", "ana@"), ("phone", "+1 555 0100", "call me"),
    ("url", "https://example.com", "example.com"),
])
def test_contact_details_are_checked(kind: str, good: str, bad: str) -> None:
    assert load(kind, good) == good
    assert refused(kind, bad)


def test_picklists_accept_only_their_values() -> None:
    assert load("picklist", "won", values=CHOICES) == "won"
    assert refused("picklist", "lost", values=CHOICES) == "'lost' is not one of the values of this picklist: open, won."
    assert load("multi_picklist", ["open", "won"], values=CHOICES) == ["open", "won"]
    with pytest.raises(ValidationError):
        load("multi_picklist", ["open", "lost"], values=CHOICES)


def test_lookups_take_record_ids() -> None:
    assert load("lookup", 42) == 42 and load("lookup", 42.0) == 42
    assert refused("lookup", "42")


def test_decimals_dump_as_json_numbers() -> None:
    dump = CATALOG["currency"].make_field({}).serialize
    assert dump("x", {"x": Decimal("1250.50")}) == 1250.5
    assert dump("x", {"x": Decimal("1250.00")}) == 1250 and isinstance(dump("x", {"x": Decimal("1250.00")}), int)
    assert dump("x", {"x": None}) is None
