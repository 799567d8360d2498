"""Signals the ledger sends, for higher layers (the engine) to listen to."""

from blinker import Namespace

_signals = Namespace()

# Sent after a payment is posted to a contract (in the same transaction): session, actor, contract_id,
# amount, bill_ids (the bills it settled in full), reference, journal_id.
payment_posted = _signals.signal("payment-posted")
