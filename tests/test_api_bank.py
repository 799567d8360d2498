"""Bank integration over REST: inquiry, notification (idempotent by reference), reconciliation; tokens'
scopes and regions, problem JSON in Persian or English, rate limits, every write audited with its client."""

import csv
import io

from sqlalchemy import select

from core.audit import AuditEntry
from tests.test_api_helpers import bearer, contract_with_bill, token_for


def _notify(client, token, bill_id, payment_id, amount=450_000, reference="BANK-1", paid_on="2025-03-05"):
    return client.post("/api/v1/bank/payments", headers=bearer(token), json={
        "bill_id": bill_id, "payment_id": payment_id, "amount": amount, "paid_on": paid_on, "reference": reference})


def test_inquiry_says_what_is_owed_and_a_payment_settles_it(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    token = token_for(session, ["ledger.view", "ledger.post"])
    owed = client.get("/api/v1/bank/bills", query_string={"bill_id": bill_id, "payment_id": payment_id},
                      headers=bearer(token))
    assert owed.status_code == 200, owed.json
    assert (owed.json["amount"], owed.json["status"], owed.json["period"]) == (450_000, "payable", "1403/12")
    paid = _notify(client, token, bill_id, payment_id)
    assert paid.status_code == 201, paid.json
    assert paid.json["status"] == "posted" and paid.json["settled_bill_ids"] == [bill_id]
    after = client.get("/api/v1/bank/bills", query_string={"bill_id": bill_id, "payment_id": payment_id},
                       headers=bearer(token)).json
    assert (after["amount"], after["status"], after["balance"]) == (0, "paid", 0)


def test_a_repeated_notification_returns_the_original_and_a_different_one_is_a_conflict(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    token = token_for(session, ["ledger.post"])
    first = _notify(client, token, bill_id, payment_id)
    again = _notify(client, token, bill_id, payment_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["status"] == "duplicate" and again.json["journal_id"] == first.json["journal_id"]
    assert again.json["settled_bill_ids"] == first.json["settled_bill_ids"]
    other = _notify(client, token, bill_id, payment_id, paid_on="2025-03-06")
    assert other.status_code == 409 and other.mimetype == "application/problem+json"
    assert other.json["code"] == "ledger.idempotency_conflict"


def test_scopes_and_regions_limit_a_token(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    elsewhere_bill, elsewhere_payment, _ = contract_with_bill(session, contract_id=7002, region="shiraz-2")
    viewer = token_for(session, ["ledger.view"])
    refused = _notify(client, viewer, bill_id, payment_id)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.get("/api/v1/bank/bills", query_string={"bill_id": elsewhere_bill},
                      headers=bearer(viewer)).status_code == 403
    poster = token_for(session, ["ledger.post"])
    assert _notify(client, poster, elsewhere_bill, elsewhere_payment).status_code == 403
    mine = client.get("/api/v1/bank/bills", query_string={"bill_id": bill_id}, headers=bearer(viewer))
    assert mine.status_code == 200
    assert client.get("/api/v1/payments", headers=bearer("mdm_not-a-token")).status_code == 401


def test_problems_speak_persian_by_default_and_english_when_asked(client, session, demo):
    token = token_for(session, ["ledger.view"])
    persian = client.get("/api/v1/bank/bills", query_string={"bill_id": "1234567"}, headers=bearer(token))
    english = client.get("/api/v1/bank/bills", query_string={"bill_id": "1234567"}, headers=bearer(token, "en"))
    assert persian.status_code == english.status_code == 422
    assert english.json["errors"] == {"bill_id": ["This bill ID is not valid."]}
    assert persian.json["errors"]["bill_id"] != english.json["errors"]["bill_id"]
    assert persian.headers["Content-Language"] == "fa" and english.headers["Content-Language"] == "en"
    missing = client.get("/api/v1/bank/bills", headers=bearer(token, "en"))
    assert missing.json["errors"] == {"bill_id": ["This field is required."]}


def test_the_reconciliation_file_lists_the_days_payments_by_channel(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    second_bill, second_payment, _ = contract_with_bill(session, contract_id=7003, amount=120_000)
    token = token_for(session, ["ledger.view", "ledger.post"])
    _notify(client, token, bill_id, payment_id, reference="B-9")
    client.post("/api/v1/bank/payments", headers=bearer(token), json={
        "bill_id": second_bill, "payment_id": second_payment, "amount": 120_000, "paid_on": "2025-03-05",
        "reference": "P-1", "channel": "pos"})
    _notify(client, token, bill_id, payment_id, reference="B-10", paid_on="2025-03-06")
    response = client.get("/api/v1/bank/reconciliation", query_string={"date": "2025-03-05"}, headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["channel"], r["reference"], r["amount"], r["status"]) for r in rows] == [
        ("bank", "B-9", "450000", "posted"), ("pos", "P-1", "120000", "posted")]
    assert rows[0]["paid_on_jalali"] == "1403/12/15"
    only_pos = client.get("/api/v1/bank/reconciliation", query_string={"date": "2025-03-05", "channel": "pos"},
                          headers=bearer(token)).get_data(as_text=True)
    assert "P-1" in only_pos and "B-9" not in only_pos


def test_every_write_is_audited_with_its_client(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    token = token_for(session, ["ledger.post"], name="bank-melli")
    _notify(client, token, bill_id, payment_id)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.client == "api-client:bank-melli")).all()
    assert {e.action for e in entries} >= {"ledger.payment_posted", "api.write"}
    assert all(e.actor_name == "api:bank-melli" for e in entries)


def test_a_token_over_its_rate_limit_is_told_to_wait(client, session, demo):
    token = token_for(session, ["ledger.view"], rate_limit=3)
    statuses = [client.get("/api/v1/payments", headers=bearer(token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = client.get("/api/v1/payments", headers=bearer(token))
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
