"""The API's use of Redis: webhook deliveries as RQ jobs (a failed one scheduled again for its backoff
time) and rate limits counted in Redis, falling back to this process when Redis cannot be reached."""

import uuid

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from api import webhooks
from api.models import WebhookDelivery
from api.ratelimit import MemoryCounter, check, counter_for
from core.jobs import JobBackend
from tests.test_api_helpers import bearer, contract_with_bill, token_for
from tests.test_api_webhooks import Receiver

REDIS_URL = "redis://127.0.0.1:6379/13"  # not the db other tests flush


@pytest.fixture
def webhook_queue():
    backend = JobBackend(REDIS_URL)
    queue = backend.queue("webhooks")
    queue.empty()
    yield backend, queue
    for job_id in ScheduledJobRegistry(queue=queue).get_job_ids():
        ScheduledJobRegistry(queue=queue).remove(job_id, delete_job=True)
    queue.empty()


def test_with_redis_a_delivery_is_a_job_and_a_failed_one_is_scheduled_again(app, client, session, demo,
                                                                            monkeypatch, webhook_queue):
    backend, queue = webhook_queue
    monkeypatch.setitem(app.extensions, "madam_jobs", backend)
    hook = Receiver(fail=1)
    try:
        webhooks.subscribe(session, None, hook.url, ["payment.posted"])
        bill_id, payment_id, _ = contract_with_bill(session)
        paid = client.post("/api/v1/bank/payments", headers=bearer(token_for(session, ["ledger.post"])), json={
            "bill_id": bill_id, "payment_id": payment_id, "amount": 450_000, "paid_on": "2025-03-05",
            "reference": "RQ-1"})
        assert paid.status_code == 201
        [delivery] = session.scalars(select(WebhookDelivery)).all()
        assert delivery.attempts == 0 and hook.received == []  # queued, not sent in the request
        [job] = queue.jobs
        assert job.func_name == "api.webhooks.deliver_job" and job.args == (delivery.id,)
        assert job.func(*job.args) == "pending"  # as a worker would run it: the receiver said 500
        assert ScheduledJobRegistry(queue=queue).count == 1  # the retry, at its backoff time
        session.refresh(delivery)
        assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    finally:
        hook.close()


@pytest.mark.parametrize("make", [MemoryCounter, lambda: counter_for(REDIS_URL)], ids=["memory", "redis"])
def test_a_fixed_window_allows_the_limit_then_refuses_until_the_next_minute(make):
    counter, key = make(), f"test-{uuid.uuid4().hex}"
    start = 1_800_000_000.0  # a window's first second
    verdicts = [check(counter, key, 3, now=start + i)[0] for i in range(4)]
    assert verdicts == [True, True, True, False]
    allowed, remaining, reset = check(counter, key, 3, now=start + 59)
    assert (allowed, remaining, reset) == (False, 0, 2)
    assert check(counter, key, 3, now=start + 60)[:2] == (True, 2)


def test_rate_limits_still_count_when_redis_is_down():
    counter, key = counter_for("redis://127.0.0.1:1/0"), "down"
    verdicts = [check(counter, key, 2, now=1_800_000_000.0)[0] for _ in range(3)]
    assert verdicts == [True, True, False]
