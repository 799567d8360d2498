"""A billing run survives its worker being killed (a real SIGKILL mid-run): resumed by two workers at once,
it bills every contract exactly once, with the same amounts as calculated beforehand, the ledger balanced."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from billing import bills, runs
from billing.models import Bill
from billing.run_models import BillingRun, RunStatus
from core.accounts import User
from core.db import db
from core.errors import DomainError
from core.regions import Region
from ledger.models import Account, Posting
from madam.demo import load_demo
from tests.billing_run_support import ISSUED, PERIOD, billable_contracts
from tests.conftest import TEST_DB_URL

WORKER = textwrap.dedent("""
    import sys
    from billing.runs import work
    from madam.app import create_app

    app = create_app()
    with app.app_context():
        print("ready", flush=True)
        work(int(sys.argv[1]))
        print("done", flush=True)
""")


@pytest.fixture
def approved_run(app, clean_db):
    """A committed, approved run over every electricity contract of the demo company, one contract a chunk,
    and each contract's bill as calculated before the run."""
    with app.app_context():
        session = db.session
        load_demo(session)
        users = {u.username: u for u in session.scalars(select(User))}
        contracts = []
        for code in ("shiraz-1", "shiraz-2", "marvdasht"):
            contracts += billable_contracts(session, users["billing"], code)
        expected = {}
        for contract in contracts:
            try:
                expected[contract.id] = bills.prepare(session, contract.id).quote.payable
            except DomainError:  # the two exceptions per region: no reading, a flagged reading
                pass
        company = session.scalar(select(Region).where(Region.code == "demo"))
        run = runs.create_run(session, users["billing"], utility="electricity", period=PERIOD,
                              region_ids=[company.id], issued_on=ISSUED)
        run.chunk_size = 1
        runs.approve(session, users["supervisor"], run.id)
        runs.start(session, users["supervisor"], run.id)
        session.commit()
        ids = {"run": run.id, "expected": expected, "contracts": len(contracts)}
        session.remove()
    return ids


def _billed(run_id: int) -> int:
    with psycopg.connect(TEST_DB_URL, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM billing_run_contracts WHERE run_id = %s AND status = 'billed'",
                            (run_id,)).fetchone()[0]


def test_a_killed_worker_is_resumed_and_every_contract_is_billed_exactly_once(app, approved_run, tmp_path):
    run_id, expected = approved_run["run"], approved_run["expected"]
    assert len(expected) >= 10
    env = {**os.environ, "MADAM_DATABASE_URL": TEST_DB_URL, "MADAM_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).parent.parent)}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(run_id)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 60
    while _billed(run_id) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    killed_at = _billed(run_id)
    with app.app_context():
        done = runs.progress(db.session, run_id)
        assert done["pending"] > 0 and killed_at >= 3, "the kill must land mid-run"
        assert db.session.get(BillingRun, run_id).status == RunStatus.RUNNING
        db.session.remove()

    def resume():
        with app.app_context():
            runs.work(run_id)
            db.session.remove()

    workers = [threading.Thread(target=resume) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(120)
    with app.app_context():
        session = db.session
        run = session.get(BillingRun, run_id)
        assert run.status == RunStatus.FINISHED
        per_contract = dict(session.execute(select(Bill.contract_id, func.count()).where(Bill.period == PERIOD)
                                            .group_by(Bill.contract_id)).tuples().all())
        assert per_contract == dict.fromkeys(expected, 1)
        payable = dict(session.execute(select(Bill.contract_id, Bill.payable)
                                       .where(Bill.period == PERIOD)).tuples().all())
        assert payable == expected  # the same amounts as an uninterrupted calculation
        assert session.scalar(select(func.sum(Posting.amount))) == 0
        for account_id, balance in session.execute(select(Account.id, Account.balance)
                                                   .where(Account.contract_id.in_(list(expected)))):
            postings = session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))
                                      .where(Posting.account_id == account_id))
            assert balance == postings
        session.remove()
