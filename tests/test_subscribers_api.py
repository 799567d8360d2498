"""The JSON API: same validation and permissions as the pages, JSON only for changes."""

from sqlalchemy import select

from core.regions import Region
from subscribers import operations
from tests.helpers import login


def _region_id(session, code):
    return session.scalar(select(Region.id).where(Region.code == code))


def _person(session, **extra):
    return {"kind": "person", "first_name": "علي", "last_name": "رضايي", "national_id": "0499370899",
            "mobile": "09171112233", "region_id": _region_id(session, "shiraz-1"), **extra}


def test_the_api_needs_a_signed_in_user(client, demo):
    response = client.get("/api/v1/subscribers")
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_changes_must_be_json(client, session, demo):
    login(client, "clerk")
    response = client.post("/api/v1/subscribers", data=_person(session))  # a form post, as from another site
    assert response.status_code == 415


def test_create_get_update_and_search_a_subscriber(client, session, demo):
    login(client, "clerk")
    created = client.post("/api/v1/subscribers", json=_person(session))
    assert created.status_code == 201, created.json
    subscriber_id = created.json["id"]
    assert created.json["first_name"] == "علی" and created.json["display_name"] == "علی رضایی"
    assert client.get(f"/api/v1/subscribers/{subscriber_id}").json["national_id"] == "0499370899"
    updated = client.patch(f"/api/v1/subscribers/{subscriber_id}", json={"mobile": "+989171112244"})
    assert updated.status_code == 200 and updated.json["mobile"] == "09171112244"
    found = client.get("/api/v1/subscribers", query_string={"q": "علي رضائي"}).json["results"]
    assert found[0]["subscriber_id"] == subscriber_id and found[0]["subscriber"]["display_name"] == "علی رضایی"


def test_invalid_input_gets_persian_errors_by_field(client, session, demo):
    login(client, "clerk")
    response = client.post("/api/v1/subscribers", json=_person(session, national_id="0499370898"))
    assert response.status_code == 422
    assert response.json["errors"] == {"national_id": ["این کد ملی معتبر نیست."]}
    typed = client.post("/api/v1/subscribers", json=_person(session, region_id="not a number"))
    assert typed.status_code == 422 and "region_id" in typed.json["errors"]


def test_the_api_checks_regions(client, session, demo):
    login(client, "clerk")
    response = client.post("/api/v1/subscribers", json=_person(session, region_id=_region_id(session, "shiraz-2")))
    assert response.status_code == 403
    other = operations.create_subscriber(session, None, _person(session, region_id=_region_id(session, "shiraz-2")))
    assert client.get(f"/api/v1/subscribers/{other.id}").status_code == 403
    assert client.patch(f"/api/v1/subscribers/{other.id}", json={"mobile": "09170000000"}).status_code == 403


def test_premise_service_point_meter_and_contract_through_the_api(client, session, demo):
    login(client, "clerk")
    region_id = _region_id(session, "shiraz-1")
    subscriber = client.post("/api/v1/subscribers", json=_person(session)).json
    premise = client.post("/api/v1/premises", json={
        "subscriber_id": subscriber["id"], "province": "فارس", "city": "شیراز", "street": "خیابان زند",
        "postal_code": "7134567890", "latitude": "29.61", "longitude": "52.53", "region_id": region_id})
    assert premise.status_code == 201, premise.json
    outside = client.patch(f"/api/v1/premises/{premise.json['id']}", json={"latitude": "41.0"})
    assert outside.status_code == 422 and "latitude" in outside.json["errors"]
    point = client.post(f"/api/v1/premises/{premise.json['id']}/service-points",
                        json={"utility": "electricity", "phases": 1, "amperage": 25}).json
    meter = client.post("/api/v1/meters", json={"serial": "API-1", "utility": "electricity", "kind": "digital",
                                                "region_id": region_id})
    assert meter.status_code == 201, meter.json
    installed = client.post(f"/api/v1/service-points/{point['id']}/meter",
                            json={"meter_id": meter.json["id"], "on": "2024-01-01", "readings": {"single": 5}})
    assert installed.status_code == 201, installed.json
    contract = client.post("/api/v1/contracts", json={
        "subscriber_id": subscriber["id"], "service_point_id": point["id"], "start_date": "2024-01-01",
        "tariff_type": "residential"})
    assert contract.status_code == 201, contract.json
    buyer = client.post("/api/v1/subscribers", json=_person(session, national_id="0084575948")).json
    moved = client.post(f"/api/v1/contracts/{contract.json['id']}/transfer",
                        json={"new_owner_id": buyer["id"], "on": "2024-06-01"})
    assert moved.status_code == 201 and moved.json["revision"] == 2
    history = client.get(f"/api/v1/contracts/{moved.json['id']}").json["history"]
    assert [(h["subscriber_id"], h["status"]) for h in history] == [
        (subscriber["id"], "closed"), (buyer["id"], "active")]
    removed = client.post(f"/api/v1/service-points/{point['id']}/meter/remove",
                          json={"on": "2024-07-01", "readings": {"single": 400}})
    assert removed.status_code == 200 and removed.json["final_readings"] == {"single": 400}
    assert len(client.get(f"/api/v1/service-points/{point['id']}/meters").json["items"]) == 1
