"""Must-show 3 of issue 8: the example extension (examples/hello_extension, installed with ``pip install -e``)
adds a field type, a hook and an action that appear in the metadata API, the screens and OpenAPI, and
disappear for a tenant that disables it. Both backends, through the served app."""

from __future__ import annotations

from ext_screens import csrf, sign_in
from flask.testing import FlaskClient

from trellis.tenants.demo import DemoLogin

MOOD = {"api_name": "mood", "label": "Mood", "type": "hello.mood"}


def _openapi(client: FlaskClient, api: str, auth: dict[str, str]) -> dict:
    answer = client.get(f"{api}/openapi.json", headers=auth)
    assert answer.status_code == 200
    return answer.get_json()


def _field_types(client: FlaskClient, api: str, auth: dict[str, str]) -> dict[str, dict]:
    return {t["type"]: t for t in client.get(f"{api}/metadata/field-types", headers=auth).get_json()["data"]}


def test_the_example_is_installed_but_off_until_the_tenant_enables_it(client, api, auth) -> None:
    listed = {e["name"]: e for e in client.get(f"{api}/extensions", headers=auth).get_json()["data"]}
    assert "hello" in listed, "install the example as README says: pip install -e examples/hello_extension"
    assert listed["hello"]["enabled"] is False and listed["hello"]["api_version"] == 1
    assert listed["hello"]["field_types"] == ["hello.mood"]
    assert "hello.mood" not in _field_types(client, api, auth)

    refused = client.post(f"{api}/metadata/objects/account/fields", json=MOOD, headers=auth)
    assert refused.status_code == 422
    assert "has not enabled" in refused.get_json()["errors"][0]["message"]

    unknown = client.post(f"{api}/metadata/extensions", json={"api_name": "nope", "label": "Nope"}, headers=auth)
    assert unknown.status_code == 422
    assert "installed extensions: " in unknown.get_json()["errors"][0]["message"]
    assert "hello" in unknown.get_json()["errors"][0]["message"]


def test_field_type_hook_and_action_appear_everywhere_then_disappear_when_disabled(
        client: FlaskClient, api: str, auth: dict[str, str], demo: DemoLogin) -> None:
    enable = {"api_name": "hello", "label": "Hello", "settings": {"greeting": "Howdy"}}
    assert client.post(f"{api}/metadata/extensions", json=enable, headers=auth).status_code == 201
    assert client.post(f"{api}/metadata/objects/account/fields", json=MOOD, headers=auth).status_code == 201

    # Metadata API: the catalog and the object.
    assert _field_types(client, api, auth)["hello.mood"]["extension"] == "hello"
    account = client.get(f"{api}/metadata/objects/account", headers=auth).get_json()["data"]
    assert {"api_name": "mood", "type": "hello.mood"}.items() <= next(
        f for f in account["fields"] if f["api_name"] == "mood").items()

    # OpenAPI: the field in the record schemas, the type in the catalog, the action as an operation.
    document = _openapi(client, api, auth)
    assert "mood" in document["components"]["schemas"]["account_create"]["properties"]
    assert document["components"]["schemas"]["ExtensionFieldTypes"]["enum"] == ["hello.mood"]
    assert "/records/account/{record_id}/actions/hello.greet" in document["paths"]

    # The field type's validation, the hook and the action, through the API.
    bad = client.post(f"{api}/records/account", json={"name": "Moody", "mood": "furious"}, headers=auth)
    assert bad.status_code == 422 and "Pick a mood" in bad.text
    spam = client.post(f"{api}/records/account", json={"name": "Spam Ltd"}, headers=auth)
    assert spam.status_code == 422 and "Hello does not accept spam." in spam.get_json()["detail"]
    assert client.get(f"{api}/records/account?name=Spam Ltd", headers=auth).get_json()["data"] == []
    acme = client.post(f"{api}/records/account", json={"name": "Acme Hello", "mood": "grumpy"}, headers=auth).get_json()
    greeted = client.post(f"{api}/records/account/{acme['id']}/actions/hello.greet", headers=auth)
    assert greeted.status_code == 200 and greeted.get_json()["data"] == {"message": "Howdy, Acme Hello!"}
    assert client.get(f"{api}/records/account/{acme['id']}", headers=auth).get_json()["mood"] == "happy"

    # Screens: the field on the form, the button on the record page, which runs the action.
    base = sign_in(client, demo)
    page = client.get(f"{base}/records/account/details/?id={acme['id']}")
    assert 'data-action="hello.greet"' in page.text and "Say hello" in page.text
    assert 'name="mood"' in client.get(f"{base}/records/account/edit/?id={acme['id']}").text
    pressed = client.post(f"{base}/records/account/extension-action/{acme['id']}/hello.greet",
                          data={"csrf_token": csrf(client, f"{base}/records/account/details/?id={acme['id']}")},
                          follow_redirects=True)
    assert "Howdy, Acme Hello!" in pressed.text

    # Disabling is refused while a field uses the type, and says what to do.
    refused = client.delete(f"{api}/metadata/extensions/hello", headers=auth)
    assert refused.status_code == 422 and "account.mood" in refused.get_json()["errors"][0]["message"]
    assert client.delete(f"{api}/metadata/objects/account/fields/mood", headers=auth).status_code == 200
    assert client.delete(f"{api}/metadata/extensions/hello", headers=auth).status_code == 200

    # Gone everywhere: catalog, OpenAPI, screens, the action, the hook.
    assert "hello.mood" not in _field_types(client, api, auth)
    document = _openapi(client, api, auth)
    assert document["components"]["schemas"]["ExtensionFieldTypes"]["enum"] == []
    assert not any("hello.greet" in path for path in document["paths"])
    assert "mood" not in document["components"]["schemas"]["account_create"]["properties"]
    page = client.get(f"{base}/records/account/details/?id={acme['id']}")
    assert page.status_code == 200 and "hello.greet" not in page.text
    gone = client.post(f"{api}/records/account/{acme['id']}/actions/hello.greet", headers=auth)
    assert gone.status_code == 404
    assert client.post(f"{api}/records/account", json={"name": "Spam Ltd"}, headers=auth).status_code == 201
    assert client.post(f"{api}/metadata/objects/account/fields", json=MOOD, headers=auth).status_code == 422
