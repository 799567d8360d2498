"""Signals the engine sends, for higher layers (the API's webhooks) to listen to."""

from blinker import Namespace

_signals = Namespace()

# Sent when an instance completes, in the transaction of the step that completed it, after its row is written:
# session, instance (its completed_at and status set), reads (see below).
instance_completed = _signals.signal("instance-completed")

# What a receiver of `instance_completed` wants read in the very statement that writes the completing step
# (PostgreSQL), so that it costs no round trip of its own: {name: an SQL expression}. Their values reach the
# receivers as `reads={name: value}`; `reads=None` (SQLite, or a step written apart): a receiver reads for itself.
instance_completed_reads: dict[str, str] = {}
