"""Signals the ledger sends, for higher layers (the engine) to listen to."""

from blinker import Namespace

_signals = Namespace()

# Sent after a payment is posted to a contract (in the same transaction): session, actor, contract_id,
# amount, bill_ids (the bills it settled in full), reference, journal_id, reads (see below).
payment_posted = _signals.signal("payment-posted")

# What a receiver of `payment_posted` wants read for the posted payment in the very statement that posts
# a single one (a bank callback), so that it costs no round trip of its own: {name: an SQL expression
# over the posted row `p`, e.g. p.r_contract_id}. Their values reach the receivers as `reads={name:
# value}`. A batch (a bank file) sends `reads={}`: a receiver then reads for itself, once per transaction.
payment_posted_reads: dict[str, str] = {}
