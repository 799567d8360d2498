"""Signals billing sends, for higher layers (the engine) to listen to."""

from blinker import Namespace

_signals = Namespace()

# Sent when a billing run has no contract left to bill (in the transaction that closes it): session, run.
run_finished = _signals.signal("billing-run-finished")
