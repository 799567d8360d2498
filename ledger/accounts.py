"""Accounts: a receivable per contract, opened by the registry or billing; system accounts made on
first use. The only place that knows how each database locks a balance row."""

from dataclasses import dataclass

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.audit import audit
from core.errors import Conflict, DomainError, NotFound
from core.identifiers import is_bill_id
from core.text import digits_only
from ledger.models import Account, AccountKind

_CACHE_KEY = "ledger_system_accounts"


@dataclass(frozen=True)
class LockedAccount:
    id: int
    contract_id: int
    region_id: int | None
    bill_id: str | None
    balance: int


def upsert(session, table):
    """An INSERT that skips rows whose unique keys already exist (ON CONFLICT DO NOTHING)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def open_contract_account(session, actor, contract_id: int, region_id: int, bill_id: str | None = None,
                          name: str = "") -> Account:
    """The contract's receivable, created once. Calling it again returns the same account."""
    bill_id = digits_only(bill_id) or None
    if bill_id is not None and not is_bill_id(bill_id):
        raise DomainError("ledger.bill_id_invalid", field="bill_id")
    account = contract_account(session, contract_id)
    if account is None:
        session.execute(upsert(session, Account.__table__).values(
            code=f"receivable:{contract_id}", kind=AccountKind.RECEIVABLE, name=name[:200],
            contract_id=contract_id, region_id=region_id, bill_id=bill_id, balance=0))
        account = contract_account(session, contract_id)
        audit(session, actor, "ledger.account_opened", account, contract_id=contract_id, region_id=region_id,
              bill_id=bill_id)
    if account.region_id != region_id or (bill_id and account.bill_id != bill_id):
        raise Conflict("ledger.account_differs", contract_id=contract_id)
    return account


def succeed_account(session, actor, predecessor_id: int, contract_id: int, region_id: int, bill_id: str | None,
                    name: str = "") -> Account:
    """The receivable of a contract that succeeds another (a change of owner). It takes over the bill ID, so a
    bank paying by bill ID reaches the new owner's account; the predecessor's account keeps its history and
    whatever it still holds (the procedure settles or moves that debt first)."""
    bill_id = digits_only(bill_id) or None
    earlier = session.scalar(select(Account).where(Account.contract_id == predecessor_id).with_for_update())
    if earlier is not None and bill_id is not None and earlier.bill_id == bill_id:
        earlier.bill_id = None
        session.flush()  # the unique bill ID is free before the successor's account takes it
        audit(session, actor, "ledger.bill_id_handed_over", earlier, bill_id=bill_id, from_contract=predecessor_id,
              to_contract=contract_id)
    return open_contract_account(session, actor, contract_id, region_id, bill_id, name)


def contract_account(session, contract_id: int) -> Account | None:
    return session.scalar(select(Account).where(Account.contract_id == contract_id))


def system_account_id(session, kind: str, name: str = "") -> int:
    """The id of a system account (`cash:bank`, `revenue:energy`, `vat` …), made on first use."""
    code = f"{kind}:{name}" if name else kind
    cache = session.info.setdefault(_CACHE_KEY, {})
    if code not in cache:
        session.execute(upsert(session, Account.__table__).values(code=code, kind=kind, name=name))
        cache[code] = session.scalar(select(Account.id).where(Account.code == code))
    return cache[code]


@event.listens_for(Session, "after_soft_rollback")
def _forget_system_accounts(session, _previous_transaction):
    # An account made in a transaction that was rolled back no longer exists.
    session.info.pop(_CACHE_KEY, None)


def lock_accounts(session, where) -> list[LockedAccount]:
    """Contract accounts matching `where`, their rows locked until commit, in id order so that two
    writers never wait on each other crosswise. SQLite has no row locks: it serialises writers."""
    stmt = (select(Account.id, Account.contract_id, Account.region_id, Account.bill_id, Account.balance)
            .where(Account.kind == AccountKind.RECEIVABLE, where).order_by(Account.id))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return [LockedAccount(*row) for row in session.execute(stmt)]


def lock_contract_account(session, contract_id: int) -> LockedAccount:
    rows = lock_accounts(session, Account.contract_id == contract_id)
    if not rows:
        raise NotFound("ledger.no_account", contract_id=contract_id)
    return rows[0]


def move_balances(session, deltas: dict[int, int]) -> None:
    """Add each delta to its (already locked) account's cached balance."""
    changes = [{"account_id": account_id, "delta": delta} for account_id, delta in deltas.items() if delta]
    if changes:
        stmt = (update(Account.__table__).where(Account.__table__.c.id == bindparam("account_id"))
                .values(balance=Account.__table__.c.balance + bindparam("delta")))
        session.execute(stmt, changes)

