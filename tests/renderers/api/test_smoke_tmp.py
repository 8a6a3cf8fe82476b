import json


def test_smoke(client, api, auth):
    r = client.get(f"{api}/objects/deal/records?limit=2&sort=-amount", headers=auth)
    print(r.status_code, r.get_data(as_text=True)[:600])
    r = client.get(f"{api}/openapi.json", headers=auth)
    print(r.status_code, r.get_data(as_text=True)[:300])
    r = client.get(f"{api}/nothing", headers=auth)
    print(r.status_code, r.headers, r.get_data(as_text=True)[:300])
    r = client.put(f"{api}/objects/deal/records", headers=auth)
    print(r.status_code, r.headers, r.get_data(as_text=True)[:300])
    r = client.get(f"{api}/objects/deal/records")
    print(r.status_code, r.headers, r.get_data(as_text=True)[:300])
    open("/tmp/spec.json","w").write(json.dumps(client.get(f"{api}/openapi.json", headers=auth).get_json(), indent=1))
