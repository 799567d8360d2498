"""Signals from the lower layers connected to the engine: what wakes a waiting procedure."""

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from api import events as api_events
from billing.runs import progress
from billing.signals import run_finished
from engine.fastsql import real_session
from engine.messages import send_message
from engine.models import Instance, MessageWait
from ledger.accounts import open_contract_account
from ledger.signals import payment_posted, payment_posted_reads
from subscribers.signals import contract_opened

PAYMENT_MESSAGE = "payment_received"
RUN_FINISHED_MESSAGE = "billing_run_finished"


def on_payment_posted(_sender, *, session, actor, contract_id, amount, bill_ids, reference, journal_id, reads=None,
                      **_rest):
    """A payment to a contract is the message `payment_received`, correlated by the contract, in the
    payment's own transaction: the procedure moves on exactly when the money is booked."""
    awaited = (reads or {}).get(_AWAITED)
    if awaited is None or (not awaited and _woke_in_this_transaction(session)):
        # no read, or one made before an earlier payment of the batch woke a procedure that may wait anew
        awaited = str(contract_id) in _payment_waits(session)
    if not awaited:
        return  # nothing waits for this contract's money (most payments)
    woken = send_message(session, actor, PAYMENT_MESSAGE, contract_id,
                         {"amount": amount, "bill_ids": list(bill_ids or []), "reference": reference,
                          "journal_id": journal_id})
    if woken:
        session = real_session(session)
        session.info[_WOKE] = session.get_transaction()


_WOKE = "madam.payment_woke"


def _woke_in_this_transaction(session) -> bool:
    session = real_session(session)
    return session.info.get(_WOKE) is session.get_transaction()


# On the table, not the mapped class: the ORM's column handling cost more than the query itself, paid
# once per payment when each payment is its own transaction (a bank callback).
_waits = MessageWait.__table__
_PAYMENT_WAITS = select(_waits.c.contract_id, _waits.c.business_key).where(_waits.c.name == PAYMENT_MESSAGE)


# Read by the statement that posts a single payment (ledger.signals.payment_posted_reads): whether a
# procedure waits for this contract's money, the same test as `_payment_waits` for one contract.
_AWAITED = "madam.payment_awaited"
_AWAITED_SQL = ("EXISTS (SELECT 1 FROM message_waits w WHERE w.name = 'payment_received' "  # PAYMENT_MESSAGE
                "AND (w.contract_id = p.r_contract_id OR w.business_key = p.r_contract_id::text))")


def _payment_waits(session) -> set[str]:
    """The contracts (and business keys) some procedure waits on for a payment, read once per transaction
    (and again after a wait is added): for a payment posted without the statement's own read (the portable
    path), or after an earlier payment of the same transaction woke a procedure."""
    session = real_session(session)
    transaction = session.get_transaction()
    cached = session.info.get("madam.payment_waits")
    if cached is None or cached[0] is not transaction:
        rows = session.execute(_PAYMENT_WAITS).all()
        waits = {str(contract) for contract, _key in rows if contract is not None} | {key for _c, key in rows}
        cached = session.info["madam.payment_waits"] = (transaction, waits)
    return cached[1]


def _forget_payment_waits(session, _flush_context) -> None:
    """A wait made in this transaction after the read counts too: read them again next time."""
    if any(isinstance(obj, MessageWait) for obj in session.new):
        session.info.pop("madam.payment_waits", None)


def on_contract_opened(_sender, *, session, actor, contract_id, region_id, bill_id, **_rest):
    """Every contract has its receivable in the ledger from the day it opens."""
    open_contract_account(session, actor, contract_id, region_id, bill_id)


def on_run_finished(_sender, *, session, run, **_rest):
    """A billing run with nothing left to bill wakes its procedure for review, in the closing transaction."""
    if run.instance_id is None:
        return
    business_key = session.scalar(select(Instance.business_key).where(Instance.id == run.instance_id))
    send_message(session, None, RUN_FINISHED_MESSAGE, business_key, progress(session, run.id))


def connect() -> None:
    payment_posted.connect(on_payment_posted, weak=False)
    payment_posted_reads[_AWAITED] = _AWAITED_SQL
    if not event.contains(Session, "after_flush", _forget_payment_waits):
        event.listen(Session, "after_flush", _forget_payment_waits)
    contract_opened.connect(on_contract_opened, weak=False)
    run_finished.connect(on_run_finished, weak=False)
    api_events.connect()  # webhooks: a payment posted, a request completed (the engine's signal), a bill issued
