"""Ledger benchmark: payments posted one by one (each its own transaction) and a bank file import.

1. one by one: N payments by bill ID + payment ID, each `post_payment` followed by its own commit, as a
   bank callback arrives — spread over contracts that each have an open bill, so every payment is
   validated, claimed by its reference, locks its contract, posts, settles the bill and is audited.
   The headline figure uses one connection; `--connections K` also measures K processes posting at
   once, each with its own connection, as a gateway's workers would.
2. file: a bank payment file of L lines (bill ID, payment ID, amount, date, reference) imported with
   `import_bank_file`, committing after each chunk of 1,000 lines as the edge does; then the same file
   imported again (every line a duplicate, nothing posted).

Set-up (a fresh database, migrations, demo data, contract accounts and their bills) is not timed.
At the end the books are checked: every journal balances and each cached balance equals its postings.
Targets (from the issue): >= 1,000 payments/s one by one; 100,000 lines in <= 30 s.

Figures, 2026-11-28, third session, PostgreSQL 15, synchronous_commit=on, 2 CPUs shared with other
helpers' tests and benchmarks (load average 2.8 to 9 during the runs: the wall times follow the load more
than the code; compare the CPU figures). `bench/ledger.py --payments 2000 --lines 100000 --connections 1`,
the commit before this session's (old) and after it (new) run one after the other, each on a fresh
database, in pairs (load at the start of each run):

    pair  load      one by one: payments/s  CPU process + backend ms   bank file s   CPU process + backend s
    1     2.8/3.2   old 395   new 411       old 1.32+0.87  new 0.76+0.97   37.7 / 46.6*  9.5+20.1 / 8.8+21.9*
    2     4.3/5.1   old 153   new 257       old 1.96+1.35  new 0.68+0.90   78.5 / 91.6*  11.3+31.4 / 9.6+31.1*
    3     6.1/7.2   old  90   new 109       old 2.17+1.48  new 1.26+1.58   94.1 / 105.4  11.2+31.8 / 9.6+31.7
    4     8.9/8.3   old  66   new 191       old 2.79+1.73  new 0.92+1.19   92.2 / 65.0   11.1+28.9 / 11.3+28.6
    5     3.4/3.7   old 184   new 293       old 1.84+1.24  new 0.78+1.00   58.8 / 38.4   9.5+26.3 / 8.6+24.2

    (* with a second parsing thread, since dropped; see below.) The same file again (all duplicates):
    CPU this process 8.7-10.8 s old, 7.1-10.2 s new.

- one by one: NOT met. This process's CPU per payment fell by 40-65% (1.3-2.8 ms -> 0.7-1.3 ms): a
  payment now costs 3 round trips instead of 6 — BEGIN, one statement, COMMIT. The statement calls
  `ledger_post_payment` and also answers what the two receivers of `payment_posted` used to read for
  themselves (ledger.signals.payment_posted_reads: whether a procedure waits for the contract's money,
  madam/wiring.py; whether an active webhook subscription wants payment.posted, api/events.py); there is
  no pool pre-ping any more (madam/settings.py: pool_recycle, a dropped connection invalidates the pool).
  What is left is the backend, ~0.9 ms a payment at load 3 (1.2-1.6 ms at load 7-9), and the commit's
  WAL flush (0.2 ms on a quiet machine, 1-10 ms on this busy one). perf of the backend posting one by
  one: PL/pgSQL 72% (of which index inserts 15%: ~30 index entries a payment — journals 5, postings 6,
  the balance update 7 because `ix_report_accounts_kind_balance` holds the balance so it is never a HOT
  update, allocations 3, payments 4, audit 5; executor start-up of its 11 statements and of the
  foreign-key checks' queries 13%; foreign-key checks 10%, 7 a payment), commit 17% (WAL flush 9%, the
  deferred balance trigger 5%). Rewriting the function as 3 statements (one CTE writing postings,
  balance, allocations, payment and audit) did not lower its CPU measurably (six interleaved runs each, in
  one transaction: 0.54-0.89 ms new vs 0.46-0.78 ms old; with plan_cache_mode=force_generic_plan
  0.60-0.77 vs 0.61-0.87) and was not kept. 1,000/s needs ~1 ms in all; this process ~0.7 ms + backend
  ~0.9 ms + the commit's flush make ~1.8 ms, so roughly 500-600/s on a quiet machine as the schema stands.
- bank file: NOT met on this machine (38.4 s new at load 3.7, 65-105 s at load 4-9). Backend 20-24 s at
  load 3 (29-32 s at load 6-9), unchanged: perf of the backend during the import: index inserts 34%,
  foreign-key checks 21%, claiming the journals 17%, the deferred per-row balance trigger 8.5%; and the
  open charges' allocation sums grow with the bench's 50 payments to each bill. This
  process: a line's Jalali date is now converted once per distinct date (the conversion cost more than
  the rest of the line's parsing). Parsing the next chunk in a second thread while the database posts
  the current one did not help here (no idle core at load 3-9: ABBA at load ~7, 63.5 s with the thread
  vs 57.7 s without) and was dropped; on a quiet machine it would hide most of this process's ~9 s.
  Running the payment functions with the billing migration's `ledger.whole_journals` on (one balance
  check per journal at the end of the statement instead of the deferred per-row trigger) did not lower
  the batch's backend CPU either (ABBA, 4 batches of 1,000 lines each: 2.63 s on, 2.52 s off): not kept.

Every posted payment sends `payment_posted`, whose receivers (the engine, see madam/wiring.py) run in
the same transaction; their time is part of the figures. `--without-receivers` disconnects them to show
the ledger's own share (a diagnostic, not a target figure). CPU seconds of this process and of its
PostgreSQL backend are printed beside the wall time: on a busy machine they say more than the clock.

At the end of the session, on a quiet machine (load 0.7-0.9), `--payments 2000 --lines 100000`: one by one
554 payments/s (1.81 ms each; CPU this process 0.68 ms, backend 0.98 ms) — 188-197/s at the session's start on
the same kind of machine; bank file 100,000 lines in 33.9 s (CPU process 9.7 s, backend 24.0 s; was 35-45 s), the
same file again 13.4 s; books exact. Both targets MISSED (1,000/s; 30 s).

Fourth session (2026-11-28, a faster machine: AMD EPYC, 2 cores; the same code gave 945 payments/s at load 3.3
where the earlier machine gave 554 quiet). `--waiting N` (default 20,000) now leaves N procedures waiting for a
payment from contracts the benchmark does not pay, as a utility has (new connections waiting for their fee):
every payment asks whether a procedure waits for its contract. Without an index of their own for (name,
contract) PostgreSQL scanned all the waits: `--payments 3000 --lines 1000`, ABAB at load 3.6-5.0, backend CPU
2.75 / 2.89 ms a payment before (migration 5c4ed0000006 absent) and 0.82 / 0.66 ms after. Sending a payment's
statement in a psycopg pipeline (its transaction's BEGIN travelling with it) was tried and taken back: an INSERT
and a durable COMMIT cost 0.33-0.38 ms wall and 0.11-0.12 ms CPU with the pipeline, 0.26-0.29 ms and 0.06-0.07
ms without (three runs each, alternated; the pipeline's machinery costs more than the round trip it saves).

At the end of the fourth session, on a quiet machine (load 0.8-1.1, all agents' work stopped),
`--payments 3000 --lines 100000 --connections 2` (20,000 procedures waiting): one by one on one connection
1,334 payments/s (0.75 ms each; CPU this process 0.22 ms, backend 0.43 ms); on two connections at once 1,796
payments/s; the 100,000-line bank file in 11.3 s (CPU this process 3.3 s, backend 7.9 s), the same file again
4.6 s with nothing posted twice; books exact. Both targets MET on this machine (1,000/s; 30 s).
At a larger scale, `--contracts 100000 --payments 5000 --lines 100000 --connections 2` (load 0.7-1.0; set-up 310 s):
one connection 1,205 payments/s (0.83 ms; CPU 0.25 + 0.47 ms), two connections 1,898 payments/s; the bank file
(one payment to each of 100,000 contracts) 15.8 s, again 9.3 s; books exact.

Run from the repository root (it drops and recreates the database it is given, and drops it at the end):

    .venv/bin/python bench/ledger.py --payments 2000 --lines 20000
    .venv/bin/python bench/ledger.py --payments 5000 --lines 100000
"""

import argparse
import multiprocessing
import os
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from core.db import db  # noqa: E402
from core.identifiers import make_bill_id, make_payment_id  # noqa: E402
from core.regions import Region  # noqa: E402
from ledger.bank_file import import_bank_file  # noqa: E402
from ledger.bills import post_bill  # noqa: E402
from ledger.models import Account, AccountKind, Posting  # noqa: E402
from ledger.payments import PaymentRequest, post_payment  # noqa: E402
from ledger.signals import payment_posted, payment_posted_reads  # noqa: E402
from madam.app import create_app  # noqa: E402
from madam.demo import load_demo  # noqa: E402
from madam.wiring import PAYMENT_MESSAGE  # noqa: E402

BILL = 100_000_000  # each contract's open bill, larger than all it is paid
FIRST_CONTRACT = 1_000_001  # past the demo's own contracts (they have accounts too)
PAID_ON = date(2025, 3, 1)


def admin_sql(url: str, *statements: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or "bench" not in name:
        raise SystemExit(f"refusing to recreate database {name!r}: its name must contain 'bench'")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.format(name=name))


def set_up(url: str, contracts: int, synchronous_commit: str = "on", waiting: int = 0):
    admin_sql(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', 'CREATE DATABASE "{name}"',
              'ALTER DATABASE "{name}" SET synchronous_commit = ' + ("off" if synchronous_commit == "off" else "on"))
    app = create_app({"TESTING": False}, env={"MADAM_DATABASE_URL": url, "MADAM_DATA_DIR": tempfile.mkdtemp()})
    with app.app_context():
        upgrade()
        load_demo(db.session)
        region_id = db.session.scalar(select(Region.id).where(Region.code == "shiraz-1"))
        db.session.execute(insert(Account), [
            {"code": f"receivable:{n}", "kind": AccountKind.RECEIVABLE, "contract_id": n, "region_id": region_id,
             "bill_id": bill_id(n), "balance": 0} for n in contract_ids(contracts)])
        db.session.commit()
        add_waiting_procedures(db.session, waiting, region_id)
        started = time.perf_counter()
        for n in contract_ids(contracts):
            post_bill(db.session, None, n, bill_id=bill_id(n), period="1403/12", issued_on=PAID_ON,
                      due_on=PAID_ON, lines={"energy": BILL})
            db.session.commit()
        bills_s = time.perf_counter() - started
    return app, bills_s


def add_waiting_procedures(session, count: int, region_id: int) -> None:
    """`count` procedures waiting for a payment (a new connection's fee, say) from contracts that the
    benchmark does not pay: every payment asks whether one waits for its contract, as in production."""
    if not count:
        return
    session.execute(text(
        "INSERT INTO process_versions (process_key, version, name, content_hash, bpmn, forms, spec, source, "
        "deployed_at) VALUES ('bench_waiting', 1, 'bench', 'bench', '', '{}', '{}', 'bench', now())"))
    session.execute(text(
        "INSERT INTO process_instances (version_id, process_key, business_key, status, region_id, contract_id, "
        "state, lock_version, created_at, last_progress_at) "
        "SELECT (SELECT id FROM process_versions WHERE process_key = 'bench_waiting'), 'bench_waiting', "
        "'W' || g, 'waiting', :region, :first + g, '', 1, now(), now() FROM generate_series(1, :count) g"),
        {"region": region_id, "first": FIRST_CONTRACT + 10_000_000, "count": count})
    session.execute(text(
        "INSERT INTO message_waits (instance_id, task_id, name, business_key, contract_id, created_at) "
        "SELECT id, 'fee', :name, business_key, contract_id, now() FROM process_instances "
        "WHERE process_key = 'bench_waiting'"), {"name": PAYMENT_MESSAGE})
    session.execute(text("ANALYZE message_waits"))
    session.commit()


def contract_ids(contracts: int) -> range:
    return range(FIRST_CONTRACT, FIRST_CONTRACT + contracts)


def bill_id(contract_id: int) -> str:
    return make_bill_id(contract_id, 123, 2)


def request(n: int, contracts: int, prefix: str) -> PaymentRequest:
    contract_id = FIRST_CONTRACT + n % contracts
    amount = 1000 * (n % 97 + 1)
    return PaymentRequest("bank", f"{prefix}{n}", amount, PAID_ON, bill_id=bill_id(contract_id),
                          payment_id=make_payment_id(amount, 1403, 12, bill_id(contract_id)))


class Clock:
    """Wall time, and CPU seconds of this process and of the PostgreSQL backend serving the session
    (read from /proc when the server runs on this machine; None otherwise)."""

    def __init__(self, session):
        self.backend = session.scalar(text("SELECT pg_backend_pid()"))
        session.commit()
        self.wall, self.cpu, self.server = time.perf_counter(), time.process_time(), self._server_cpu()

    def _server_cpu(self):
        try:
            fields = Path(f"/proc/{self.backend}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> tuple[float, float, float | None]:
        server = self._server_cpu()
        return (time.perf_counter() - self.wall, time.process_time() - self.cpu,
                None if server is None or self.server is None else server - self.server)


def cpu_note(cpu: float, server: float | None, per: int, unit: str = "ms", scale: float = 1000) -> str:
    server_part = "" if server is None else f", its PostgreSQL backend {scale * server / per:.2f} {unit}"
    return f"CPU: this process {scale * cpu / per:.2f} {unit}{server_part}"


def one_by_one(app, count: int, contracts: int) -> tuple[float, float, float | None]:
    with app.app_context():
        for n in range(50):  # warm-up
            post_payment(db.session, None, request(n, contracts, "W"))
            db.session.commit()
        clock = Clock(db.session)
        for n in range(count):
            post_payment(db.session, None, request(n, contracts, "C"))
            db.session.commit()
        return clock.stop()


def _paying_worker(url: str, worker: int, workers: int, count: int, contracts: int, start, without_receivers: bool):
    """One of several processes posting payments one by one, each its own transaction."""
    app = create_app({"TESTING": False}, env={"MADAM_DATABASE_URL": url, "MADAM_DATA_DIR": tempfile.mkdtemp()})
    if without_receivers:
        disconnect_receivers()
    with app.app_context():
        for n in range(20):  # warm-up
            post_payment(db.session, None, request(n, contracts, f"W{worker}-"))
            db.session.commit()
        start.wait()
        for n in range(worker, count, workers):
            post_payment(db.session, None, request(n, contracts, "K"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def concurrently(url: str, count: int, contracts: int, workers: int, without_receivers: bool) -> float:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)
    processes = [context.Process(target=_paying_worker,
                                 args=(url, k, workers, count, contracts, start, without_receivers))
                 for k in range(workers)]
    for process in processes:
        process.start()
    start.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    if any(process.exitcode for process in processes):
        raise SystemExit("a paying process failed")
    return time.perf_counter() - started


def disconnect_receivers() -> None:
    for receiver in list(payment_posted.receivers.values()):
        payment_posted.disconnect(receiver)
    payment_posted_reads.clear()  # and what they asked the posting statement to read


def bank_file(lines: int, contracts: int) -> str:
    rows = []
    for n in range(lines):
        r = request(n, contracts, "F")
        rows.append(f"{r.bill_id},{r.payment_id},{r.amount},1403/12/11,{r.reference}")
    return "\n".join(rows)


def import_file(app, content: str) -> tuple[tuple, dict]:
    with app.app_context():
        clock = Clock(db.session)
        report = import_bank_file(db.session, None, content, after_chunk=db.session.commit)
        db.session.commit()
        times = clock.stop()
    counts = {}
    for line in report:
        counts[line.status] = counts.get(line.status, 0) + 1
    return times, counts


def check_books(app) -> str:
    with app.app_context():
        unbalanced = db.session.execute(select(Posting.journal_id).group_by(Posting.journal_id)
                                        .having(func.sum(Posting.amount) != 0).limit(1)).all()
        total = db.session.scalar(select(func.coalesce(func.sum(Posting.amount), 0)))
        drift = db.session.execute(text(
            "SELECT count(*) FROM ledger_accounts a WHERE a.balance IS NOT NULL AND a.balance <> "
            "(SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p WHERE p.account_id = a.id)")).scalar()
        postings = db.session.scalar(select(func.count()).select_from(Posting))
    ok = not unbalanced and total == 0 and drift == 0
    return (f"{'ok' if ok else 'WRONG'}: {postings} postings, unbalanced journals {len(unbalanced)}, "
            f"sum of all postings {total}, cached balances off {drift}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/madam_bench_ledger")
    parser.add_argument("--contracts", type=int, default=2000)
    parser.add_argument("--payments", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--synchronous-commit", choices=["on", "off"], default="on",
                        help="off shows the code's own cost without waiting for the disk flush of each commit")
    parser.add_argument("--connections", type=int, default=1,
                        help="also post the payments one by one from this many processes at once")
    parser.add_argument("--without-receivers", action="store_true",
                        help="diagnostic: disconnect payment_posted's receivers (the engine's) to see the ledger alone")
    parser.add_argument("--waiting", type=int, default=20_000,
                        help="procedures waiting for a payment from other contracts (each payment asks)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    url = args.database_url
    app, bills_s = set_up(url, args.contracts, args.synchronous_commit, args.waiting)
    if args.without_receivers:
        disconnect_receivers()
    try:
        with app.app_context():
            pg = db.session.scalar(text("SHOW server_version"))
            sync = db.session.scalar(text("SHOW synchronous_commit"))
        print(f"PostgreSQL {pg} (synchronous_commit={sync}), {args.contracts} contracts, each with an open bill, "
              f"{args.waiting:,} procedures waiting for other contracts' payments; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
              f"{'; payment_posted receivers DISCONNECTED (diagnostic)' if args.without_receivers else ''}")
        print(f"set-up: {args.contracts} bills posted one by one in {bills_s:.1f} s "
              f"({args.contracts / bills_s:,.0f} bills/s, not a target)")
        elapsed, cpu, server = one_by_one(app, args.payments, args.contracts)
        rate = args.payments / elapsed
        print(f"one by one, one connection: {args.payments} payments in {elapsed:.2f} s = {rate:,.0f} payments/s "
              f"({1000 * elapsed / args.payments:.2f} ms each; {cpu_note(cpu, server, args.payments)} each) "
              f"— target >= 1,000/s: {'met' if rate >= 1000 else 'NOT met'}")
        if args.connections > 1:
            elapsed = concurrently(url, args.payments, args.contracts, args.connections, args.without_receivers)
            print(f"one by one, {args.connections} connections at once: {args.payments} payments in {elapsed:.2f} s "
                  f"= {args.payments / elapsed:,.0f} payments/s")
        content = bank_file(args.lines, args.contracts)
        (elapsed, cpu, server), counts = import_file(app, content)
        scaled = elapsed * 100_000 / args.lines
        print(f"bank file: {args.lines} lines in {elapsed:.2f} s = {args.lines / elapsed:,.0f} lines/s {counts} "
              f"({cpu_note(cpu, server, 1, 's', 1)}) — target 100,000 lines <= 30 s: "
              f"{'met' if scaled <= 30 else 'NOT met'}{'' if args.lines == 100_000 else f' (scaled: {scaled:.1f} s)'}")
        (elapsed, cpu, server), counts = import_file(app, content)
        print(f"same file again: {args.lines} lines in {elapsed:.2f} s {counts} ({cpu_note(cpu, server, 1, 's', 1)})")
        print(f"books: {check_books(app)}")
    finally:
        with app.app_context():
            db.engine.dispose()
        if not args.keep:
            admin_sql(url, 'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
