"""Webhooks: subscribed URLs receive events, signed, retried with exponential backoff, all logged.

An event writes one delivery row per subscription in the transaction that caused it (an outbox: a
rolled-back change sends nothing). When that transaction commits, each delivery becomes a job on the
`webhooks` queue (RQ), or, with no Redis, runs in this process once the request has answered. A
failed attempt waits BACKOFF_SECONDS · 2^(attempt-1) before the next; after MAX_ATTEMPTS it is failed.
`madam webhooks deliver` sends whatever is due (for CLI-made events and missed retries).

The body is JSON; `X-Madam-Signature: sha256=<hex>` is HMAC-SHA256 of the exact body with the
subscription's secret.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import inspect, select

from api.clients import client_reaches
from api.models import ApiClient, DeliveryStatus, WebhookDelivery, WebhookSubscription
from core.audit import audit
from core.db import db, utcnow
from core.errors import DomainError
from core.regions import Region

log = logging.getLogger(__name__)

REQUEST_COMPLETED, PAYMENT_POSTED, BILL_ISSUED = "request.completed", "payment.posted", "bill.issued"
EVENTS = (REQUEST_COMPLETED, PAYMENT_POSTED, BILL_ISSUED)
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30
TIMEOUT_SECONDS = 5
_PENDING = "madam_webhook_deliveries"
_SUBSCRIPTIONS = "madam_webhook_subscriptions"


def private_targets_allowed() -> bool:
    """Webhooks to this machine or the private network: allowed in development (and tests); in production
    only with MADAM_WEBHOOK_PRIVATE_TARGETS=allow — otherwise an API client could make the server call
    internal services (the database's host, a cloud metadata address) on its behalf."""
    return bool(has_app_context() and current_app.config.get("MADAM_WEBHOOK_PRIVATE_TARGETS"))


def private_address(hostname: str) -> str | None:
    """The first address `hostname` resolves to that is not a public one, or None. A name that does not
    resolve is left to the delivery to fail."""
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


def check_target(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise DomainError("api.webhook_url_invalid", field="url")
    if not private_targets_allowed() and private_address(parts.hostname):
        raise DomainError("api.webhook_url_private", field="url")


def subscribe(session, actor, url: str, events: list[str], client_id: int | None = None) -> WebhookSubscription:
    url = (url or "").strip()
    check_target(url)
    if not events or set(events) - set(EVENTS):
        raise DomainError("api.webhook_events_invalid", field="events", events=", ".join(EVENTS))
    if client_id is not None and session.get(ApiClient, client_id) is None:
        raise DomainError("api.client_unknown", field="client_id")
    subscription = WebhookSubscription(url=url, events=sorted(set(events)), client_id=client_id,
                                       secret=secrets.token_hex(24))
    session.add(subscription)
    session.flush()
    session.info.pop(_SUBSCRIPTIONS, None)
    audit(session, actor, "api.webhook_subscribed", subscription, url=url, events=subscription.events)
    return subscription


def set_active(session, actor, subscription_id: int, active: bool) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise DomainError("api.webhook_unknown")
    subscription.active = active
    session.flush()
    session.info.pop(_SUBSCRIPTIONS, None)
    audit(session, actor, "api.webhook_enabled" if active else "api.webhook_disabled", subscription)
    return subscription


def _active_subscriptions(session) -> list[WebhookSubscription]:
    """Read once per transaction: a bank file or a billing run raises thousands of events."""
    cached = session.info.get(_SUBSCRIPTIONS)
    if cached is None:
        with session.no_autoflush:
            cached = session.info[_SUBSCRIPTIONS] = list(session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True))))
    return cached


def wanted(session, event: str) -> bool:
    return any(event in (s.events or []) for s in _active_subscriptions(session))


def queue_event(session, event: str, payload: dict, region_id: int | None = None) -> list[WebhookDelivery]:
    """One pending delivery per active subscription to `event` (a client's only within its regions)."""
    subscriptions = [s for s in _active_subscriptions(session) if event in (s.events or [])]
    if not subscriptions:
        return []
    deliveries = []
    with session.no_autoflush:
        region = session.get(Region, region_id) if region_id is not None else None
        for subscription in subscriptions:
            owner = subscription.client
            if owner is not None and (not owner.active or region is None
                                      or not client_reaches(session, owner, region)):
                continue
            delivery = WebhookDelivery(subscription_id=subscription.id, event=event, payload=payload,
                                       status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                                       last_error="")
            session.add(delivery)
            deliveries.append(delivery)
    session.info.setdefault(_PENDING, []).extend(deliveries)
    return deliveries


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps({"id": delivery.id, "event": delivery.event, "created_at": delivery.created_at.isoformat(),
                       "data": delivery.payload}, ensure_ascii=False, sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS * 2 ** (attempts - 1))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the receiver's answer, not a new address to post to (it could point inside)."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> int:
    check_target(url)  # again at each attempt: the name may resolve elsewhere by now
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only)
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def attempt(session, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send a pending delivery once; record the outcome and, on failure, when to try again."""
    now = now or utcnow()
    delivery = session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update())
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery
    subscription = delivery.subscription
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", "User-Agent": "Madam-Webhooks/1",
               "X-Madam-Event": delivery.event, "X-Madam-Delivery": str(delivery.id),
               "X-Madam-Signature": signature(subscription.secret, body)}
    delivery.attempts += 1
    try:
        status = _post(subscription.url, body, headers)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # unreachable, timed out, refused: all a failed attempt
        status, error = None, f"{type(exc).__name__}: {exc}"[:1000]
    delivery.last_status_code, delivery.last_error = status, error
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    session.flush()
    return delivery


def due_ids(session, now: datetime | None = None, limit: int = 100) -> list[int]:
    return list(session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= (now or utcnow()))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)))


def deliver_due(session, now: datetime | None = None) -> list[WebhookDelivery]:
    """Attempt every delivery that is due, each committed on its own."""
    done = []
    for delivery_id in due_ids(session, now):
        done.append(attempt(session, delivery_id, now))
        session.commit()
    return done


def redeliver(session, actor, delivery_id: int) -> WebhookDelivery:
    """An admin sends a failed (or pending) delivery again, now."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise DomainError("api.delivery_unknown")
    if delivery.status != DeliveryStatus.DELIVERED:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, utcnow()
        session.flush()
        session.info.setdefault(_PENDING, []).append(delivery)
        audit(session, actor, "api.webhook_redelivered", delivery)
    return delivery


def deliveries(session, status: str | None = None, subscription_id: int | None = None, page: int = 1,
               per_page: int = 50):
    stmt = select(WebhookDelivery)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if subscription_id:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    from sqlalchemy import func

    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


# --- the job, and handing deliveries to it when their transaction commits ---------------------------

def deliver_job(delivery_id: int) -> str:
    """The `webhooks` queue's job: one attempt; a retry is queued for its time when it failed."""
    delivery = attempt(db.session, delivery_id)
    db.session.commit()
    if delivery is None:
        return "gone"
    status, due = delivery.status, delivery.next_attempt_at
    if status == DeliveryStatus.PENDING and due is not None:
        backend = current_app.extensions["madam_jobs"]
        if backend.redis_url:
            backend.queue("webhooks").enqueue_in(due - utcnow(), deliver_job, delivery_id)
    return status


def after_commit(session) -> None:
    session.info.pop(_SUBSCRIPTIONS, None)
    pending = session.info.pop(_PENDING, [])
    ids = [key[0] for key in (inspect(d).identity for d in pending) if key]
    if not ids or not has_app_context():
        return
    backend = current_app.extensions.get("madam_jobs")
    if backend is not None and backend.redis_url:
        for delivery_id in ids:
            try:
                backend.enqueue(deliver_job, delivery_id, queue="webhooks")
            except Exception:  # Redis down: the delivery stays pending for `madam webhooks deliver`
                log.exception("could not queue webhook delivery %s", delivery_id)
    elif has_request_context():
        g.setdefault("madam_webhooks_due", []).extend(ids)


def after_rollback(session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_SUBSCRIPTIONS, None)


def run_in_process(response):
    """With no Redis: the request's deliveries, after its work is committed (their own commits)."""
    ids = g.pop("madam_webhooks_due", [])
    for delivery_id in ids:
        try:
            attempt(db.session, delivery_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("webhook delivery %s failed in-process; it stays pending", delivery_id)
    return response


def start_retry_loop(app, interval: float = 30.0):
    """Embedded mode (no Redis, no worker): send the deliveries that fall due, every `interval` seconds,
    in a daemon thread. Returns the event that stops it."""
    import threading

    from core.audit import Origin, set_origin

    stop = threading.Event()

    def loop():
        set_origin(Origin("", "webhooks"))
        while not stop.wait(interval):
            with app.app_context():
                try:
                    deliver_due(db.session)
                except Exception:
                    db.session.rollback()
                    log.exception("webhook retry pass failed")
                finally:
                    db.session.remove()

    threading.Thread(target=loop, name="madam-webhooks", daemon=True).start()
    return stop
