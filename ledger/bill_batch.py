"""Many bills posted at once (a billing run's chunk), each as the one journal `ledger.bills.post_bill` would
post: the same idempotency key and fingerprint, the same postings, the contract's cached balance moved by
exactly its posting, its open item, the credit it had applied to it, and the same audit row.

Set-based, PostgreSQL only: the journals are claimed in one INSERT … ON CONFLICT, the postings, open items
and audit rows written with COPY, the balances moved in one UPDATE … FROM unnest(…). The caller holds the
contract accounts locked (`ledger.accounts.lock_accounts`) and passes the balances it read under the lock.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.audit import _jsonable, _origin
from core.db import utcnow
from core.errors import Conflict, DomainError
from core.identifiers import is_payment_id, payment_id_amount
from core.text import digits_only
from ledger.accounts import LockedAccount, system_account_id
from ledger.allocation import apply_credit, open_charges, write_allocations
from ledger.bills import bill_payable
from ledger.models import Account, AccountKind, Charge, Journal, JournalKind, Posting
from ledger.posting import fingerprint


@dataclass(frozen=True)
class BillEntry:
    """One bill to post: what `post_bill` is given, and the contract's locked account."""

    account: LockedAccount
    bill_id: str
    period: str
    issued_on: date
    due_on: date
    lines: dict[str, int]
    vat: int
    levies: dict[str, int]
    payment_id: str
    key: str


@dataclass(frozen=True)
class BatchPosted:
    journal_id: int
    charged: int
    rounding: int
    payable: int
    balance: int


def copy_rows(session, table: str, columns: tuple[str, ...], rows) -> None:
    """COPY `rows` (tuples in `columns` order) into `table` on the session's connection, in its transaction."""
    session.flush()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.errors.IntegrityError as error:  # as SQLAlchemy would raise it from an INSERT
        raise IntegrityError(statement, None, error) from error


def pg_array(values) -> str:
    """A PostgreSQL array literal of ints, dates or strings (None as NULL), for `CAST(:p AS bigint[])` and the
    like: psycopg adapts a list of thousands element by element in Python, this is one join."""
    values = list(values)
    try:
        return "{" + ",".join(map(int.__repr__, values)) + "}"  # ints only (the usual case)
    except TypeError:
        pass
    kinds = set(map(type, values))
    if kinds == {int, type(None)}:
        return "{" + ",".join("NULL" if value is None else int.__repr__(value) for value in values) + "}"
    if kinds == {date}:
        return "{" + ",".join(map(date.isoformat, values)) + "}"
    if kinds == {str}:
        plain = "".join(values)
        if "\\" not in plain and '"' not in plain:  # nothing to escape
            return '{"' + '","'.join(values) + '"}'
    return "{" + ",".join(_array_item(value) for value in values) + "}"


def _array_item(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | date):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def reserve_ids(session, table: str, count: int) -> list[int]:
    """`count` ids from the table's own sequence, for rows about to be copied in."""
    if count <= 0:
        return []
    return list(
        session.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "  # noqa: S608
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        ).scalars()
    )


def audit_rows(actor, action: str, object_type: str, entries: list[tuple[int, dict]], at: datetime) -> list[tuple]:
    """audit_log rows, as `core.audit.audit` writes them, for (object id, detail) pairs."""
    origin = _origin.get()
    actor_id = getattr(actor, "id", None)
    actor_name = getattr(actor, "username", "") or ("" if actor is None else str(actor))
    return [
        (
            at,
            actor_id,
            actor_name,
            action,
            object_type,
            str(object_id),
            json.dumps(detail if _plain(detail) else _jsonable(detail)),
            origin.address[:64],
            origin.client[:300],
        )
        for object_id, detail in entries
    ]


_PLAIN = {str, int, type(None)}


def _plain(detail: dict) -> bool:
    """Whether `core.audit._jsonable` would give back `detail` unchanged (a bill's audit details are)."""
    return set(map(type, detail)) <= {str} and set(map(type, detail.values())) <= _PLAIN


AUDIT_COLUMNS = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "detail", "address", "client")


def _digits(value: str | None) -> str:
    """`digits_only`, without its regular expression for the usual value that is ASCII digits already."""
    return value if value and value.isascii() and value.isdigit() else digits_only(value)


def check_entry(entry: BillEntry) -> tuple[str, str, int, int, int]:
    """post_bill's checks: (bill id, payment id, total, payable, rounding), or the DomainError it raises."""
    amounts = [*entry.lines.values(), entry.vat, *entry.levies.values()]
    plain = set(map(type, amounts)) == {int} and min(amounts) >= 0  # the usual case, in C
    if not plain and any(not isinstance(a, int) or isinstance(a, bool) or a < 0 for a in amounts):
        raise DomainError("ledger.bill_lines_invalid")
    if sum(amounts) <= 0:
        raise DomainError("ledger.bill_lines_invalid")
    bill_id, payment_id = _digits(entry.bill_id), _digits(entry.payment_id)
    total = sum(amounts)
    payable, rounding = bill_payable(entry.account.balance, total)
    if payment_id and (not is_payment_id(bill_id, payment_id) or payment_id_amount(payment_id) != payable):
        raise DomainError("ledger.bill_payment_id_differs", payable=payable)
    return bill_id, payment_id, total, payable, rounding


def post_bills(
    session, actor, entries: list[BillEntry], checked: dict[str, tuple] | None = None, audited: bool = True
) -> dict[int, BatchPosted | DomainError]:
    """Post each entry (at most one per contract) as its bill's journal. {contract id: BatchPosted}, or the
    DomainError `post_bill` would have raised for it — `Conflict("ledger.key_taken")` when its key was posted
    before with the same fingerprint (post_bill's replay), `ledger.idempotency_conflict` when differently.
    `checked` holds `check_entry`'s result by entry key for the entries the caller checked already.
    `audited=False`: no audit row per journal (post_bill's `audited`: the caller's own names the journal)."""
    if len({e.account.contract_id for e in entries}) != len(entries):
        raise ValueError("one bill per contract in a batch")
    checked = checked or {}
    outcome: dict[int, BatchPosted | DomainError] = {}
    ready = []
    for entry in entries:
        try:
            checked_entry = checked.get(entry.key) or check_entry(entry)
        except DomainError as error:
            outcome[entry.account.contract_id] = error.with_traceback(None)  # its traceback would hold this frame
            continue
        bill_id, payment_id = checked_entry[:2]
        print_ = fingerprint(
            bill_id,
            entry.period,
            entry.issued_on,
            entry.due_on,
            sorted(entry.lines.items()),
            entry.vat,
            sorted(entry.levies.items()),
            payment_id,
        )
        ready.append((entry, checked_entry, print_))
    now = utcnow()
    journal_ids = _claim_journals(session, actor, ready, now)
    taken = [(entry, print_) for entry, _checked, print_ in ready if entry.key not in journal_ids]
    if taken:
        earlier = dict(
            session.execute(
                text(
                    f"SELECT idempotency_key, fingerprint FROM {Journal.__tablename__} "  # noqa: S608
                    "WHERE idempotency_key = ANY(:keys)"
                ),
                {"keys": [e.key for e, _ in taken]},
            )
            .tuples()
            .all()
        )
        for entry, print_ in taken:
            code = "ledger.key_taken" if earlier.get(entry.key) == print_ else "ledger.idempotency_conflict"
            outcome[entry.account.contract_id] = Conflict(code, key=entry.key)
    accounts = _system_accounts(session, ready)
    postings, charges, deltas, audits, credit = [], [], {}, [], {}
    for entry, (bill_id, payment_id, total, payable, rounding), _print in ready:
        journal_id = journal_ids.get(entry.key)
        if journal_id is None:
            continue
        account = entry.account
        charged = total - rounding
        lines = [(accounts[("revenue", kind)], -amount, kind) for kind, amount in entry.lines.items() if amount]
        if entry.vat:
            lines.append((accounts[("vat", "")], -entry.vat, "vat"))
        lines += [
            (accounts[("levy", name)], -amount, f"levy:{name}") for name, amount in entry.levies.items() if amount
        ]
        if rounding:
            lines.append((accounts[("rounding", "")], rounding, "rounding"))
        if charged:
            lines.append((account.id, charged, "bill"))
            charges.append(
                (
                    journal_id,
                    account.id,
                    JournalKind.BILL.value,
                    charged,
                    entry.due_on,
                    bill_id,
                    payment_id,
                    entry.period,
                )
            )
        if sum(amount for _a, amount, _l in lines) != 0 or len(lines) < 2:
            raise ValueError(f"journal {journal_id} does not balance")
        postings += [(journal_id, account_id, amount, line[:64]) for account_id, amount, line in lines]
        deltas[account.id] = charged
        # post_contract_journal's rebalance: the open items come back to max(balance, 0) — a contract in
        # credit has that credit applied to its new charge (and any older one still open)
        excess = max(account.balance, 0) + charged - max(account.balance + charged, 0)
        if excess > 0:
            credit[account.id] = (journal_id, excess)
        if audited:
            audits.append(
                (
                    journal_id,
                    {
                        "contract_id": account.contract_id,
                        "kind": JournalKind.BILL.value,
                        "amount": charged,
                        "reason": f"{entry.period} {bill_id}",
                        "bill_id": bill_id,
                        "period": entry.period,
                    },
                )
            )
        outcome[account.contract_id] = BatchPosted(journal_id, charged, rounding, payable, account.balance + charged)
    _copy_whole_journals(session, postings)
    _move_balances(session, deltas)
    copy_rows(
        session,
        Charge.__tablename__,
        ("journal_id", "account_id", "kind", "amount", "due_on", "bill_id", "payment_id", "period"),
        charges,
    )
    if credit:
        allocations: list[dict] = []
        for account_id, items in open_charges(session, credit).items():
            journal_id, excess = credit[account_id]
            apply_credit(items, journal_id, excess, allocations)
        write_allocations(session, allocations)
    if audits:
        copy_rows(session, "audit_log", AUDIT_COLUMNS, audit_rows(actor, "ledger.bill_posted", "Journal", audits, now))
    return outcome


def _copy_whole_journals(session, postings: list[tuple]) -> None:
    """COPY every posting of the journals at once, checked by the database once per journal at the end of
    the statement (the billing migration's `ledger_postings_whole_journals`) rather than once per row at
    commit: every journal the COPY posted to must balance then, or the COPY is refused."""
    session.execute(text("SELECT set_config('ledger.whole_journals', 'on', true)"))
    copy_rows(session, Posting.__tablename__, ("journal_id", "account_id", "amount", "line"), postings)
    # (had the COPY failed, rolling back its savepoint or transaction would have put the setting back too)
    session.execute(text("SELECT set_config('ledger.whole_journals', 'off', true)"))


def _claim_journals(session, actor, ready, now) -> dict[str, int]:
    """One INSERT for every journal; {key: id} for the keys that were free (ON CONFLICT DO NOTHING)."""
    if not ready:
        return {}
    rows = {"kind": [], "contract_id": [], "key": [], "print": [], "effective": [], "reason": []}
    for entry, (bill_id, *_rest), print_ in ready:
        rows["kind"].append(JournalKind.BILL.value)
        rows["contract_id"].append(entry.account.contract_id)
        rows["key"].append(entry.key)
        rows["print"].append(print_)
        rows["effective"].append(entry.issued_on)
        rows["reason"].append(f"{entry.period} {bill_id}"[:500])
    stmt = text(
        f"INSERT INTO {Journal.__tablename__} (kind, contract_id, idempotency_key, fingerprint, effective_on, "  # noqa: S608
        "reason, actor_id, created_at) "
        "SELECT kind, contract_id, key, print, effective_on, reason, :actor_id, :now "
        "FROM unnest(CAST(:kind AS text[]), CAST(:contract_id AS bigint[]), CAST(:key AS text[]), "
        "CAST(:print AS text[]), CAST(:effective AS date[]), CAST(:reason AS text[])) "
        "AS v(kind, contract_id, key, print, effective_on, reason) "
        "ON CONFLICT DO NOTHING RETURNING idempotency_key, id"
    )
    arrays = {name: pg_array(values) for name, values in rows.items()}
    return dict(session.execute(stmt, {**arrays, "actor_id": getattr(actor, "id", None), "now": now}).tuples().all())


def _system_accounts(session, ready) -> dict[tuple[str, str], int]:
    """The revenue, VAT, levy and rounding accounts the entries post to, made on first use."""
    wanted = {(AccountKind.VAT.value, ""), (AccountKind.ROUNDING.value, "")}
    for entry, _checked, _print in ready:
        wanted |= {(AccountKind.REVENUE.value, kind) for kind in entry.lines}
        wanted |= {(AccountKind.LEVY.value, name) for name in entry.levies}
    return {(kind, name): system_account_id(session, kind, name) for kind, name in sorted(wanted)}


def _move_balances(session, deltas: dict[int, int]) -> None:
    changes = {account_id: delta for account_id, delta in deltas.items() if delta}
    if changes:
        session.execute(
            text(
                f"UPDATE {Account.__tablename__} AS a SET balance = a.balance + v.delta "  # noqa: S608
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:deltas AS bigint[])) AS v(id, delta) WHERE a.id = v.id"
            ),
            {"ids": pg_array(changes), "deltas": pg_array(changes.values())},
        )
