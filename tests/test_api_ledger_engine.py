"""The ledger's and the engine's endpoints: balance, statement, payments with filters, grace periods and
installment plans; procedures, requests and work items — each limited to the caller's regions."""

from datetime import date, timedelta

from api.common import today
from engine import runtime
from tests.engine_support import deploy_test_request, region
from tests.helpers import login
from tests.test_api_helpers import bearer, contract_with_bill, region_id, token_for


def test_balance_statement_and_payments_of_a_contract(client, session, demo):
    bill_id, payment_id, _ = contract_with_bill(session)
    contract_with_bill(session, contract_id=7005, region="shiraz-2")
    token = token_for(session, ["ledger.view", "ledger.post"])
    paid = client.post("/api/v1/payments", headers=bearer(token), json={
        "channel": "pos", "reference": "POS-1", "amount": 150_000, "paid_on": "2025-03-04", "contract_id": 7001})
    assert paid.status_code == 201, paid.json
    balance = client.get("/api/v1/contracts/7001/balance", headers=bearer(token)).json
    assert (balance["balance"], balance["standing"], balance["bill_id"]) == (300_000, "debtor", bill_id)
    assert [(i["payment_id"], i["open"]) for i in balance["open_items"]] == [(payment_id, 300_000)]
    statement = client.get("/api/v1/contracts/7001/statement", headers=bearer(token)).json["items"]
    assert [(r["kind"], r["debit"], r["credit"], r["balance"]) for r in statement] == [
        ("bill", 450_000, 0, 450_000), ("payment", 0, 150_000, 300_000)]
    listed = client.get("/api/v1/payments", query_string={"contract_id": "7001", "channel": "pos"},
                        headers=bearer(token)).json
    assert (listed["total"], listed["items"][0]["reference"]) == (1, "POS-1")
    assert client.get("/api/v1/payments", query_string={"channel": "bank"}, headers=bearer(token)).json["total"] == 0
    assert client.get("/api/v1/contracts/7005/balance", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/contracts/7999/balance", headers=bearer(token)).status_code == 404


def test_grace_periods_and_installment_plans(client, session, demo):
    bill_id, _payment_id, _ = contract_with_bill(session, amount=3_000_000)
    viewer = token_for(session, ["ledger.view"])
    approver = token_for(session, ["ledger.approve", "ledger.view"])
    due = (today() + timedelta(days=20)).isoformat()
    refused = client.post("/api/v1/contracts/7001/grace-periods", headers=bearer(viewer),
                          json={"due_on": due, "reason": "قطعی برق"})
    assert refused.status_code == 403
    grace = client.post("/api/v1/contracts/7001/grace-periods", headers=bearer(approver),
                        json={"due_on": due, "reason": "قطعی برق", "amount": 1_000_000})
    assert grace.status_code == 201, grace.json
    assert grace.json["status"]["state"] == "current" and grace.json["amount"] == 1_000_000
    past = client.post("/api/v1/contracts/7001/grace-periods", headers=bearer(approver, "en"),
                       json={"due_on": "2020-01-01", "reason": "x"})
    assert past.status_code == 422 and list(past.json["errors"]) == ["due_on"]
    plan = client.post("/api/v1/contracts/7001/installment-plans", headers=bearer(approver), json={
        "count": 3, "down_payment_percent": 10, "first_due_on": due, "reason": "تقسیط"})
    assert plan.status_code == 201, plan.json
    amounts = [i["amount"] for i in plan.json["installments"]]
    assert sum(amounts) == 3_000_000 and len(amounts) == 4
    listed = client.get("/api/v1/contracts/7001/installment-plans", headers=bearer(viewer)).json["items"]
    assert [p["id"] for p in listed] == [plan.json["id"]]
    first = plan.json["installments"][1]
    owed = client.get("/api/v1/bank/bills", headers=bearer(viewer),
                      query_string={"bill_id": bill_id, "payment_id": first["payment_id"]}).json
    assert (owed["amount"], owed["status"]) == (first["amount"], "payable")


def test_procedures_requests_and_work_items_within_the_clients_regions(client, session, demo):
    deploy_test_request(session, demo["analyst"])
    elsewhere = runtime.start_instance(session, demo["admin"], "test_request", region(session, "shiraz-2"))
    session.commit()
    token = token_for(session, ["cartable.use", "instances.admin"])
    assert "test_request" in [p["process_key"] for p in client.get("/api/v1/processes", headers=bearer(token)).json[
        "items"]]
    started = client.post("/api/v1/instances", headers=bearer(token), json={
        "process_key": "test_request", "region_id": region_id(session, "shiraz-1"), "data": {"applicant": "رضا"}})
    assert started.status_code == 201, started.json
    assert started.json["status"] == "running" and started.json["business_key"]
    outside = client.post("/api/v1/instances", headers=bearer(token), json={
        "process_key": "test_request", "region_id": region_id(session, "shiraz-2")})
    assert outside.status_code == 403
    listed = client.get("/api/v1/instances", query_string={"process_key": "test_request"}, headers=bearer(token)).json
    assert [i["id"] for i in listed["items"]] == [started.json["id"]]
    assert client.get(f"/api/v1/instances/{elsewhere.id}", headers=bearer(token)).status_code == 403
    detail = client.get(f"/api/v1/instances/{started.json['id']}", headers=bearer(token)).json
    assert detail["events"][0]["action"] == "started" and detail["events"][0]["actor_name"].startswith("api:")
    items = client.get("/api/v1/work-items", query_string={"instance_id": started.json["id"], "status": "open"},
                       headers=bearer(token)).json["items"]
    assert [(w["task_name"], w["role_code"]) for w in items] == [("register", "counter_clerk")]


def test_a_signed_in_user_uses_the_same_endpoints_with_her_own_permissions(client, session, demo):
    contract_with_bill(session)
    login(client, "clerk")  # counter clerk: may view the ledger, may not post to it
    assert client.get("/api/v1/contracts/7001/balance").json["balance"] == 450_000
    posted = client.post("/api/v1/payments", json={"channel": "pos", "reference": "X", "amount": 1000,
                                                   "paid_on": date(2025, 3, 4).isoformat(), "contract_id": 7001})
    assert posted.status_code == 403
