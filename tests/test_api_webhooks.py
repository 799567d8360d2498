"""Webhooks: an event reaches a subscribed URL (a local HTTP server) signed with the subscription's
secret; a failed delivery is retried with exponential backoff until it succeeds or gives up."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import event, select

from api import webhooks
from api.models import WebhookDelivery
from core.db import utcnow
from engine import cartable, runtime
from engine.models import WorkItem, WorkItemStatus
from tests.engine_support import deploy_test_request, region
from tests.test_api_helpers import bearer, contract_with_bill, token_for


class Receiver:
    """A local HTTP server that answers `fail` times with 500, then 204, and keeps what it got."""

    def __init__(self, fail: int = 0):
        self.fail, self.received = fail, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                failing = receiver.fail > 0
                receiver.fail -= 1
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(fail=0):
        made.append(Receiver(fail))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _subscribe(client, session, url, events):
    admin_token = token_for(session, ["api.manage"], regions=("demo",), name="admin-tool")
    created = client.post("/api/v1/webhooks", headers=bearer(admin_token), json={"url": url, "events": events})
    assert created.status_code == 201, created.json
    return created.json, admin_token


def test_a_payment_is_delivered_signed_after_a_failed_attempt_and_a_retry(client, session, demo, receiver):
    hook = receiver(fail=1)
    subscription, admin_token = _subscribe(client, session, hook.url, ["payment.posted"])
    bill_id, payment_id, _ = contract_with_bill(session)
    token = token_for(session, ["ledger.post"])
    paid = client.post("/api/v1/bank/payments", headers=bearer(token), json={
        "bill_id": bill_id, "payment_id": payment_id, "amount": 450_000, "paid_on": "2025-03-05", "reference": "W-1"})
    assert paid.status_code == 201
    [delivery] = session.scalars(select(WebhookDelivery)).all()
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert timedelta(seconds=29) < delivery.next_attempt_at - utcnow() <= timedelta(seconds=30)
    assert webhooks.deliver_due(session) == []  # not due yet
    [retried] = webhooks.deliver_due(session, now=utcnow() + timedelta(seconds=31))
    assert (retried.status, retried.attempts, retried.last_status_code) == ("delivered", 2, 204)
    headers, body = hook.received[-1]
    expected = "sha256=" + hmac.new(subscription["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Madam-Signature"] == expected and headers["X-Madam-Event"] == "payment.posted"
    sent = json.loads(body)
    assert sent["data"]["reference"] == "W-1" and sent["data"]["amount"] == 450_000
    assert sent["data"]["bill_ids"] == [bill_id] and len(hook.received) == 2
    log = client.get(f"/api/v1/webhooks/{subscription['id']}/deliveries", headers=bearer(admin_token)).json
    assert [(d["status"], d["attempts"]) for d in log["items"]] == [("delivered", 2)]


def test_a_delivery_backs_off_exponentially_and_gives_up(session, demo, receiver):
    hook = receiver(fail=100)
    webhooks.subscribe(session, None, hook.url, ["payment.posted"])
    [delivery] = webhooks.queue_event(session, "payment.posted", {"amount": 1})
    session.commit()
    now, waits = utcnow(), []
    for _ in range(webhooks.MAX_ATTEMPTS):
        [done] = webhooks.deliver_due(session, now=now)
        if done.next_attempt_at is not None:
            waits.append((done.next_attempt_at - now).total_seconds())
            now = done.next_attempt_at
    assert waits == [30, 60, 120, 240, 480]
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 6, "HTTP 500")
    assert len(hook.received) == 6


def test_an_unreachable_url_is_a_failed_attempt(session, demo):
    webhooks.subscribe(session, None, "http://127.0.0.1:9/nothing-listens", ["payment.posted"])
    webhooks.queue_event(session, "payment.posted", {"amount": 1})
    session.commit()
    [done] = webhooks.deliver_due(session)
    assert done.status == "pending" and done.last_status_code is None and done.last_error


def test_a_completed_request_is_an_event_and_a_rolled_back_one_sends_nothing(session, demo, receiver):
    hook = receiver()
    webhooks.subscribe(session, None, hook.url, ["request.completed"])
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    session.commit()

    def open_item():
        return session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                     WorkItem.status == WorkItemStatus.OPEN))

    cartable.complete(session, demo["clerk"], open_item().id, {"capacity": 0})
    with session.begin_nested() as savepoint:
        cartable.complete(session, demo["engineer"], open_item().id, {"approved": True})
        savepoint.rollback()
    assert session.scalars(select(WebhookDelivery)).all() == []
    cartable.complete(session, demo["engineer"], open_item().id, {"approved": True})
    session.commit()
    [delivered] = webhooks.deliver_due(session)
    assert delivered.status == "delivered"
    sent = json.loads(hook.received[0][1])
    assert sent["event"] == "request.completed" and sent["data"]["business_key"] == instance.business_key


def test_a_completed_request_nobody_subscribed_to_queues_nothing_and_asks_no_query_of_its_own(session, demo):
    webhooks.subscribe(session, None, "http://127.0.0.1:9/payments", ["payment.posted"])  # another event
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [first] = runtime.opened_items(session, instance.id)
    cartable.complete(session, demo["clerk"], first, {"capacity": 0})
    [second] = runtime.opened_items(session, instance.id)
    session.commit()  # a new transaction: the subscriptions are not cached any more
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        cartable.complete(session, demo["engineer"], second, {"approved": True})
        session.commit()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)
    assert instance.status == "completed" and instance.completed_at is not None
    assert session.scalars(select(WebhookDelivery)).all() == []
    # The step's own statement read whether anyone wants request.completed (its prepared statements run
    # on the driver, not through SQLAlchemy): nothing else was asked.
    assert not [s for s in statements if "webhook_subscriptions" in s]


def test_events_of_a_clients_subscription_stay_in_its_regions(session, demo, receiver):
    from api.clients import create_client
    from tests.test_api_helpers import region_id

    hook = receiver()
    owner, _token = create_client(session, None, "gis", ["ledger.view"], [region_id(session, "shiraz-1")])
    webhooks.subscribe(session, None, hook.url, ["payment.posted"], client_id=owner.id)
    assert len(webhooks.queue_event(session, "payment.posted", {}, region_id(session, "shiraz-1"))) == 1
    assert webhooks.queue_event(session, "payment.posted", {}, region_id(session, "shiraz-2")) == []


@pytest.mark.committed
def test_the_embedded_retry_loop_sends_what_falls_due(app, committed_db, receiver):
    hook = receiver()
    webhooks.subscribe(committed_db.session, None, hook.url, ["payment.posted"])
    webhooks.queue_event(committed_db.session, "payment.posted", {"amount": 7})
    committed_db.session.commit()
    stop = webhooks.start_retry_loop(app, interval=0.2)
    try:
        for _ in range(50):
            if hook.received:
                break
            threading.Event().wait(0.1)
    finally:
        stop.set()
    assert json.loads(hook.received[0][1])["data"] == {"amount": 7}


@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://localhost/hook", "http://10.1.2.3/hook",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook",
                                 "http://192.168.1.20/hook"])
def test_production_refuses_webhooks_to_this_server_or_the_private_network(app, client, session, demo, url):
    app.config["MADAM_WEBHOOK_PRIVATE_TARGETS"] = False  # as production has it by default
    try:
        admin_token = token_for(session, ["api.manage"], regions=("demo",), name="admin-tool")
        refused = client.post("/api/v1/webhooks", headers={**bearer(admin_token), "Accept-Language": "fa"},
                              json={"url": url, "events": ["payment.posted"]})
        assert refused.status_code in (400, 422), refused.json
        assert "شبکه داخلی" in json.dumps(refused.json, ensure_ascii=False)
        assert session.scalars(select(webhooks.WebhookSubscription)).all() == []
        # a public address is accepted (an IP literal: nothing to look up)
        created = client.post("/api/v1/webhooks", headers=bearer(admin_token),
                              json={"url": "https://93.184.215.14/hook", "events": ["payment.posted"]})
        assert created.status_code == 201, created.json
    finally:
        app.config["MADAM_WEBHOOK_PRIVATE_TARGETS"] = True


def test_a_receiver_that_moved_inside_or_redirects_gets_nothing(app, session, demo, receiver):
    inside = receiver()

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", inside.url)
            self.end_headers()

        def log_message(self, *args):
            pass

    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        webhooks.subscribe(session, None, f"http://127.0.0.1:{redirecting.server_address[1]}/hook", ["payment.posted"])
        [delivery] = webhooks.queue_event(session, "payment.posted", {"amount": 1000})
        session.flush()
        done = webhooks.attempt(session, delivery.id)
        assert (done.last_status_code, done.last_error, inside.received) == (307, "HTTP 307", [])  # not followed
        app.config["MADAM_WEBHOOK_PRIVATE_TARGETS"] = False  # the deployment now denies private targets
        done = webhooks.attempt(session, delivery.id)
        assert done.last_error.startswith("DomainError") and done.attempts == 2 and inside.received == []
    finally:
        app.config["MADAM_WEBHOOK_PRIVATE_TARGETS"] = True
        redirecting.shutdown()
        redirecting.server_close()


@pytest.mark.committed
def test_a_payment_posted_after_a_subscription_changes_elsewhere_follows_the_change(app, committed_db, receiver):
    """Each payment asks, in the statement that posts it, whether an active subscription wants it: a
    subscription another process makes or disables counts from the next payment on."""
    from datetime import date

    from sqlalchemy.orm import Session

    from ledger.accounts import open_contract_account
    from ledger.payments import PaymentRequest, post_payment, post_payments
    from madam.demo import load_demo
    from tests.test_api_helpers import region_id

    session = committed_db.session
    load_demo(session)
    open_contract_account(session, None, 7001, region_id(session, "shiraz-1"))
    session.commit()

    def pay(reference):
        post_payment(session, None, PaymentRequest("bank", reference, 1_000, date(2025, 3, 1), contract_id=7001))
        session.commit()
        return [d.payload["reference"] for d in session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]

    assert pay("P1") == []
    hook = receiver()
    with Session(committed_db.engine) as elsewhere:
        subscription = webhooks.subscribe(elsewhere, None, hook.url, ["payment.posted"])
        elsewhere.commit()
        assert pay("P2") == ["P2"]
        post_payments(session, None, [PaymentRequest("bank", f"B{n}", 1_000, date(2025, 3, 1), contract_id=7001)
                                      for n in (1, 2)])  # a batch reads the subscriptions itself
        session.commit()
        assert pay("P3") == ["P2", "B1", "B2", "P3"]
        webhooks.set_active(elsewhere, None, subscription.id, False)
        elsewhere.commit()
    assert pay("P4") == ["P2", "B1", "B2", "P3"]
