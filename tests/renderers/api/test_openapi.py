"""The tenant's OpenAPI document: made from its own objects, cached per revision, complete."""

from __future__ import annotations

from trellis.renderers.api.openapi import SpecCache


def test_the_document_describes_this_tenants_objects_and_errors(client, shared_api, shared_auth):
    response = client.get(f"{shared_api}/openapi.json", headers=shared_auth)
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": shared_api}]
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer") and document["security"] == [{"bearer": []}]
    deal = document["components"]["schemas"]["deal_create"]["properties"]
    assert deal["stage"]["enum"] == ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
    assert deal["amount"]["minimum"] == 0 and deal["amount"]["multipleOf"] == 0.01
    assert "number" not in deal  # an autonumber is written by Trellis, never by a client

    listing = document["paths"]["/records/deal"]["get"]
    names = {parameter["name"] for parameter in listing["parameters"]}
    assert {"q", "sort", "limit", "cursor", "total", "stage", "stage__in", "amount__gte", "name__contains"} <= names
    assert "tags__gt" not in names  # only the operators the query engine allows on the field
    for path in document["paths"].values():
        for operation in (path[method] for method in ("get", "post", "patch", "delete") if method in path):
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/problem"}
    assert set(document["paths"]) >= {"/metadata/objects", "/metadata/objects/{name}/fields/{field}",
                                      "/metadata/revisions", "/records/deal/{id}"}


def test_the_document_is_built_once_per_revision(platform, shared_demo):
    cache = SpecCache(capacity=1)
    runtime = platform.runtime(shared_demo.tenant)
    first = cache.get(runtime)
    assert cache.get(platform.runtime(shared_demo.tenant)) is first
    assert len(cache) == 1


def test_the_cache_is_bounded(platform, shared_demo, demo):
    cache = SpecCache(capacity=1)
    cache.get(platform.runtime(shared_demo.tenant))
    cache.get(platform.runtime(demo.tenant))
    assert len(cache) == 1
