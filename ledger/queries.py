"""Reads that pages, the API and reports share: balance, statement, aging, and the debtor lists."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, func, select

from ledger.allocation import open_charges
from ledger.models import Account, AccountKind, Allocation, Charge, GracePeriod, Journal, Posting

DEBTOR, CREDITOR, SETTLED = "debtor", "creditor", "settled"
AGING_BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")


def account_of(session, contract_id: int) -> Account | None:
    return session.scalar(select(Account).where(Account.contract_id == contract_id,
                                                Account.kind == AccountKind.RECEIVABLE))


def standing(balance: int) -> str:
    return DEBTOR if balance > 0 else CREDITOR if balance < 0 else SETTLED


def posted_balance(session, account_id: int) -> int:
    """The sum of the account's postings: what its cached balance must always equal."""
    return int(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))
                              .where(Posting.account_id == account_id)))


@dataclass(frozen=True)
class StatementRow:
    journal_id: int
    kind: str
    effective_on: date
    created_at: datetime
    reason: str
    debit: int
    credit: int
    balance: int
    reverses_id: int | None
    reversed: bool


def statement(session, account_id: int, limit: int = 200) -> list[StatementRow]:
    """The account's journals in the order they were posted, each with the running balance after it
    (the last `limit` of them; the running balance still counts everything before)."""
    net = func.sum(Posting.amount)
    reversed_ = exists().where(Journal.reverses_id == Posting.journal_id).correlate(Posting)
    rows = session.execute(
        select(Posting.journal_id, net, reversed_.label("reversed"))
        .where(Posting.account_id == account_id).group_by(Posting.journal_id)
        .order_by(Posting.journal_id.desc()).limit(limit)
    ).all()
    rows.reverse()
    journals = {j.id: j for j in session.scalars(select(Journal).where(Journal.id.in_([r[0] for r in rows])))}
    first = rows[0][0] if rows else 0
    running = int(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))
                                 .where(Posting.account_id == account_id, Posting.journal_id < first)))
    result = []
    for journal_id, amount, is_reversed in rows:
        running += int(amount)
        journal = journals[journal_id]
        result.append(StatementRow(journal_id, journal.kind, journal.effective_on, journal.created_at, journal.reason,
                                   max(int(amount), 0), max(-int(amount), 0), running, journal.reverses_id,
                                   bool(is_reversed)))
    return result


def aging(session, account_id: int, today: date) -> dict[str, int]:
    """Open debt by how long past due it is."""
    buckets = dict.fromkeys(AGING_BUCKETS, 0)
    charges = open_charges(session, [account_id]).get(account_id, [])
    due = dict(session.execute(select(Charge.id, Charge.due_on)
                               .where(Charge.id.in_([c[0] for c in charges]))).tuples().all()) if charges else {}
    for charge_id, open_amount, _bill_id in charges:
        days = (today - due[charge_id]).days
        bucket = ("not_due" if days <= 0 else "1_30" if days <= 30 else "31_60" if days <= 60
                  else "61_90" if days <= 90 else "over_90")
        buckets[bucket] += open_amount
    return buckets


def open_items(session, account_id: int) -> list[dict]:
    charges = open_charges(session, [account_id]).get(account_id, [])
    rows = {c.id: c for c in session.scalars(select(Charge).where(Charge.id.in_([c[0] for c in charges])))}
    return [{"charge": rows[charge_id], "open": open_amount} for charge_id, open_amount, _ in charges]


def _live_grace(today: date):
    return exists().where(GracePeriod.account_id == Account.id, GracePeriod.due_on >= today)


def debtors_with_deadline(today: date):
    """Contracts in debt holding a grace period that has not run out: (account, latest due date).
    A statement to run or to scope with `core.permissions.scope_to_regions` on Account.region_id."""
    return (select(Account, func.max(GracePeriod.due_on).label("due_on"))
            .join(GracePeriod, and_(GracePeriod.account_id == Account.id, GracePeriod.due_on >= today))
            .where(Account.balance > 0).group_by(Account.id).order_by(func.max(GracePeriod.due_on)))


def overdue(today: date, above: int = 0):
    """Contracts with debt past its due date and no grace period still running, more than `above` rials of
    it: (account, overdue amount, oldest open due date). Scope with Account.region_id as above."""
    applied = (select(Allocation.charge_id, func.sum(Allocation.amount).label("applied"))
               .group_by(Allocation.charge_id).subquery())
    open_amount = Charge.amount - func.coalesce(applied.c.applied, 0)
    past_due = (select(Charge.account_id, func.sum(open_amount).label("open"), func.min(Charge.due_on).label("oldest"))
                .outerjoin(applied, applied.c.charge_id == Charge.id)
                .where(Charge.due_on < today, open_amount > 0)
                .group_by(Charge.account_id).subquery())
    return (select(Account, past_due.c.open, past_due.c.oldest)
            .join(past_due, past_due.c.account_id == Account.id)
            .where(Account.balance > 0, past_due.c.open > above, ~_live_grace(today))
            .order_by(past_due.c.oldest))
