"""The tools' part of the OpenAPI document (definitions, reports, exports, history, imports, templates, members),
and the refusals schemathesis found missing behind it (each was a 500): a template export with names that are not
names, a dashboard widget without its report or with an unknown setting, a member id beyond users.id (INTEGER)."""

from __future__ import annotations

import json
import re

from trellis.metadata.definitions import KINDS


def test_the_document_describes_the_tools_and_every_reference_resolves(client, shared_api, shared_auth):
    document = client.get(f"{shared_api}/openapi.json", headers=shared_auth).get_json()
    paths = document["paths"]
    for kind in KINDS.values():
        assert {"get", "post"} <= set(paths[f"/metadata/{kind.plural}"])
        assert {"get", "put", "delete"} <= set(paths[f"/metadata/{kind.plural}/{{name}}"])
    assert {"/reports/{name}/run", "/reports/run", "/dashboards/{name}/data", "/records/{object_name}/exports",
            "/exports", "/exports/{job_id}", "/exports/{job_id}/file", "/records/{object_name}/{record_id}/history",
            "/imports", "/imports/proposal", "/imports/{import_id}", "/imports/{import_id}/rejected.csv",
            "/templates", "/templates/export", "/templates/{name}/install", "/members",
            "/members/{user_id}/roles"} <= set(paths)
    upload = paths["/imports"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"]["format"] == "binary" and upload["required"] == ["file"]
    schemas = document["components"]["schemas"]
    assert schemas["Definition_report"]["additionalProperties"] is False
    references = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert references - set(schemas) == set()


def test_a_template_export_with_bad_names_is_refused_naming_each(client, api, auth):
    answer = client.post(f"{api}/templates/export", headers=auth,
                         json={"name": "Not A Name", "objects": [1, 2], "definitions": "role"})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert [e["field"] for e in answer.get_json()["errors"]] == ["name"]
    answer = client.post(f"{api}/templates/export", headers=auth, json={"name": "copy", "objects": [1, 2]})
    assert answer.status_code == 422 and [e["field"] for e in answer.get_json()["errors"]] == ["objects"]
    answer = client.post(f"{api}/templates/export", headers=auth, json={"name": "copy", "definitions": "role"})
    assert answer.status_code == 422 and [e["field"] for e in answer.get_json()["errors"]] == ["definitions"]


def test_a_dashboard_widget_missing_its_report_is_refused_by_json_path(client, api, auth):
    answer = client.post(f"{api}/metadata/dashboards", headers=auth, json={
        "api_name": "board", "label": "Board", "widgets": [{"type": "number", "colour": "red"}]})
    assert answer.status_code == 422
    assert {e["field"] for e in answer.get_json()["errors"]} >= {"$.widgets[0].report", "$.widgets[0].colour"}


def test_a_member_id_beyond_any_column_is_not_found(client, api, auth):
    huge = 121645100408832000  # fits in BIGINT, not in users.id (INTEGER)
    assert client.get(f"{api}/members/{huge}/roles", headers=auth).status_code == 404
    assert client.put(f"{api}/members/{huge}/roles", headers=auth, json={"roles": []}).status_code == 404
