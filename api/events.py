"""What becomes a webhook event: a payment posted (the ledger's signal), a request completed (the engine's
signal, sent by the step that completes an instance), a bill issued (a new issued bill row in a flush).
Connected by `madam.wiring`."""

from flask_sqlalchemy.session import Session
from sqlalchemy import event, select

from api import webhooks
from billing.models import Bill, BillStatus
from engine.signals import instance_completed, instance_completed_reads
from ledger.models import Account, AccountKind
from ledger.signals import payment_posted, payment_posted_reads

# Read by the statement that posts a single payment (ledger.signals.payment_posted_reads): whether an
# active subscription wants the event, the same test as `webhooks.wanted`, seeing this transaction's
# own (flushed) subscriptions too.
_WANTED = "api.payment_posted_wanted"
_WANTED_SQL = "EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.active AND s.events::jsonb ? 'payment.posted')"
# Read by the statement that writes an instance's completing step (engine.signals.instance_completed_reads), the
# same test for request.completed.
_COMPLETED_WANTED = "api.request_completed_wanted"
_COMPLETED_WANTED_SQL = ("EXISTS (SELECT 1 FROM webhook_subscriptions s "
                         "WHERE s.active AND s.events::jsonb ? 'request.completed')")


def on_payment_posted(_sender, *, session, contract_id, amount, bill_ids, reference, journal_id, reads=None,
                      **_rest):
    wanted = (reads or {}).get(_WANTED)
    if wanted is None:
        wanted = webhooks.wanted(session, webhooks.PAYMENT_POSTED)
    if not wanted:
        return
    region_id = session.scalar(select(Account.region_id).where(Account.contract_id == contract_id,
                                                               Account.kind == AccountKind.RECEIVABLE))
    webhooks.queue_event(session, webhooks.PAYMENT_POSTED,
                         {"contract_id": contract_id, "amount": amount, "bill_ids": list(bill_ids or []),
                          "reference": reference, "journal_id": journal_id}, region_id)


def on_instance_completed(_sender, *, session, instance, reads=None, **_rest):
    wanted = (reads or {}).get(_COMPLETED_WANTED)
    if wanted is None:
        wanted = webhooks.wanted(session, webhooks.REQUEST_COMPLETED)
    if not wanted:
        return
    webhooks.queue_event(session, webhooks.REQUEST_COMPLETED, {
        "instance_id": instance.id, "business_key": instance.business_key,
        "process_key": instance.process_key, "subscriber_id": instance.subscriber_id,
        "contract_id": instance.contract_id,
        "completed_at": instance.completed_at.isoformat() if instance.completed_at else None,
    }, instance.region_id)


def on_before_flush(session, _context, _instances) -> None:
    for bill in list(session.new):
        if isinstance(bill, Bill) and bill.status == BillStatus.ISSUED:
            _bill_issued(session, bill)  # bills are only ever inserted issued (a rebill is a new row)


def _bill_issued(session, bill: Bill) -> None:
    webhooks.queue_event(session, webhooks.BILL_ISSUED, {
        "contract_id": bill.contract_id, "bill_id": bill.bill_id, "payment_id": bill.payment_id,
        "period": bill.period, "payable": bill.payable, "total": bill.total,
        "issued_on": bill.issued_on.isoformat() if bill.issued_on else None,
        "due_on": bill.due_on.isoformat() if bill.due_on else None}, bill.region_id)


def _after_commit(session) -> None:
    webhooks.after_commit(session)


def _after_rollback(session) -> None:
    webhooks.after_rollback(session)


def connect() -> None:
    payment_posted.connect(on_payment_posted, weak=False)
    payment_posted_reads[_WANTED] = _WANTED_SQL
    instance_completed.connect(on_instance_completed, weak=False)
    instance_completed_reads[_COMPLETED_WANTED] = _COMPLETED_WANTED_SQL
    for name, listener in (("before_flush", on_before_flush), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
