"""The kanban board's page and move endpoint through the served app (both backends): columns in stage
order with database totals, moves that need the CSRF token, refusals that name the fields, stale cards."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from trellis.platform.records.aggregates import group_totals
from trellis.platform.records.service import RecordService


def _board(client: FlaskClient, base: str) -> tuple[str, str]:
    page = client.get(f"{base}/boards/deal/stage/")
    assert page.status_code == 200, page.text
    return page.text, re.search(r'data-csrf="([^"]+)"', page.text).group(1)


def test_the_board_shows_every_stage_in_order_with_counts_and_totals(signed_in: FlaskClient, base: str,
                                                                     records: RecordService) -> None:
    page, _ = _board(signed_in, base)
    stages = re.findall(r'data-testid="column-([a-z]+)"', page)
    assert stages == ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
    totals = group_totals(records, "deal", "stage", "amount")
    for stage in stages:
        column = page.split(f'data-testid="column-{stage}"')[1].split("</section>")[0]
        count = totals[stage].count if stage in totals else 0
        assert f'data-role="count">{count}<' in column
        assert f"{totals[stage].total:,.2f} USD" in column if stage in totals else "0.00 USD" in column
        assert column.count('class="card trellis-card"') == count
    assert "Sales pipeline" in page
    assert f'href="{base}/boards/deal/stage/"' in signed_in.get(f"{base}/boards/").text
    home = signed_in.get(f"{base}/").text
    assert 'data-testid="home-boards"' in home and f'href="{base}/boards/deal/stage/"' in home


def test_a_move_is_an_update_that_names_what_is_missing(signed_in: FlaskClient, base: str,
                                                        records: RecordService) -> None:
    deal = records.create("deal", {"name": "Board move", "account": 1})
    _, token = _board(signed_in, base)
    url = f"{base}/boards/deal/stage/move"
    body = {"id": deal["id"], "stage": "proposal", "version": deal["version"]}
    assert signed_in.post(url, json=body).status_code == 400  # no CSRF token: not even tried

    refused = signed_in.post(url, json=body, headers={"X-CSRFToken": token})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [
        {"field": "amount", "label": "Amount", "message": "Amount is required to enter Proposal."},
        {"field": "close_date", "label": "Close date", "message": "Close date is required to enter Proposal."}]
    records.update("deal", deal["id"], {"amount": 100, "close_date": "2027-05-01"})
    stale = signed_in.post(url, json=body, headers={"X-CSRFToken": token})
    assert stale.status_code == 409 and stale.get_json()["errors"][0]["field"] == "version"

    moved = signed_in.post(url, json={**body, "version": 2}, headers={"X-CSRFToken": token})
    assert moved.status_code == 200 and moved.get_json() == {"id": deal["id"], "stage": "proposal", "version": 3}
    assert records.get("deal", deal["id"])["stage"] == "proposal"
    assert signed_in.post(url, json={"id": deal["id"], "stage": "nowhere"},
                          headers={"X-CSRFToken": token}).status_code == 400
    assert signed_in.get(f"{base}/boards/account/industry/").status_code == 404


def test_the_record_page_shows_the_path_and_the_history(signed_in: FlaskClient, base: str,
                                                        records: RecordService) -> None:
    deal = records.create("deal", {"name": "Path", "account": 1, "amount": 5, "close_date": "2027-01-01"})
    records.update("deal", deal["id"], {"stage": "proposal"})
    page = signed_in.get(f"{base}/records/deal/details/?id={deal['id']}").text
    path = page.split('data-testid="stage-path-stage"')[1].split("</nav>")[0]
    assert re.search(r'aria-current="step"[^>]*>\s*Proposal', path)
    assert path.count('data-state="done"') == 2 and "Send a priced proposal" in path
    history = page.split('data-testid="stage-history"')[1].split("</section>")[0]
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in history.split("<tbody>")[1].split("</tr>")[:-1]]
    assert [row[1:3] for row in rows] == [["Prospecting", "Proposal"], ["—", "Prospecting"]]  # newest first
    assert rows[0][5] == "" and rows[1][5] == "0 min"  # time in the stage left; none yet for the current one
