"""The record service (both backends): what an end user or an integration sees when writing records.

Uses the account and deal objects of crm_kit: deal.account is a required, restricting lookup,
deal.partner an optional one that is cleared when its account goes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from crm_kit import Crm

from trellis.platform.errors import Conflict, InvalidInput, NotFound
from trellis.platform.records.query import Filter, ListQuery


@pytest.fixture
def acme(sales: Crm) -> int:
    return sales.records.create("account", {"name": "Acme", "website": "https://acme.example"})["id"]


def problems(error: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.field: p.message for p in error.value.problems}


def new_deal(crm: Crm, account: int, **values) -> dict:
    return crm.records.create("deal", {"name": "Deal", "account": account, **values})


def raw(crm: Crm, column: str, record_id: int) -> Decimal:
    """The stored number, read by plain SQL (SQLite hands back a float, PostgreSQL a Decimal)."""
    return Decimal(str(crm.sql(f"SELECT {column} FROM {{t}}deal WHERE id = :id", id=record_id)[0][0]))


def test_create_get_update_delete(sales: Crm, acme: int) -> None:
    created = new_deal(sales, acme, name="Platform", amount=1250)
    assert created["id"] > 0 and created["version"] == 1 and created["created_by"] == 7 and created["owner"] == 7
    assert sales.records.get("deal", created["id"]) == created
    updated = sales.records.update("deal", created["id"], {"name": "Platform renewal"})
    assert (updated["name"], updated["amount"], updated["version"]) == ("Platform renewal", 1250, 2)
    assert updated["created_at"] == created["created_at"]
    assert datetime.fromisoformat(updated["updated_at"]) >= datetime.fromisoformat(created["updated_at"])
    sales.records.delete("deal", created["id"])
    with pytest.raises(NotFound, match=f"no Deal with id {created['id']}"):
        sales.records.get("deal", created["id"])
    with pytest.raises(NotFound):
        sales.records.update("deal", created["id"], {"name": "Ghost"})
    with pytest.raises(NotFound):
        sales.records.delete("deal", created["id"])
    with pytest.raises(NotFound, match="no object 'ghost'"):
        sales.records.get("ghost", 1)


def test_defaults_fill_what_was_not_sent_but_not_what_was(sales: Crm, acme: int) -> None:
    deal = new_deal(sales, acme)
    assert (deal["stage"], deal["seats"], deal["hot"], deal["tags"], deal["amount"]) == ("new", 1, False, [], None)
    deal = new_deal(sales, acme, stage="won", seats=3, hot=True)
    assert (deal["stage"], deal["seats"], deal["hot"]) == ("won", 3, True)
    assert sales.records.update("deal", deal["id"], {"amount": 5})["stage"] == "won", "an update keeps values"


def test_required_fields_are_named(sales: Crm, acme: int) -> None:
    with pytest.raises(InvalidInput) as error:
        sales.records.create("deal", {"stage": None})
    assert error.value.status == 422
    assert problems(error) == {"name": "Deal name is required.", "account": "Account is required.",
                               "stage": "Stage is required."}
    deal = new_deal(sales, acme)
    for empty in (None, ""):
        with pytest.raises(InvalidInput) as error:
            sales.records.update("deal", deal["id"], {"name": empty})
        assert problems(error) == {"name": "Deal name is required."}
    assert sales.records.get("deal", deal["id"])["version"] == 1


def test_wrong_values_and_empty_required_fields_are_reported_together(sales: Crm) -> None:
    """One answer names every problem, so a user fixes a form once, not field by field."""
    with pytest.raises(InvalidInput) as error:
        sales.records.create("deal", {"amount": "lots"})
    assert set(problems(error)) == {"amount", "name", "account"}


def test_unknown_fields_are_refused_not_dropped(sales: Crm, acme: int) -> None:
    with pytest.raises(InvalidInput) as error:
        new_deal(sales, acme, amuont=5)
    assert problems(error) == {"amuont": "'amuont' is not a field of Deal; check the spelling or add the field first."}
    with pytest.raises(InvalidInput):
        sales.records.create("deal", ["not", "a", "record"])


WRONG_VALUES = [
    ({"seats": 2.5}, "seats"), ({"seats": "3"}, "seats"), ({"hot": "maybe"}, "hot"),
    ({"amount": 1.234}, "amount"), ({"amount": -1}, "amount"), ({"amount": "lots"}, "amount"),
    ({"close_date": "2024-02-30"}, "close_date"), ({"closed_at": "yesterday"}, "closed_at"),
    ({"contact_email": "ana@"}, "contact_email"), ({"phone": "call me"}, "phone"),
    ({"name": "x" * 256}, "name"), ({"stage": "Won"}, "stage"), ({"tags": ["vip", "gold"]}, "tags"),
    ({"tags": "vip"}, "tags"), ({"partner": "1"}, "partner"), ({"partner": True}, "partner"),
]


def test_values_of_the_wrong_type_are_refused_and_named(sales: Crm, acme: int) -> None:
    for values, field in WRONG_VALUES:
        with pytest.raises(InvalidInput) as error:
            new_deal(sales, acme, **values)
        assert list(problems(error)) == [field], values
        assert all(message.endswith(".") and "{" not in message for message in problems(error).values()), values
    assert sales.records.list("deal").records == []


def test_decimals_are_stored_exactly_as_given(sales: Crm, acme: int) -> None:
    deal = new_deal(sales, acme, amount="0.30", ratio=0.1)
    assert raw(sales, "amount", deal["id"]) == Decimal("0.30")
    assert raw(sales, "ratio", deal["id"]) == Decimal("0.1")
    assert deal["amount"] == 0.3 and deal["ratio"] == 0.1
    with pytest.raises(InvalidInput, match="not valid") as error:
        sales.records.update("deal", deal["id"], {"amount": 0.1 + 0.2})  # 0.30000000000000004: refused, not rounded
    assert problems(error) == {"amount": "Use at most 2 decimal places."}
    assert sales.records.update("deal", deal["id"], {"ratio": "123456.123456"})["ratio"] == 123456.123456
    assert raw(sales, "ratio", deal["id"]) == Decimal("123456.123456")
    big = new_deal(sales, acme, amount="9999999999999.99")  # 15 significant digits: exact on both backends
    assert Decimal(str(big["amount"])) == Decimal("9999999999999.99")
    assert new_deal(sales, acme, amount=1250)["amount"] == 1250


def test_currency_keeps_its_scale(sales: Crm, acme: int) -> None:
    sales.editor().add_field("deal", {"api_name": "fee", "label": "Fee", "type": "currency", "currency": "JPY",
                                      "scale": 0})
    assert new_deal(sales, acme, fee=1500)["fee"] == 1500
    with pytest.raises(InvalidInput) as error:
        new_deal(sales, acme, fee=1500.5)
    assert problems(error) == {"fee": "Use at most 0 decimal places."}
    with pytest.raises(InvalidInput, match="not valid"):
        new_deal(sales, acme, amount="12345678901234567")  # 17 digits before the point, precision 18 scale 2


def test_dates_and_datetimes(sales: Crm, acme: int) -> None:
    deal = new_deal(sales, acme, close_date="2024-02-29", closed_at="2024-05-31T14:30:00+02:00")
    assert deal["close_date"] == "2024-02-29"
    closed = datetime.fromisoformat(deal["closed_at"])
    assert closed == datetime(2024, 5, 31, 12, 30, tzinfo=UTC) and closed.utcoffset().total_seconds() == 0
    naive = new_deal(sales, acme, closed_at="2024-05-31T14:30:00")
    assert datetime.fromisoformat(naive["closed_at"]) == datetime(2024, 5, 31, 14, 30, tzinfo=UTC)
    for stamp in (deal["created_at"], deal["updated_at"]):
        assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()) < 300


def test_picklists_and_multi_picklists(sales: Crm, acme: int) -> None:
    with pytest.raises(InvalidInput) as error:
        new_deal(sales, acme, stage="closed")
    assert problems(error) == {"stage": "'closed' is not one of the values of this picklist: new, won, lost."}
    deal = new_deal(sales, acme, tags=["vip", "renewal"])
    assert deal["tags"] == ["vip", "renewal"]
    with pytest.raises(InvalidInput) as error:
        sales.records.update("deal", deal["id"], {"tags": ["vip", "gold"]})
    assert problems(error) == {"tags": "'gold' is not one of the values of this picklist: vip, renewal."}
    assert sales.records.update("deal", deal["id"], {"tags": []})["tags"] == []


def test_a_lookup_must_point_at_an_existing_record(sales: Crm, acme: int) -> None:
    with pytest.raises(InvalidInput) as error:
        new_deal(sales, acme, partner=999)
    assert error.value.status == 422
    assert problems(error) == {"partner": "There is no Account with id 999."}
    deal = new_deal(sales, acme, partner=acme)
    with pytest.raises(InvalidInput) as error:
        sales.records.update("deal", deal["id"], {"account": 12345})
    assert problems(error) == {"account": "There is no Account with id 12345."}
    assert sales.records.get("deal", deal["id"])["account"] == acme
    assert sales.records.titles("account", {acme, None}) == {acme: "Acme"}


def test_deleting_a_looked_up_record_restricts_or_clears(sales: Crm, acme: int) -> None:
    other = sales.records.create("account", {"name": "Other"})["id"]
    deal = new_deal(sales, other, partner=acme)
    sales.records.delete("account", acme)
    assert sales.records.get("deal", deal["id"])["partner"] is None, "partner is set_null"
    with pytest.raises(Conflict, match="forbids deletion") as error:
        sales.records.delete("account", other)
    assert error.value.status == 409
    assert sales.records.get("account", other)["name"] == "Other"
    sales.records.delete("deal", deal["id"])
    sales.records.delete("account", other)


def test_unique_values_clash_by_name(sales: Crm, acme: int) -> None:
    new_deal(sales, acme, contact_email="ana@example.com")
    with pytest.raises(Conflict) as error:
        new_deal(sales, acme, contact_email="ana@example.com")
    assert problems(error) == {"contact_email": "Another Deal already has Contact email 'ana@example.com'; "
                                                "it must be unique."}
    with pytest.raises(Conflict, match="must be unique"):
        sales.records.create("account", {"name": "Acme"})
    other = new_deal(sales, acme, contact_email="bo@example.com")
    with pytest.raises(Conflict):
        sales.records.update("deal", other["id"], {"contact_email": "ana@example.com"})
    assert sales.records.update("deal", other["id"], {"contact_email": "bo@example.com"})["version"] == 2
    blanks = [new_deal(sales, acme)["contact_email"] for _ in range(2)]
    assert blanks == [None, None], "blanks never clash"


def test_autonumbers_are_sequential_and_never_reused(sales: Crm, acme: int) -> None:
    numbers = [new_deal(sales, acme, contact_email=f"{n}@example.com")["number"] for n in range(3)]
    assert numbers == ["DEAL-0001", "DEAL-0002", "DEAL-0003"]
    with pytest.raises(InvalidInput):
        new_deal(sales, acme, stage="bogus")
    with pytest.raises(Conflict):
        new_deal(sales, acme, contact_email="0@example.com")
    last = new_deal(sales, acme)
    assert last["number"] == "DEAL-0004", "a refused write burns no number"
    sales.records.delete("deal", last["id"])
    assert new_deal(sales, acme)["number"] == "DEAL-0005", "a deleted record's number is not handed out again"


def test_autonumbers_cannot_be_written(sales: Crm, acme: int) -> None:
    with pytest.raises(InvalidInput) as error:
        new_deal(sales, acme, number="DEAL-9999")
    assert "number" in problems(error)
    deal = new_deal(sales, acme)
    with pytest.raises(InvalidInput):
        sales.records.update("deal", deal["id"], {"number": "DEAL-0042"})


def test_autonumber_format_and_start(crm: Crm) -> None:
    crm.create({"api_name": "ticket", "label": "Ticket", "fields": [
        {"api_name": "code", "label": "Code", "type": "autonumber", "format": "T{000}-X", "start": 998}]})
    assert [crm.records.create("ticket", {})["code"] for _ in range(3)] == ["T998-X", "T999-X", "T1000-X"]


def test_a_stale_version_is_a_conflict_and_writes_nothing(sales: Crm, acme: int) -> None:
    deal = new_deal(sales, acme, amount=100)
    mine = sales.records.update("deal", deal["id"], {"amount": 200}, expected_version=1)
    assert mine["version"] == 2
    with pytest.raises(Conflict) as error:
        sales.records.update("deal", deal["id"], {"amount": 300}, expected_version=1)
    assert error.value.status == 409 and "you had version 1" in error.value.detail
    assert problems(error) == {"version": "Stale version."}
    assert sales.records.get("deal", deal["id"]) == mine
    with pytest.raises(Conflict):
        sales.records.delete("deal", deal["id"], expected_version=1)
    assert sales.records.get("deal", deal["id"]) == mine
    sales.records.delete("deal", deal["id"], expected_version=2)


def test_records_follow_a_field_added_later(sales: Crm, acme: int) -> None:
    old = new_deal(sales, acme)
    sales.editor().add_field("deal", {"api_name": "region", "label": "Region", "type": "text", "default": "EMEA"})
    assert sales.records.get("deal", old["id"])["region"] == "EMEA"
    assert new_deal(sales, acme, region="APAC")["region"] == "APAC"


def test_an_empty_multi_picklist_is_blank_and_reads_as_an_empty_list(sales: Crm, acme: int) -> None:
    chosen, cleared = new_deal(sales, acme, tags=["vip"]), new_deal(sales, acme, tags=[])
    assert cleared["tags"] == [] and new_deal(sales, acme)["tags"] == []
    blank = sales.records.list("deal", ListQuery(filters=[Filter("tags", "blank", True)])).records
    assert chosen["id"] not in {r["id"] for r in blank} and cleared["id"] in {r["id"] for r in blank}
