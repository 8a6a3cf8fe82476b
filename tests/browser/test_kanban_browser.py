"""In Chromium: a deal dragged on the kanban into a stage whose required fields are empty is refused with
the field names and returns; filled in on its edit form and dragged again, it moves, and the record page's
stage path and history show the move."""

from __future__ import annotations

import pytest
from browsing import sign_in
from playwright.sync_api import Page, expect

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor
from trellis.tenants.demo import DemoLogin

pytestmark = pytest.mark.browser





def test_a_refused_drag_names_the_fields_and_a_filled_deal_moves(page: Page, live_server: str, demo: DemoLogin,
                                                                 platform: Platform) -> None:
    records = platform.records(platform.runtime(demo.tenant), Actor(None))
    account = records.list("account").records[0]
    deal = records.create("deal", {"name": "Kanban pilot", "account": account["id"], "stage": "prospecting"})
    base = f"{live_server}/t/{demo.tenant}"
    board = f"{base}/boards/deal/stage/"
    sign_in(page, board, demo)

    card = page.get_by_test_id(f"card-{deal['id']}")
    prospecting, proposal = page.get_by_test_id("column-prospecting"), page.get_by_test_id("column-proposal")
    expect(prospecting.locator(f"[data-id='{deal['id']}']")).to_be_visible()
    count = int(proposal.locator("[data-role=count]").inner_text())

    card.drag_to(proposal.locator(".trellis-cards"))
    error = page.get_by_test_id("kanban-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Amount is required to enter Proposal.")
    expect(error).to_contain_text("Close date is required to enter Proposal.")
    expect(error.locator("li[data-field]")).to_have_count(2)
    expect(prospecting.locator(f"[data-id='{deal['id']}']")).to_be_visible()  # the card came back
    expect(proposal.locator(f"[data-id='{deal['id']}']")).to_have_count(0)
    expect(proposal.locator("[data-role=count]")).to_have_text(str(count))
    assert records.get("deal", deal["id"])["stage"] == "prospecting"

    page.goto(f"{base}/records/deal/edit/?id={deal['id']}")
    page.get_by_label("Amount").fill("42000")
    page.get_by_label("Close date").fill("2027-03-31")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Record was successfully saved.")).to_be_visible()

    page.goto(board)
    page.get_by_test_id(f"card-{deal['id']}").drag_to(proposal.locator(".trellis-cards"))
    expect(proposal.locator(f"[data-id='{deal['id']}']")).to_be_visible()
    expect(proposal.locator("[data-role=count]")).to_have_text(str(count + 1))
    expect(page.get_by_test_id("kanban-error")).to_be_hidden()
    page.reload()  # the server has it there too
    expect(page.get_by_test_id("column-proposal").locator(f"[data-id='{deal['id']}']")).to_be_visible()
    assert records.get("deal", deal["id"])["stage"] == "proposal"

    page.get_by_test_id("column-proposal").get_by_role("link", name="Kanban pilot").click()
    path = page.get_by_test_id("stage-path-stage")
    expect(path.locator("[aria-current=step]")).to_have_text("Proposal")
    expect(path.get_by_test_id("stage-guidance")).to_contain_text("priced proposal")
    history = page.get_by_test_id("stage-history")
    newest = history.locator("tbody tr").first
    expect(newest).to_contain_text("Prospecting")
    expect(newest).to_contain_text("Proposal")
    expect(newest).to_contain_text("Demo Admin")
    expect(history.locator("tbody tr")).to_have_count(2)
