"""A single payment on PostgreSQL is one call of `ledger_post_payment`; a batch is one call of
`ledger_post_payments`; SQLite posts through the portable statements. The three must leave the same
books for the same payments, and the single call must keep the guarantees under concurrency."""

from datetime import date

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, OperationalError

from core.db import db
from core.identifiers import make_payment_id
from ledger import payments, terms
from ledger.accounts import open_contract_account
from ledger.models import Account, Installment, Journal, JournalKind, Payment, Posting
from ledger.payments import DUPLICATE, FAILED, POSTED, SUSPENSE, PaymentRequest, post_payment, post_payments
from madam.demo import load_demo
from tests.test_ledger import TODAY, bill_id_of, check_books, issue_bill, open_account, region_id
from tests.test_ledger_concurrency import THREADS, _run_in_threads
from tests.test_ledger_properties import CONTRACTS, _books, _outcome

NO_ACCOUNT = 8009999  # a contract with no receivable: paid by bill ID its money waits in suspense


def _by_bill(contract_id, amount, reference, payment_id=None):
    bill_id = bill_id_of(contract_id)
    return PaymentRequest("bank", reference, amount, TODAY, bill_id=bill_id,
                          payment_id=payment_id or make_payment_id(amount, 1403, 12, bill_id))


def _scenario(session, actor) -> list[PaymentRequest]:
    """Bills of different ages, an installment plan, and payments that touch every rule."""
    a, b, c = CONTRACTS
    issue_bill(session, actor, a, 300_000, due_on=date(2025, 2, 1), period="P1")
    issue_bill(session, actor, a, 500_000, due_on=date(2025, 1, 1), period="P0")  # older, issued later
    issue_bill(session, actor, a, 200_000, due_on=date(2025, 3, 1), period="P2")
    issue_bill(session, actor, b, 1_000_000, period="P0")
    issue_bill(session, actor, c, 9_000_000, period="P0")
    plan = terms.create_installment_plan(session, actor, c, count=2, down_payment_percent=20,
                                         first_due_on=date(2025, 3, 21), today=TODAY, reason="درخواست مشترک")
    down = session.scalars(select(Installment).where(Installment.plan_id == plan.id, Installment.seq == 0)).one()
    return [
        PaymentRequest("bank", "R1", 400_000, TODAY, contract_id=a),  # part of the oldest bill (P0)
        PaymentRequest("bank", "R2", 450_000, TODAY, contract_id=a),  # settles P0 and P1, part of P2
        _by_bill(a, 600_000, "R3"),  # settles P2, the rest is credit
        PaymentRequest("bank", "R4", 90_000, TODAY, contract_id=a),  # all credit
        PaymentRequest("bank", "R1", 400_000, TODAY, contract_id=a),  # a repeat: the original result
        PaymentRequest("bank", "R1", 400_001, TODAY, contract_id=a),  # another payment under R1: conflict
        _by_bill(b, 1_000_000, "R5"),  # exactly the bill
        _by_bill(NO_ACCOUNT, 70_000, "R6"),  # unknown bill ID: suspense
        _by_bill(NO_ACCOUNT, 70_000, "R6"),  # its repeat
        PaymentRequest("bank", "R7", 5_000, TODAY, contract_id=NO_ACCOUNT),  # no account: refused
        _by_bill(c, down.amount, "R8", payment_id=down.payment_id),  # an installment's own payment ID
        PaymentRequest("pos", "R3", 1_000, TODAY, contract_id=b),  # same reference, other channel
        PaymentRequest("bank", "R9", 10, TODAY, contract_id=b),  # credit on a settled account
    ]


def test_one_call_posts_as_the_batch_function_and_the_portable_path(session, demo, monkeypatch):
    actor = demo["finance"]
    for contract_id in CONTRACTS:
        open_account(session, actor, contract_id)
    session.flush()
    runs = {}
    for way in ("one call", "batch", "portable"):
        with session.begin_nested() as savepoint:
            requests = _scenario(session, actor)
            after = session.scalar(select(func.coalesce(func.max(Journal.id), 0)))
            with monkeypatch.context() as patch:
                if way == "portable":
                    patch.setattr(payments, "is_postgresql", lambda _session: False)
                if way == "batch":  # each payment alone, through the batch function
                    results = []
                    for request in requests:
                        result = [None]
                        payments._post_on_postgresql(session, actor, [payments.normalized(request)], result)
                        results.append(result[0])
                else:
                    results = [post_payments(session, actor, [request])[0] for request in requests]
            check_books(session)
            runs[way] = (_outcome(session, results, after), _books(session, after))
            savepoint.rollback()
    outcome, books = runs["one call"]
    assert [status for status, *_ in outcome] == [POSTED, POSTED, POSTED, POSTED, DUPLICATE, FAILED, POSTED,
                                                  SUSPENSE, DUPLICATE, FAILED, POSTED, POSTED, POSTED]
    bill_id = bill_id_of(CONTRACTS[0])  # one bill ID per contract: every bill of a carries it
    assert [settled for *_, settled, _error in outcome[:4]] == [(), (bill_id, bill_id), (bill_id,), ()]
    assert outcome[4][1] == outcome[0][1] and outcome[4][4] == (bill_id,)  # the repeat: R1's journal
    assert [error for *_, error in outcome][5] == "ledger.idempotency_conflict"
    assert [error for *_, error in outcome][9] == "ledger.no_account"
    assert [kind for _rank, kind, *_ in books["journals"]].count(JournalKind.INSTALLMENT) == 1
    assert books["balances"][CONTRACTS[0]] == 1_000_000 - 1_540_000
    assert [allocation for allocation in books["allocations"] if allocation[0] < 4] == [
        (0, "P0", 400_000), (1, "P0", 100_000), (1, "P1", 300_000), (1, "P2", 50_000), (2, "P2", 150_000)]
    assert runs["one call"] == runs["batch"]
    assert runs["one call"] == runs["portable"]


def test_one_call_is_what_post_payment_uses_on_postgresql(session, demo, monkeypatch):
    actor = demo["finance"]
    open_account(session, actor)
    issue_bill(session, actor, 8001001, 1_000_000)
    calls = []
    real = payments._fetch_one
    monkeypatch.setattr(payments, "_fetch_one", lambda s, sql, params: calls.append(sql) or real(s, sql, params))
    result = post_payment(session, actor, PaymentRequest("bank", "ONE", 250_000, TODAY, contract_id=8001001))
    assert result.status == POSTED
    assert len(calls) == 1 and "ledger_post_payment(" in calls[0]
    assert session.scalar(select(Account.balance).where(Account.contract_id == 8001001)) == 750_000




@pytest.mark.committed
def test_colliding_references_from_sixteen_threads_post_once_each_and_leave_exact_balances(app, committed_db):
    """Each thread posts the same 12 references (some by contract id, some by bill ID, to two
    contracts); half the threads send one reference with another amount. Every reference posts once,
    a repeat with the same content gets the original journal, another content a conflict."""
    load_demo(db.session)
    contracts = (7001, 7002)
    for contract_id in contracts:
        open_contract_account(db.session, None, contract_id, region_id(db.session), bill_id_of(contract_id))
        issue_bill(db.session, None, contract_id, 5_000_000)
    db.session.commit()

    def request(n, k):
        contract_id = contracts[k % 2]
        amount = 1_000 * (k + 1)
        if k == 11 and n % 2:  # another payment under the same reference
            amount += 1_000
        if k % 3 == 0:
            return _by_bill(contract_id, amount, f"C{k}")
        return PaymentRequest("bank", f"C{k}", amount, date(2025, 3, 1), contract_id=contract_id)

    def work(n):
        done = []
        for k in (range(12) if n % 2 else reversed(range(12))):
            try:
                result = post_payment(db.session, None, request(n, k))
            except Exception as exc:  # a conflict is a DomainError: kept as the result
                result = exc
            db.session.commit()
            done.append(((n, k), result))
        return done

    results = dict(_run_in_threads(app, work))
    for k in range(12):
        outcomes = [results[n, k] for n in range(THREADS)]
        posted = [r for r in outcomes if getattr(r, "status", None) == POSTED]
        assert len(posted) == 1, k
        journal_id = posted[0].journal_id
        if k == 11:
            winner_odd = request(0, k).amount != posted[0].amount
            same = [r for n, r in enumerate(outcomes) if bool(n % 2) == winner_odd]
            others = [r for n, r in enumerate(outcomes) if bool(n % 2) != winner_odd]
            assert all(getattr(r, "code", None) == "ledger.idempotency_conflict" for r in others)
        else:
            same = outcomes
        assert all(r.status in (POSTED, DUPLICATE) and r.journal_id == journal_id for r in same), k
    paid = {c: 0 for c in contracts}
    for k in range(12):
        paid[contracts[k % 2]] += next(r.amount for n in range(THREADS) if getattr(r := results[n, k], "status", None)
                                       == POSTED)
    for contract_id in contracts:
        account = db.session.scalar(select(Account).where(Account.contract_id == contract_id))
        assert account.balance == 5_000_000 - paid[contract_id]
        assert db.session.scalar(select(func.sum(Posting.amount)).where(Posting.account_id == account.id)) \
            == account.balance
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 12
    check_books(db.session)


def test_a_database_error_in_the_one_call_is_raised_as_sqlalchemy_raises_it(session, demo):
    with pytest.raises(DataError) as raised, session.begin_nested():
        payments._fetch_one(session, "SELECT 1 / %s", (0,))
    assert "division by zero" in str(raised.value.orig)
    assert session.scalar(select(func.count()).select_from(Payment)) is not None  # the session still works


@pytest.mark.committed
def test_a_payment_after_the_server_dropped_the_connection_fails_once_then_the_next_posts(app, committed_db):
    """No ping before each checkout (madam.settings): a connection the server dropped fails the statement
    that finds it dead, is replaced, and the bank's retry of the same payment posts."""
    load_demo(db.session)
    open_contract_account(db.session, None, 7001, region_id(db.session), bill_id_of(7001))
    issue_bill(db.session, None, 7001, 5_000_000)
    db.session.commit()
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    backend = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()  # the connections go back to the pool, alive as far as it knows
    with psycopg.connect(app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()")  # as a restart would
    payment = PaymentRequest("bank", "AFTER-DROP", 10_000, TODAY, contract_id=7001)
    with pytest.raises(OperationalError) as raised:
        post_payment(db.session, None, payment)
    assert raised.value.connection_invalidated
    db.session.rollback()
    assert post_payment(db.session, None, payment).status == POSTED
    db.session.commit()
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != backend
    assert db.session.scalar(select(Account.balance).where(Account.contract_id == 7001)) == 4_990_000
