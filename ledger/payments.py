"""Payments: each posted once by its bank reference, applied to the oldest open bills first.

One code path posts one payment (a bank callback, a payment typed at the counter) or a thousand (a
chunk of a bank file): the same rules either way. On PostgreSQL a batch is posted by one call of the
database function `ledger_post_payments` (see the migration `1ed9e7000002`), one round trip however
many payments, and a single payment by one call of `ledger_post_payment` (migration `1ed9e7000003`),
the same steps written for one row, several times cheaper on the server than the batch function given
one row; elsewhere (SQLite) by the portable statements below, which follow the same steps.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, text

from core.audit import actor_name, audit, current_origin
from core.db import is_postgresql, utcnow
from core.errors import DomainError, NotFound
from core.identifiers import is_bill_id, is_payment_id, payment_id_amount
from core.text import digits_only, to_ascii_digits
from ledger import signals
from ledger.accounts import lock_accounts, move_balances, system_account_id
from ledger.allocation import apply_credit, open_charges, write_allocations
from ledger.models import (
    Account,
    AccountKind,
    Allocation,
    Channel,
    Charge,
    Installment,
    InstallmentPlan,
    Journal,
    JournalKind,
    Payment,
)
from ledger.posting import JournalDraft, claim_journals, existing_journals, fingerprint, write_postings

POSTED, DUPLICATE, SUSPENSE, FAILED = "posted", "duplicate", "suspense", "failed"


@dataclass(frozen=True)
class PaymentRequest:
    channel: str
    reference: str
    amount: int
    paid_on: date
    contract_id: int | None = None
    bill_id: str = ""
    payment_id: str = ""

    @property
    def key(self) -> str:
        return f"payment:{self.channel}:{self.reference}"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.contract_id or "", self.bill_id, self.payment_id, self.amount, self.paid_on)


@dataclass(frozen=True)
class PaymentResult:
    status: str
    journal_id: int | None = None
    contract_id: int | None = None
    amount: int = 0
    settled_bill_ids: tuple[str, ...] = ()
    error: DomainError | None = field(default=None, compare=False)


def normalized(request: PaymentRequest) -> PaymentRequest:
    return PaymentRequest(
        channel=(request.channel or "").strip().lower(), reference=to_ascii_digits((request.reference or "").strip()),
        amount=request.amount, paid_on=request.paid_on, contract_id=request.contract_id,
        bill_id=digits_only(request.bill_id), payment_id=digits_only(request.payment_id))


def problem_with(request: PaymentRequest) -> DomainError | None:
    """Why a payment cannot be posted, judged from the request alone."""
    if request.channel not in set(Channel):
        return DomainError("ledger.channel_invalid", field="channel")
    if not request.reference or len(request.reference) > 64:
        return DomainError("ledger.reference_required", field="reference")
    if not isinstance(request.amount, int) or isinstance(request.amount, bool) or request.amount <= 0:
        return DomainError("ledger.amount_invalid", field="amount")
    if not isinstance(request.paid_on, date):
        return DomainError("ledger.date_invalid", field="paid_on")
    if request.bill_id or request.payment_id:
        if not is_bill_id(request.bill_id):
            return DomainError("ledger.bill_id_invalid", field="bill_id")
        if not is_payment_id(request.bill_id, request.payment_id):
            return DomainError("ledger.payment_id_invalid", field="payment_id")
        if payment_id_amount(request.payment_id) != request.amount:
            return DomainError("ledger.amount_mismatch", field="amount",
                               expected=payment_id_amount(request.payment_id))
    elif request.contract_id is None:
        return DomainError("ledger.payer_unknown", field="bill_id")
    return None


def post_payment(session, actor, request: PaymentRequest) -> PaymentResult:
    """One payment. Raises the DomainError of a refused one; a repeat of an earlier one returns
    the original journal with status `duplicate`."""
    result = post_payments(session, actor, [request])[0]
    if result.error is not None:
        raise result.error
    return result


def post_payments(session, actor, requests: list[PaymentRequest]) -> list[PaymentResult]:
    """Post many payments; one result per request, in order. A refused request is reported in its
    result and changes nothing; the others post."""
    requests = [normalized(r) for r in requests]
    results: list[PaymentResult | None] = [None] * len(requests)
    reads: dict[int, dict] = {}  # request index: what the receivers asked to be read (signals.payment_posted_reads)
    for i, request in enumerate(requests):
        if (problem := problem_with(request)) is not None:
            results[i] = PaymentResult(FAILED, error=problem)
    if any(r is None for r in results):
        if not is_postgresql(session):
            _post_portably(session, actor, requests, results)
        elif len(requests) == 1:
            results[0], reads[0] = _post_one_on_postgresql(session, actor, requests[0])
        else:
            reads = _post_on_postgresql(session, actor, requests, results)
    for i, result in enumerate(results):
        if result.status == POSTED:  # newly posted to a contract (a duplicate is DUPLICATE)
            signals.payment_posted.send(None, session=session, actor=actor, contract_id=result.contract_id,
                                        amount=result.amount, bill_ids=result.settled_bill_ids,
                                        reference=requests[i].reference, journal_id=result.journal_id,
                                        reads=reads.get(i, {}))
    return results


_POST_ONE_ON_POSTGRESQL = (
    "SELECT p.*{reads} FROM ledger_post_payment(%s::text, %s::text, %s::text, %s::text, %s::bigint, %s::date, "
    "%s::bigint, %s::text, %s::text, %s::integer, %s::text, %s::text, %s::text, %s::timestamptz) AS p")
_post_one_sql: dict[tuple, str] = {}


def _post_one_on_postgresql(session, actor, request: PaymentRequest) -> tuple[PaymentResult, dict]:
    """One payment in one round trip: the database function `ledger_post_payment` (migration
    `1ed9e7000003`) follows the same rules as the batch function and the portable path. The same
    statement makes the reads the signal's receivers asked for (`signals.payment_posted_reads`)."""
    session.flush()  # the function must see what this transaction has pending
    origin = current_origin()
    wanted = tuple(signals.payment_posted_reads.items())
    sql = _post_one_sql.get(wanted)
    if sql is None:
        sql = _post_one_sql[wanted] = _POST_ONE_ON_POSTGRESQL.format(
            reads="".join(f", ({expression})" for _name, expression in wanted))
    status, journal_id, contract_id, amount, bill_ids, *values = _fetch_one(session, sql, (
        request.key, request.fingerprint, request.channel, request.reference, request.amount, request.paid_on,
        request.contract_id, request.bill_id, request.payment_id, getattr(actor, "id", None), actor_name(actor),
        origin.address[:64], origin.client[:300], utcnow()))
    reads = {name: value for (name, _expression), value in zip(wanted, values, strict=True)}
    if status == "no_account":
        return PaymentResult(FAILED, error=NotFound("ledger.no_account", contract_id=request.contract_id)), reads
    if status == "conflict":
        return PaymentResult(FAILED, journal_id, error=DomainError(
            "ledger.idempotency_conflict", field="reference", key=request.reference)), reads
    return PaymentResult(_STATUS[status], journal_id, contract_id, amount, tuple(bill_ids)), reads


def _fetch_one(session, sql: str, params: tuple) -> tuple:
    """The one row `sql` returns, run on the driver's own cursor in the session's transaction: SQLAlchemy's
    execution context and result wrapping cost as much Python time as the rest of a payment. A driver
    error goes through SQLAlchemy's own handling: raised as it would raise it (IntegrityError,
    OperationalError, ...), and a connection the server dropped makes the pool replace every connection
    opened before it (no ping is made before a checkout: see madam.settings)."""
    connection = session.connection()
    driver_connection = connection.connection.dbapi_connection
    cursor = driver_connection.cursor()
    try:
        # In a pipeline psycopg sends the transaction's BEGIN with the statement: one round trip, not two.
        cursor.execute(sql, params)
        return cursor.fetchone()
    except connection.dialect.loaded_dbapi.Error as error:
        connection._handle_dbapi_exception(error, sql, params, cursor, None)
        raise  # not reached: the line above raises SQLAlchemy's exception
    finally:
        cursor.close()


_POST_ON_POSTGRESQL = (
    "SELECT p.r_n, p.r_status, p.r_journal_id, p.r_contract_id, p.r_amount, p.r_bill_ids{reads} "
    "FROM ledger_post_payments(CAST(:keys AS text[]), CAST(:fingerprints AS text[]), "
    "CAST(:channels AS text[]), CAST(:references AS text[]), CAST(:amounts AS bigint[]), "
    "CAST(:paid_on AS date[]), CAST(:contract_ids AS bigint[]), CAST(:bill_ids AS text[]), "
    "CAST(:payment_ids AS text[]), CAST(:actor_id AS integer), CAST(:actor_name AS text), "
    "CAST(:address AS text), CAST(:client AS text), CAST(:now AS timestamptz)) AS p")
_post_many_sql: dict[tuple, object] = {}
_STATUS = {"posted": POSTED, "suspense": SUSPENSE, "duplicate": DUPLICATE}


def _post_on_postgresql(session, actor, requests, results) -> dict[int, dict]:
    """The requests still without a result, posted in one round trip by the database function, which
    also makes each posted row's reads (signals.payment_posted_reads); returns them by request index."""
    indexes = [i for i, r in enumerate(results) if r is None]
    batch = [requests[i] for i in indexes]
    origin = current_origin()
    wanted = tuple(signals.payment_posted_reads.items())
    statement = _post_many_sql.get(wanted)
    if statement is None:
        statement = _post_many_sql[wanted] = text(_POST_ON_POSTGRESQL.format(
            reads="".join(f", ({expression})" for _name, expression in wanted)))
    session.flush()  # the function must see what this transaction has pending
    rows = session.execute(statement, {
        "keys": [r.key for r in batch], "fingerprints": [r.fingerprint for r in batch],
        "channels": [r.channel for r in batch], "references": [r.reference for r in batch],
        "amounts": [r.amount for r in batch], "paid_on": [r.paid_on for r in batch],
        "contract_ids": [r.contract_id for r in batch], "bill_ids": [r.bill_id for r in batch],
        "payment_ids": [r.payment_id for r in batch], "actor_id": getattr(actor, "id", None),
        "actor_name": actor_name(actor), "address": origin.address[:64], "client": origin.client[:300],
        "now": utcnow()})
    reads = {}
    for n, status, journal_id, contract_id, amount, bill_ids, *values in rows:
        i = indexes[n - 1]
        reads[i] = {name: value for (name, _expression), value in zip(wanted, values, strict=True)}
        if status == "no_account":
            results[i] = PaymentResult(FAILED, error=NotFound("ledger.no_account", contract_id=requests[i].contract_id))
        elif status == "conflict":
            results[i] = PaymentResult(FAILED, journal_id, error=DomainError(
                "ledger.idempotency_conflict", field="reference", key=requests[i].reference))
        else:
            results[i] = PaymentResult(_STATUS[status], journal_id, contract_id, amount, tuple(bill_ids))
    return reads


def _post_portably(session, actor, requests, results) -> None:
    """The requests still without a result, posted statement by statement (any database)."""
    accounts = _accounts_for(session, requests, results)
    first_by_key: dict[str, int] = {}
    for i, request in enumerate(requests):
        if results[i] is None:
            first_by_key.setdefault(request.key, i)
    primaries = sorted(first_by_key.values())
    kinds = _kinds(session, requests, primaries, accounts)
    claimed = claim_journals(session, actor, [
        JournalDraft(kinds[i], accounts.get(i) and accounts[i].contract_id, requests[i].paid_on,
                     key=requests[i].key, fingerprint=requests[i].fingerprint,
                     reason=f"{requests[i].channel} {requests[i].reference}")
        for i in primaries
    ])
    posted = [i for i in primaries if requests[i].key in claimed]
    journal_of = {i: claimed[requests[i].key] for i in posted}
    settled = _post_claimed(session, actor, requests, posted, journal_of, accounts)
    for i in posted:
        account = accounts.get(i)
        results[i] = PaymentResult(POSTED if account else SUSPENSE, journal_of[i],
                                   account.contract_id if account else None, requests[i].amount,
                                   tuple(settled.get(i, ())))
    _replays(session, requests, results, first_by_key)
    session.flush()


def _accounts_for(session, requests, results) -> dict:
    """{request index: (account id, contract id) row} for requests that name a known contract."""
    bill_ids = {r.bill_id for i, r in enumerate(requests) if results[i] is None and r.bill_id and r.contract_id is None}
    contract_ids = {r.contract_id for i, r in enumerate(requests) if results[i] is None and r.contract_id is not None}
    by_bill, by_contract = {}, {}
    if bill_ids or contract_ids:
        stmt = select(Account.id, Account.contract_id, Account.bill_id).where(
            Account.kind == AccountKind.RECEIVABLE,
            Account.bill_id.in_(bill_ids) | Account.contract_id.in_(contract_ids))
        for row in session.execute(stmt):
            by_bill[row.bill_id] = by_contract[row.contract_id] = row
    found = {}
    for i, request in enumerate(requests):
        if results[i] is not None:
            continue
        if request.contract_id is not None:
            if request.contract_id not in by_contract:
                results[i] = PaymentResult(FAILED, error=NotFound("ledger.no_account", contract_id=request.contract_id))
                continue
            found[i] = by_contract[request.contract_id]
        elif request.bill_id in by_bill:
            found[i] = by_bill[request.bill_id]
    return found


def _kinds(session, requests, indexes, accounts) -> dict[int, str]:
    """A payment made with an installment's own payment ID is an installment journal."""
    wanted = {requests[i].payment_id for i in indexes if requests[i].payment_id and i in accounts}
    plans = set()
    if wanted:
        plans = set(session.execute(select(InstallmentPlan.account_id, Installment.payment_id)
                                    .join(InstallmentPlan, Installment.plan_id == InstallmentPlan.id)
                                    .where(Installment.payment_id.in_(wanted))).tuples().all())
    return {i: JournalKind.INSTALLMENT if i in accounts and (accounts[i].id, requests[i].payment_id) in plans
            else JournalKind.PAYMENT for i in indexes}


def _post_claimed(session, actor, requests, posted, journal_of, accounts) -> dict[int, list[str]]:
    locked = {}
    account_ids = sorted({accounts[i].id for i in posted if i in accounts})
    if account_ids:
        locked = {a.id: a for a in lock_accounts(session, Account.id.in_(account_ids))}
    balances = {account_id: account.balance for account_id, account in locked.items()}
    in_debt = [account_id for account_id, balance in balances.items() if balance > 0]
    charges = open_charges(session, in_debt) if in_debt else {}
    suspense = system_account_id(session, AccountKind.SUSPENSE) if len(account_ids) < len(posted) else None
    lines, payments, allocations, settled, deltas = [], [], [], {}, {}
    for i in posted:
        request, journal_id = requests[i], journal_of[i]
        account = accounts.get(i)
        credit_account = account.id if account else suspense
        lines.append((journal_id, system_account_id(session, AccountKind.CASH, request.channel), request.amount,
                      request.channel))
        lines.append((journal_id, credit_account, -request.amount, "payment"))
        payments.append({"journal_id": journal_id, "channel": request.channel, "reference": request.reference,
                         "paid_on": request.paid_on, "amount": request.amount,
                         "contract_id": account.contract_id if account else None, "bill_id": request.bill_id,
                         "payment_id": request.payment_id})
        if account:
            before = balances[account.id]
            balances[account.id] = before - request.amount
            deltas[account.id] = deltas.get(account.id, 0) - request.amount
            applied = max(before, 0) - max(before - request.amount, 0)
            if applied:
                settled[i] = apply_credit(charges.get(account.id, []), journal_id, applied, allocations)
        audit(session, actor, "ledger.payment_posted", Journal(id=journal_id),
              contract_id=account.contract_id if account else None, amount=request.amount,
              channel=request.channel, reference=request.reference, suspense=account is None)
    write_postings(session, lines)
    move_balances(session, deltas)
    write_allocations(session, allocations)
    if payments:
        session.execute(Payment.__table__.insert(), payments)
    return settled


def _replays(session, requests, results, first_by_key) -> None:
    """Requests whose key was already used: the original result when they say the same thing."""
    pending = [i for i, r in enumerate(results) if r is None]
    if not pending:
        return
    existing = existing_journals(session, {requests[i].key for i in pending})
    originals = _original_results(session, [journal_id for journal_id, _ in existing.values()])
    for i in pending:
        journal_id, print_ = existing[requests[i].key]
        if print_ != requests[i].fingerprint:
            results[i] = PaymentResult(FAILED, journal_id, error=DomainError(
                "ledger.idempotency_conflict", field="reference", key=requests[i].reference))
        else:
            results[i] = originals[journal_id]


def _original_results(session, journal_ids) -> dict[int, PaymentResult]:
    rows = session.execute(select(Payment.journal_id, Payment.contract_id, Payment.amount)
                           .where(Payment.journal_id.in_(journal_ids))).all()
    bills = {}
    for journal_id, bill_id in session.execute(
            select(Allocation.journal_id, Charge.bill_id).join(Charge, Allocation.charge_id == Charge.id)
            .where(Allocation.journal_id.in_(journal_ids), Allocation.amount > 0, Charge.bill_id != "")):
        bills.setdefault(journal_id, []).append(bill_id)
    return {journal_id: PaymentResult(DUPLICATE, journal_id, contract_id, amount,
                                      tuple(bills.get(journal_id, ())))
            for journal_id, contract_id, amount in rows}
