"""Adjustments, fees, refunds and write-offs: each a journal with a reason; above a configurable
amount only a user holding `ledger.approve` in the contract's region may post one."""

from datetime import date

from core.errors import DomainError
from core.permissions import LEDGER_APPROVE, has_permission
from core.regions import Region
from core.text import normalize_persian
from ledger.accounts import LockedAccount, lock_contract_account, system_account_id
from ledger.journals import NewCharge, Posted, post_contract_journal
from ledger.models import AccountKind, Channel, JournalKind
from ledger.posting import JournalDraft, fingerprint

# Rials; a deployment may pass its own (settings MADAM_LEDGER_APPROVAL_LIMIT, read at the edge).
DEFAULT_APPROVAL_LIMIT = 50_000_000


def _reason(reason: str | None) -> str:
    text = normalize_persian(reason or "") or ""
    if not text.strip():
        raise DomainError("ledger.reason_required", field="reason")
    return text.strip()


def _amount(amount) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise DomainError("ledger.amount_invalid", field="amount")
    return amount


def _approver(session, actor, account: LockedAccount, amount: int, approval_limit: int) -> int | None:
    """The approving user's id; raises when the amount needs an approval the actor cannot give."""
    if abs(amount) <= approval_limit or actor is None:  # no actor: the system itself
        return None
    region = session.get(Region, account.region_id) if account.region_id else None
    if not has_permission(session, actor, LEDGER_APPROVE, region):
        raise DomainError("ledger.approval_required", field="amount", limit=approval_limit)
    return actor.id


def _post(session, actor, account, kind, amount_on_contract, counter_account, reason, on, approval_limit,
          key=None, charge=None, **detail) -> Posted:
    approver_id = _approver(session, actor, account, amount_on_contract, approval_limit)
    draft = JournalDraft(kind, account.contract_id, on, key=key, reason=reason, approver_id=approver_id,
                         fingerprint=fingerprint(kind, account.contract_id, amount_on_contract, reason, on))
    lines = [(account.id, amount_on_contract, kind), (counter_account, -amount_on_contract, kind)]
    return post_contract_journal(session, actor, account, draft, lines, charge, **detail)


def adjust(session, actor, contract_id: int, amount: int, reason: str, on: date, *,
           approval_limit: int = DEFAULT_APPROVAL_LIMIT, key: str | None = None) -> Posted:
    """Correct a contract's debt: a positive amount adds to it (an open item, due `on`), a negative
    one takes from it."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise DomainError("ledger.amount_invalid", field="amount")
    reason = _reason(reason)
    account = lock_contract_account(session, contract_id)
    charge = NewCharge(JournalKind.ADJUSTMENT, amount, on) if amount > 0 else None
    return _post(session, actor, account, JournalKind.ADJUSTMENT, amount,
                 system_account_id(session, AccountKind.REVENUE, "adjustment"), reason, on, approval_limit, key,
                 charge)


def post_fee(session, actor, contract_id: int, amount: int, fee_type: str, reason: str, due_on: date, *,
             key: str | None = None, approval_limit: int = DEFAULT_APPROVAL_LIMIT) -> Posted:
    """A fee (reconnection, meter test …): an open item credited to the fee's revenue account."""
    amount, reason = _amount(amount), _reason(reason)
    account = lock_contract_account(session, contract_id)
    return _post(session, actor, account, JournalKind.FEE, amount,
                 system_account_id(session, AccountKind.REVENUE, f"fee:{fee_type}"), reason, due_on,
                 approval_limit, key, NewCharge(JournalKind.FEE, amount, due_on), fee_type=fee_type)


def refund(session, actor, contract_id: int, amount: int, channel: str, reason: str, on: date, *,
           approval_limit: int = DEFAULT_APPROVAL_LIMIT, key: str | None = None) -> Posted:
    """Pay back a creditor, never more than their credit."""
    amount, reason = _amount(amount), _reason(reason)
    if channel not in set(Channel):
        raise DomainError("ledger.channel_invalid", field="channel")
    account = lock_contract_account(session, contract_id)
    if amount > -account.balance:
        raise DomainError("ledger.refund_exceeds_credit", field="amount", credit=max(-account.balance, 0))
    return _post(session, actor, account, JournalKind.REFUND, amount,
                 system_account_id(session, AccountKind.CASH, channel), reason, on, approval_limit, key,
                 channel=channel)


def write_off(session, actor, contract_id: int, amount: int, reason: str, on: date, *,
              approval_limit: int = DEFAULT_APPROVAL_LIMIT, key: str | None = None) -> Posted:
    """Give up a debt that will not be collected, never more than the debt."""
    amount, reason = _amount(amount), _reason(reason)
    account = lock_contract_account(session, contract_id)
    if amount > account.balance:
        raise DomainError("ledger.write_off_exceeds_debt", field="amount", debt=max(account.balance, 0))
    return _post(session, actor, account, JournalKind.WRITE_OFF, -amount,
                 system_account_id(session, AccountKind.WRITE_OFF), reason, on, approval_limit, key)
