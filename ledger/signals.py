"""Signals the ledger sends, for higher layers (the engine) to listen to."""

from blinker import Namespace

_signals = Namespace()

# Sent after a payment is posted to a contract (in the same transaction): session, actor, contract_id,
# amount, bill_ids (the bills it settled in full), reference, journal_id, reads (see below).
payment_posted = _signals.signal("payment-posted")

# What a receiver of `payment_posted` wants read for each posted payment in the very statement that posts
# it (one from a bank callback, a thousand from a bank file's chunk), so that it costs no round trip of its
# own: {name: an SQL expression over the posted row `p`, e.g. p.r_contract_id}. Their values reach the
# receivers as `reads={name: value}`, read as the statement ended: a receiver that has itself changed what
# they read since (in the same transaction, for an earlier payment of the batch) must read again. The
# portable path (SQLite) sends `reads={}`: a receiver then reads for itself.
payment_posted_reads: dict[str, str] = {}
