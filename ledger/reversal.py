"""Reversal: the exact negation of a journal, at most once."""

from datetime import date

from sqlalchemy import func, select

from core.audit import audit
from core.errors import Conflict, DomainError, NotFound
from ledger.accounts import lock_contract_account
from ledger.adjustments import _reason
from ledger.allocation import _reversed
from ledger.journals import Posted, post_contract_journal
from ledger.models import Allocation, Charge, Journal, JournalKind, Posting
from ledger.posting import JournalDraft, claim_journal, write_postings


def reverse(session, actor, journal_id: int, reason: str, on: date) -> Posted:
    """Post the negation of journal `journal_id`. Its bill (if any) is closed; the bills its payment
    settled (if any) are opened again. A journal is reversed once; a reversal is never reversed."""
    reason = _reason(reason)
    original = session.get(Journal, journal_id)
    if original is None:
        raise NotFound("ledger.no_journal", journal_id=journal_id)
    if original.kind == JournalKind.REVERSAL:
        raise DomainError("ledger.cannot_reverse_reversal", journal_id=journal_id)
    account = lock_contract_account(session, original.contract_id) if original.contract_id is not None else None
    if session.scalar(select(Journal.id).where(Journal.reverses_id == journal_id)) is not None:
        raise Conflict("ledger.already_reversed", journal_id=journal_id)
    postings = session.execute(select(Posting.account_id, Posting.amount, Posting.line)
                               .where(Posting.journal_id == journal_id).order_by(Posting.id)).all()
    lines = [(account_id, -amount, line) for account_id, amount, line in postings]
    draft = JournalDraft(JournalKind.REVERSAL, original.contract_id, on, reason=reason, reverses_id=journal_id)
    if account is None:  # a payment held in suspense: no contract, no open items
        new_id = claim_journal(session, actor, draft)
        if new_id is None:
            raise Conflict("ledger.already_reversed", journal_id=journal_id)
        write_postings(session, [(new_id, a, amount, line) for a, amount, line in lines])
        audit(session, actor, "ledger.reversal_posted", Journal(id=new_id), reverses=journal_id, reason=reason)
        session.flush()
        return Posted(new_id, True)
    return post_contract_journal(session, actor, account, draft, lines, direct_allocations=_undone(session, journal_id),
                                 reverses=journal_id)


def _undone(session, journal_id: int) -> list[tuple[int, int]]:
    """(charge id, amount) allocations that undo the journal's effect on open items: its own charge
    closed, and what it applied to other (not reversed) charges taken back."""
    allocated = func.coalesce(func.sum(Allocation.amount), 0)
    own = session.execute(select(Charge.id, Charge.amount - allocated)
                          .outerjoin(Allocation, Allocation.charge_id == Charge.id)
                          .where(Charge.journal_id == journal_id).group_by(Charge.id)).all()
    applied = dict(session.execute(select(Allocation.charge_id, func.sum(Allocation.amount))
                                   .join(Charge, Allocation.charge_id == Charge.id)
                                   .where(Allocation.journal_id == journal_id, Charge.journal_id != journal_id,
                                          ~_reversed)
                                   .group_by(Allocation.charge_id)).tuples().all())
    # Later journals may already have taken some of it back: never take back more than is applied now.
    now = dict(session.execute(select(Allocation.charge_id, func.sum(Allocation.amount))
                               .where(Allocation.charge_id.in_(list(applied))).group_by(Allocation.charge_id))
               .tuples().all()) if applied else {}
    return [(charge_id, int(open_amount)) for charge_id, open_amount in own] + \
        [(charge_id, -min(int(amount), int(now[charge_id]))) for charge_id, amount in applied.items()
         if amount > 0 and now[charge_id] > 0]
