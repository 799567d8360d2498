"""Posting a journal that touches one contract: postings, its cached balance, its open items."""

from dataclasses import dataclass

from sqlalchemy import insert

from core.audit import audit
from core.errors import Conflict
from ledger.accounts import LockedAccount, move_balances
from ledger.allocation import rebalance, write_allocations
from ledger.models import Charge, Journal
from ledger.posting import JournalDraft, claim_journal, replay, write_postings


@dataclass(frozen=True)
class Posted:
    journal_id: int
    new: bool  # False: an earlier request with the same key had posted it
    balance: int | None = None
    settled_bill_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewCharge:
    kind: str
    amount: int
    due_on: object
    bill_id: str = ""
    payment_id: str = ""
    period: str = ""


def post_contract_journal(session, actor, account: LockedAccount, draft: JournalDraft,
                          lines: list[tuple[int, int, str]], charge: NewCharge | None = None,
                          direct_allocations=(), action: str = "", audited: bool = True, **audit_detail) -> Posted:
    """Post `lines` ((account id, amount, line) summing to zero) as one journal on a locked contract
    account. `direct_allocations` ((charge id, amount)) are made by this journal before the open
    items are brought back in line with the balance. `audited=False`: the caller's own audit row names
    the journal and says what this one would (a bill's, billing/bills.py), so none is written here."""
    journal_id = claim_journal(session, actor, draft)
    if journal_id is None:
        if draft.key is None:  # only a reversal can collide without a key
            raise Conflict("ledger.already_reversed", journal_id=draft.reverses_id)
        return Posted(replay(session, draft.key, draft.fingerprint), new=False)
    write_postings(session, [(journal_id, account_id, amount, line) for account_id, amount, line in lines])
    delta = sum(amount for account_id, amount, _ in lines if account_id == account.id)
    move_balances(session, {account.id: delta})
    open_now = max(account.balance, 0)
    if charge is not None:
        session.execute(insert(Charge).values(
            journal_id=journal_id, account_id=account.id, kind=charge.kind, amount=charge.amount,
            due_on=charge.due_on, bill_id=charge.bill_id, payment_id=charge.payment_id, period=charge.period))
        open_now += charge.amount
    direct = [{"charge_id": charge_id, "journal_id": journal_id, "amount": amount}
              for charge_id, amount in direct_allocations if amount]
    write_allocations(session, direct)
    open_now -= sum(row["amount"] for row in direct)
    balance_after = account.balance + delta
    more: list[dict] = []
    settled = rebalance(session, account.id, journal_id, open_now, balance_after, more)
    write_allocations(session, more)
    if audited:
        audit(session, actor, action or f"ledger.{draft.kind}_posted", Journal(id=journal_id),
              contract_id=account.contract_id, kind=draft.kind, amount=delta, reason=draft.reason, **audit_detail)
    session.flush()
    return Posted(journal_id, True, balance_after, tuple(settled))
