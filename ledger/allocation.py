"""Open items: which charges a contract's credits have settled, oldest first.

The rule that keeps it exact: a contract's open charges always total max(balance, 0), and its
unapplied credit is what is left, max(-balance, 0). After every journal the open total is brought
back to that figure, by applying credit to the oldest open charges or, when the balance rose with
no new charge (a payment reversed), by taking back the newest applications. Allocations are only
ever inserted; a negative one takes back part of an earlier one.
"""

from sqlalchemy import exists, func, select

from ledger.models import Allocation, Charge, Journal

_reversed = exists().where(Journal.reverses_id == Charge.journal_id)


def open_charges(session, account_ids) -> dict[int, list[list]]:
    """{account id: [[charge id, open amount, bill id], …]} oldest first, for charges not settled."""
    allocated = func.coalesce(func.sum(Allocation.amount), 0)
    rows = session.execute(
        select(Charge.account_id, Charge.id, Charge.amount - allocated, Charge.bill_id)
        .outerjoin(Allocation, Allocation.charge_id == Charge.id)
        .where(Charge.account_id.in_(list(account_ids)))
        .group_by(Charge.id)
        .having(Charge.amount - allocated > 0)
        .order_by(Charge.account_id, Charge.due_on, Charge.id)
    )
    found: dict[int, list[list]] = {}
    for account_id, charge_id, open_amount, bill_id in rows:
        found.setdefault(account_id, []).append([charge_id, int(open_amount), bill_id])
    return found


def apply_credit(charges: list[list], journal_id: int, amount: int, out: list[dict]) -> list[str]:
    """Apply `amount` to `charges` (consumed in place) oldest first; the bill IDs it settles fully."""
    settled = []
    for charge in charges:
        if amount <= 0:
            break
        charge_id, open_amount, bill_id = charge
        if open_amount <= 0:
            continue
        part = min(open_amount, amount)
        out.append({"charge_id": charge_id, "journal_id": journal_id, "amount": part})
        charge[1] -= part
        amount -= part
        if charge[1] == 0 and bill_id:
            settled.append(bill_id)
    return settled


def take_back(session, account_id: int, journal_id: int, amount: int, out: list[dict]) -> None:
    """Undo `amount` of applied credit, newest charges first (never on a reversed charge)."""
    allocated = func.sum(Allocation.amount)
    rows = session.execute(
        select(Charge.id, allocated)
        .join(Allocation, Allocation.charge_id == Charge.id)
        .where(Charge.account_id == account_id, ~_reversed)
        .group_by(Charge.id)
        .having(allocated > 0)
        .order_by(Charge.due_on.desc(), Charge.id.desc())
    )
    for charge_id, applied in rows:
        if amount <= 0:
            break
        part = min(int(applied), amount)
        out.append({"charge_id": charge_id, "journal_id": journal_id, "amount": -part})
        amount -= part
    if amount > 0:
        raise RuntimeError(f"account {account_id}: {amount} rials of credit could not be taken back")


def rebalance(session, account_id: int, journal_id: int, open_now: int, balance_after: int,
              out: list[dict]) -> list[str]:
    """Bring the account's open total from `open_now` to max(balance_after, 0)."""
    excess = open_now - max(balance_after, 0)
    if excess > 0:
        charges = open_charges(session, [account_id]).get(account_id, [])
        return apply_credit(charges, journal_id, excess, out)
    if excess < 0:
        take_back(session, account_id, journal_id, -excess, out)
    return []


def write_allocations(session, rows: list[dict]) -> None:
    if rows:
        session.execute(Allocation.__table__.insert(), rows)
