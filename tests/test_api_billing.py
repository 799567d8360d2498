"""Billing over the API: tariffs, a quote, readings (one and a CSV of many), issuing a bill (which is a
webhook event) and the bank's inquiry of the bill it issued."""

from datetime import date

from sqlalchemy import select

from api import webhooks
from api.models import WebhookDelivery
from billing import readings
from billing.demo import load_example_tariffs
from core.jalali import format_jalali_date
from tests.test_api_billing_support import electricity_contract
from tests.test_api_helpers import bearer, token_for

OPENING, CLOSING = date(2025, 6, 1), date(2025, 7, 31)


def test_a_reading_then_a_bill_then_the_bank_asks_what_is_owed(client, session, demo):
    load_example_tariffs(session)
    contract = electricity_contract(session)
    readings.record_reading(session, None, contract.id, "single", OPENING, 1000, opening=True)
    webhooks.subscribe(session, None, "http://127.0.0.1:9/hook", ["bill.issued"])
    session.commit()
    token = token_for(session, ["billing.view", "billing.run", "ledger.view"])
    read = client.post(f"/api/v1/contracts/{contract.id}/readings", headers=bearer(token),
                       json={"register": "single", "read_on": CLOSING.isoformat(), "value": 1420})
    assert read.status_code == 201, read.json
    assert read.json["consumption"] == 420
    again = client.post(f"/api/v1/contracts/{contract.id}/readings", headers=bearer(token),
                        json={"register": "single", "read_on": CLOSING.isoformat(), "value": 1430})
    assert again.status_code == 422 and "read_on" in again.json["errors"]
    issued = client.post(f"/api/v1/contracts/{contract.id}/bills", headers=bearer(token),
                         json={"issued_on": "2025-08-02"})
    assert issued.status_code == 201, issued.json
    bill = issued.json
    assert bill["period"] == "1404/05" and bill["payable"] % 1000 == 0 and bill["payable"] > 0
    assert [b["id"] for b in client.get(f"/api/v1/contracts/{contract.id}/bills", headers=bearer(token)).json[
        "items"]] == [bill["id"]]
    owed = client.get("/api/v1/bank/bills", headers=bearer(token),
                      query_string={"bill_id": bill["bill_id"], "payment_id": bill["payment_id"]}).json
    assert (owed["amount"], owed["status"], owed["period"]) == (bill["payable"], "payable", "1404/05")
    [event] = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event == "bill.issued")).all()
    assert event.payload["payable"] == bill["payable"] and event.payload["bill_id"] == bill["bill_id"]


def test_a_quote_and_its_refusals(client, session, demo):
    load_example_tariffs(session)
    session.commit()
    token = token_for(session, ["billing.view"])
    types = client.get("/api/v1/tariff-types", query_string={"utility": "electricity"}, headers=bearer(token)).json
    residential = next(t for t in types["items"] if t["slug"] == "residential")
    versions = client.get("/api/v1/tariffs", query_string={"tariff_type_id": residential["id"]},
                          headers=bearer(token)).json["items"]
    code = versions[0]["code"]
    usage = {"start": "2025-06-02", "end": "2025-07-31", "registers": {"total": 420}, "climate_zone": "normal"}
    quoted = client.post("/api/v1/quotes", headers=bearer(token),
                         json={"tariff_type_id": residential["id"], "code": code, "usage": usage})
    assert quoted.status_code == 200, quoted.json
    assert quoted.json["payable"] % 1000 == 0 and quoted.json["total"] > 0
    assert sum(line["amount"] for line in quoted.json["lines"]) == quoted.json["total"] - quoted.json["rounding"]
    wrong = client.post("/api/v1/quotes", headers=bearer(token, "en"), json={
        "tariff_type_id": residential["id"], "code": code, "usage": {**usage, "end": "2025-05-01"}})
    assert wrong.status_code == 422 and wrong.json["errors"]


def test_a_csv_of_readings_saves_good_lines_and_names_the_bad_ones(client, session, demo):
    load_example_tariffs(session)
    contract = electricity_contract(session)
    readings.record_reading(session, None, contract.id, "single", OPENING, 1000, opening=True)
    serial = readings.installed_meter(session, contract).meter.serial
    elsewhere = readings.installed_meter(session, electricity_contract(session, "shiraz-2")).meter.serial
    session.commit()
    token = token_for(session, ["billing.run"])
    day = format_jalali_date(CLOSING, persian_digits=False)
    csv_text = f"serial,register,date,value\n{serial},single,{day},1300\nNO-SUCH,single,{day},5\n" \
               f"{elsewhere},single,{day},10\n"
    answer = client.post("/api/v1/readings/bulk", headers=bearer(token, "en"), json={"csv": csv_text})
    assert answer.status_code == 200, answer.json
    assert (answer.json["saved"], answer.json["refused"]) == (1, 2)
    assert [(line["line"], line["ok"]) for line in answer.json["lines"]] == [(2, True), (3, False), (4, False)]
    assert answer.json["lines"][1]["code"] == "billing.csv_meter_unknown" and answer.json["lines"][1]["message"]
