"""Signals from the lower layers connected to the engine: what wakes a waiting procedure."""

from engine.messages import send_message
from ledger.signals import payment_posted

PAYMENT_MESSAGE = "payment_received"


def on_payment_posted(_sender, *, session, actor, contract_id, amount, bill_ids, reference, journal_id, **_rest):
    """A payment to a contract is the message `payment_received`, correlated by the contract, in the
    payment's own transaction: the procedure moves on exactly when the money is booked."""
    send_message(session, actor, PAYMENT_MESSAGE, contract_id,
                 {"amount": amount, "bill_ids": list(bill_ids or []), "reference": reference,
                  "journal_id": journal_id})


def connect() -> None:
    payment_posted.connect(on_payment_posted, weak=False)
