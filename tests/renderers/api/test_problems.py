"""Every error is an RFC 9457 problem document: never HTML, never a stack trace."""

from __future__ import annotations

import logging

from trellis.platform.records.service import RecordService


def test_an_unknown_address_under_the_api_is_a_404_problem(client, shared_api, shared_auth, problem_fields):
    for path in ("/nothing/here", "/objects", "/records/deal/1/extra"):
        response = client.get(shared_api + path, headers=shared_auth)
        assert response.status_code == 404
        assert problem_fields(response) == []


def test_a_method_the_address_does_not_take_is_a_405_naming_those_it_does(client, shared_api, shared_auth,
                                                                         problem_fields):
    response = client.put(f"{shared_api}/records/deal/1", headers=shared_auth, json={})
    assert response.status_code == 405
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    problem_fields(response)


def test_a_bug_is_a_generic_500_and_is_logged(client, shared_api, shared_auth, problem_fields, monkeypatch,
                                              caplog):
    def broken(self, *args, **kwargs):
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(RecordService, "list", broken)
    with caplog.at_level(logging.ERROR, logger="trellis.renderers.api"):
        response = client.get(f"{shared_api}/records/deal", headers=shared_auth)
    assert response.status_code == 500
    problem_fields(response)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert "hunter2" in caplog.text


def test_pages_outside_the_api_are_left_alone(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype != "application/problem+json"
