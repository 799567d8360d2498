"""Many writers at once on PostgreSQL: no lost update, no payment posted twice."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from core.db import db
from ledger.accounts import open_contract_account
from ledger.models import Account, Journal, Posting
from ledger.payments import DUPLICATE, POSTED, PaymentRequest, post_payment
from madam.demo import load_demo
from tests.test_ledger import bill_id_of, check_books, issue_bill, region_id

pytestmark = pytest.mark.committed

THREADS = 16
PAYMENTS_EACH = 10


def _run_in_threads(app, work) -> list:
    results, errors = [], []
    start = threading.Barrier(THREADS)

    def run(n):
        with app.app_context():
            try:
                start.wait()
                results.extend(work(n))
            except Exception as exc:  # reported below, with the thread's failure
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def contract(app, committed_db):
    load_demo(db.session)
    open_contract_account(db.session, None, 7001, region_id(db.session), bill_id_of(7001))
    issue_bill(db.session, None, 7001, 5_000_000)
    db.session.commit()
    return 7001


def test_sixteen_threads_paying_into_one_contract_leave_an_exact_balance(app, contract):
    def work(n):
        posted = []
        for i in range(PAYMENTS_EACH):
            amount = 1_000 * (n + 1) + i
            posted.append(post_payment(db.session, None, PaymentRequest(
                "bank", f"T{n}-{i}", amount, date(2025, 3, 1), contract_id=contract)))
            db.session.commit()
        return posted

    results = _run_in_threads(app, work)
    paid = sum(1_000 * (n + 1) + i for n in range(THREADS) for i in range(PAYMENTS_EACH))
    assert len(results) == THREADS * PAYMENTS_EACH and all(r.status == POSTED for r in results)
    account = db.session.scalar(select(Account).where(Account.contract_id == contract))
    assert account.balance == 5_000_000 - paid
    posted = db.session.scalar(select(func.sum(Posting.amount)).where(Posting.account_id == account.id))
    assert posted == account.balance
    check_books(db.session)


def test_the_same_bank_reference_sent_by_sixteen_threads_posts_once(app, contract):
    def work(_n):
        result = post_payment(db.session, None, PaymentRequest("bank", "SAME-REF", 250_000, date(2025, 3, 1),
                                                               contract_id=contract))
        db.session.commit()
        return [result]

    results = _run_in_threads(app, work)
    assert sorted(r.status for r in results) == [DUPLICATE] * (THREADS - 1) + [POSTED]
    assert len({r.journal_id for r in results}) == 1
    assert db.session.scalar(select(func.count()).select_from(Journal).where(Journal.kind == "payment")) == 1
    assert db.session.scalar(select(Account.balance).where(Account.contract_id == contract)) == 4_750_000
