"""``/imports``: preview with the suggested mapping, an import job with its status and rejected rows as CSV,
a new object proposed from a file and created with the adjusted document; problems name the field."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from trellis.platform.core import Platform

DEALS = ("Deal name,Account,Stage,Amount,Close date\n"
         "Imported one,Globex,prospecting,1200,2025-03-01\n"
         "Imported two,No Such Company,prospecting,10,2025-03-02\n"
         "Imported three,Hooli,prospecting,lots,2025-03-03\n")


def upload(text: str, **form: Any) -> dict[str, Any]:
    fields = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in form.items()}
    return {"file": (io.BytesIO(text.encode()), "deals.csv"), **fields}


def post(client: FlaskClient, api: str, auth: dict[str, str], path: str = "/imports", **form: Any) -> Any:
    text = form.pop("text", DEALS)
    return client.post(api + path, data=upload(text, **form), headers=auth, content_type="multipart/form-data")


def finish(client: FlaskClient, platform: Platform, api: str, auth: dict[str, str], body: dict) -> dict:
    if platform.settings.redis_url:
        platform.jobs.work(burst=True)
    platform.jobs.wait(body["data"]["job_id"], timeout=60)
    return client.get(f"{api}/imports/{body['data']['id']}", headers=auth).get_json()["data"]


def test_preview_suggests_the_mapping_and_shows_each_row_without_writing(
        client: FlaskClient, api: str, auth: dict[str, str]) -> None:
    before = client.get(f"{api}/records/deal", headers=auth).get_json()["data"]
    response = post(client, api, auth, object="deal", preview="true")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()["data"]
    assert body["mapping"] == {"Deal name": "name", "Account": "account", "Stage": "stage", "Amount": "amount",
                               "Close date": "close_date"}
    assert [row["action"] for row in body["preview"]] == ["created", "rejected", "rejected"]
    assert body["preview"][0]["values"]["name"] == "Imported one"
    assert [(p["column"], p["value"]) for p in body["preview"][1]["problems"]] == [("Account", "No Such Company")]
    assert [(p["column"], p["value"]) for p in body["preview"][2]["problems"]] == [("Amount", "lots")]
    assert client.get(f"{api}/records/deal", headers=auth).get_json()["data"] == before


def test_an_import_runs_as_a_job_and_reports_rejected_rows_as_csv(
        client: FlaskClient, platform: Platform, api: str, auth: dict[str, str]) -> None:
    response = post(client, api, auth, object="deal")
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/imports/{response.get_json()['data']['id']}")
    status = finish(client, platform, api, auth, response.get_json())
    assert (status["status"], status["created"], status["rejected"], status["percent"]) == ("succeeded", 1, 2, 100)
    names = [d["name"] for d in client.get(f"{api}/records/deal?limit=200", headers=auth).get_json()["data"]]
    assert "Imported one" in names and "Imported two" not in names
    report = client.get(f"{api}/imports/{status['id']}/rejected.csv", headers=auth)
    assert report.mimetype == "text/csv"
    lines = report.get_data(as_text=True).splitlines()
    assert lines[0] == "row,column,value,reason"
    assert lines[1].startswith("3,Account,No Such Company,") and lines[2].startswith("4,Amount,lots,")


def test_bad_choices_are_problems_that_name_the_field(
        client: FlaskClient, api: str, auth: dict[str, str], problem_fields: Callable[[Any], list[str]]) -> None:
    response = post(client, api, auth, object="deal", mapping={"Nope": "name", "Amount": "no_field"})
    assert response.status_code == 422
    assert problem_fields(response) == ["mapping.Nope", "mapping.Amount"]
    response = post(client, api, auth, object="deal", upsert_by="name")
    assert problem_fields(response) == ["upsert_by"]
    response = client.post(f"{api}/imports", data={"object": "deal"}, headers=auth, content_type="multipart/form-data")
    assert problem_fields(response) == ["file"]
    response = post(client, api, auth, object="deal", text="Name\n", preview="yes")
    assert problem_fields(response) == ["preview"]
    assert client.get(f"{api}/imports/999999", headers=auth).status_code == 404


def test_a_new_object_is_proposed_then_created_from_the_adjusted_document_and_imported(
        client: FlaskClient, platform: Platform, api: str, auth: dict[str, str]) -> None:
    text = ("Title,Pages,Published,Genre\nDune,412,1965-08-01,scifi\nEmma,474,1815-12-23,novel\n"
            "It,1138,1986-09-15,scifi\nUlysses,730,1922-02-02,novel\n")
    response = post(client, api, auth, "/imports/proposal", text=text, name="Books")
    assert response.status_code == 200, response.get_data(as_text=True)
    document = response.get_json()["data"]["object_document"]
    assert [(f["api_name"], f["type"]) for f in document["fields"]] == [
        ("title", "text"), ("pages", "integer"), ("published", "date"), ("genre", "picklist")]
    document["label"] = "Book"
    document["fields"][0]["required"] = True
    refused = post(client, api, auth, text=text, object_document=document, mapping={"Title": "headline"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "mapping.Title"
    assert client.get(f"{api}/records/books", headers=auth).status_code == 404  # nothing half done
    response = post(client, api, auth, text=text, object_document=document)
    assert response.status_code == 202, response.get_data(as_text=True)
    status = finish(client, platform, api, auth, response.get_json())
    assert (status["created"], status["rejected"]) == (4, 0)
    books = client.get(f"{api}/records/books", headers=auth).get_json()["data"]
    assert sorted(b["title"] for b in books) == ["Dune", "Emma", "It", "Ulysses"]
