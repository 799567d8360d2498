"""Signals the registry sends, for higher layers to listen to (the registry imports no other domain)."""

from blinker import Namespace

_signals = Namespace()

# Sent when a contract (اشتراک) is opened, in the same transaction: session, actor, contract_id,
# region_id, bill_id. The composition root opens the contract's account in the ledger on it.
contract_opened = _signals.signal("contract-opened")
