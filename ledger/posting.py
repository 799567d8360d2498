"""The one way money moves: a journal claimed once by its key, and postings that sum to zero.

There is no function here (or anywhere) that updates or deletes a posting.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from core.db import utcnow
from core.errors import Conflict
from ledger.accounts import upsert
from ledger.models import Journal, Posting


@dataclass(frozen=True)
class JournalDraft:
    kind: str
    contract_id: int | None
    effective_on: date
    key: str | None = None
    fingerprint: str = ""
    reason: str = ""
    approver_id: int | None = None
    reverses_id: int | None = None


def fingerprint(*parts) -> str:
    """What a request said, so a repeated key can be told apart from a different request."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _row(actor, draft: JournalDraft, now) -> dict:
    return {"kind": draft.kind, "contract_id": draft.contract_id, "idempotency_key": draft.key,
            "fingerprint": draft.fingerprint, "reverses_id": draft.reverses_id, "effective_on": draft.effective_on,
            "reason": draft.reason[:500], "actor_id": getattr(actor, "id", None), "approver_id": draft.approver_id,
            "created_at": now}


def claim_journals(session, actor, drafts: list[JournalDraft]) -> dict[str, int]:
    """Insert keyed journals; {key: new id} for those whose key was free. A key already taken (by
    an earlier request, or by a concurrent one that committed first) is simply absent."""
    if not drafts:
        return {}
    now = utcnow()
    table = Journal.__table__
    # executemany with RETURNING: one statement compiled once and cached, sent in batches.
    stmt = upsert(session, table).returning(table.c.idempotency_key, table.c.id)
    return dict(session.execute(stmt, [_row(actor, d, now) for d in drafts]).all())


def claim_journal(session, actor, draft: JournalDraft) -> int | None:
    """One journal: its new id, or None when its key or the journal it reverses was taken."""
    table = Journal.__table__
    stmt = upsert(session, table).returning(table.c.id)
    return session.execute(stmt, [_row(actor, draft, utcnow())]).scalar()


def existing_journals(session, keys) -> dict[str, tuple[int, str]]:
    """{key: (journal id, fingerprint)} for keys already posted."""
    keys = list(keys)
    found = {}
    for start in range(0, len(keys), 5000):
        rows = session.execute(select(Journal.idempotency_key, Journal.id, Journal.fingerprint)
                               .where(Journal.idempotency_key.in_(keys[start:start + 5000])))
        found.update({key: (journal_id, print_) for key, journal_id, print_ in rows})
    return found


def replay(session, key: str, expected_fingerprint: str) -> int:
    """The journal an earlier request with this key posted, when it said the same; else a conflict."""
    journal_id, print_ = existing_journals(session, [key])[key]
    if print_ != expected_fingerprint:
        raise Conflict("ledger.idempotency_conflict", key=key)
    return journal_id


def write_postings(session, lines: list[tuple[int, int, int, str]]) -> None:
    """(journal id, account id, amount, line) rows. Each journal's lines must sum to exactly zero."""
    totals, counts = defaultdict(int), defaultdict(int)
    for journal_id, _account_id, amount, _line in lines:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise ValueError(f"a posting is a non-zero whole number of rials, got {amount!r}")
        totals[journal_id] += amount
        counts[journal_id] += 1
    unbalanced = [j for j, total in totals.items() if total != 0 or counts[j] < 2]
    if unbalanced:
        raise ValueError(f"journals {unbalanced} do not balance")
    if lines:
        session.execute(Posting.__table__.insert(), [
            {"journal_id": j, "account_id": a, "amount": amount, "line": line[:64]} for j, a, amount, line in lines
        ])
