"""The batch path of a billing run (billing/batch.py, ledger/bill_batch.py) issues exactly what the per-contract
path (`bills.issue` in a savepoint each) issues on the same data — the same bills, journals, postings, open
items, allocations, balances, reading links and audit rows, and the same skips with the same reasons — and
keeps the ledger's invariants."""

import gc
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from billing import batch, bills, runs
from billing.calculation import quote
from billing.models import Bill
from billing.run_models import BillingRunContract, RunContractStatus
from core.errors import DomainError
from core.regions import Region
from ledger.accounts import lock_accounts
from ledger.adjustments import adjust
from ledger.bill_batch import BatchPosted, BillEntry, post_bills
from ledger.models import Account, AccountKind, Charge, Posting
from subscribers.models import Contract
from tests.billing_run_support import CLOSING, ISSUED, PERIOD, billable_contracts, read

TABLES = ("billing_bills", "ledger_journals", "ledger_postings", "ledger_charges", "ledger_allocations", "audit_log")


@pytest.fixture
def varied_run(session, demo):
    """A run over shiraz-1's electricity contracts with every case a chunk meets: ready ones, and ones with a
    debt, a small credit, a credit larger than the bill, two readings in the period, no reading, a flagged
    reading, an unknown tariff type, a reading in the following month, a bill already issued for the period."""
    actor = demo["billing"]
    contracts = billable_contracts(session, actor)
    assert len(contracts) >= 10, "the demo's shiraz-1 has enough electricity contracts"
    on = date(2025, 7, 1)
    adjust(session, None, contracts[2].id, 123_456, "بدهی دوره پیش", on)
    adjust(session, None, contracts[3].id, -50_000, "بستانکاری", on)
    adjust(session, None, contracts[4].id, -90_000_000, "بستانکاری بزرگ", on)
    read(session, actor, contracts[5], CLOSING - timedelta(days=20), 5070)  # CLOSING's reading comes after
    contracts[6].tariff_type = "steam"
    read(session, actor, contracts[7], date(2025, 8, 30), 5900)  # 1404/06: the run's month is 1404/05
    bills.issue(session, actor, contracts[8].id, issued_on=ISSUED)
    session.flush()
    region = session.scalar(select(Region).where(Region.code == "shiraz-1"))
    run = runs.create_run(
        session, actor, utility="electricity", period=PERIOD, region_ids=[region.id], issued_on=ISSUED, due_days=12
    )
    runs.approve(session, demo["supervisor"], run.id)
    runs.start(session, demo["supervisor"], run.id)
    session.flush()
    ids = list(
        session.scalars(
            select(BillingRunContract.contract_id)
            .where(BillingRunContract.run_id == run.id)
            .order_by(BillingRunContract.contract_id)
        )
    )
    return run, demo["supervisor"], ids, contracts


def _baseline(session) -> dict[str, int]:
    return {t: session.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar() for t in TABLES}  # noqa: S608


def _rows(session, table, after):
    return [
        dict(r)
        for r in session.execute(
            text(f"SELECT * FROM {table} WHERE id > :after ORDER BY id"),  # noqa: S608
            {"after": after},
        ).mappings()
    ]


def _snapshot(session, run, before: dict[str, int]) -> dict:
    """Everything the run wrote, with the ids the sequences handed out replaced by what they stand for."""
    session.flush()
    journals = {j["id"]: j["idempotency_key"] for j in _rows(session, "ledger_journals", before["ledger_journals"])}
    bills_ = _rows(session, "billing_bills", before["billing_bills"])
    bill_of = {b["id"]: (b["contract_id"], b["period"]) for b in bills_}
    charges = _rows(session, "ledger_charges", before["ledger_charges"])
    charge_of = {c["id"]: journals[c["journal_id"]] for c in charges}

    def plain(row, *drop):
        return {k: v for k, v in row.items() if k not in ("id", "created_at", "at", *drop)}

    def audit_detail(row):
        detail = dict(row["detail"])
        if "journal_id" in detail:
            detail["journal_id"] = journals[detail["journal_id"]]
        obj = (
            journals[int(row["object_id"])]
            if row["object_type"] == "Journal"
            else bill_of[int(row["object_id"])]
            if row["object_type"] == "Bill"
            else row["object_id"]
        )
        return json.dumps([plain(row, "detail", "object_id"), obj, detail], sort_keys=True, default=str)

    return {
        "run_rows": sorted(
            session.execute(
                select(
                    BillingRunContract.contract_id,
                    BillingRunContract.status,
                    BillingRunContract.reason,
                    BillingRunContract.detail,
                    BillingRunContract.payable,
                    BillingRunContract.total,
                    BillingRunContract.attempts,
                    BillingRunContract.bill_pk.is_not(None),
                ).where(BillingRunContract.run_id == run.id)
            )
            .tuples()
            .all()
        ),
        "bills": sorted(
            json.dumps({**plain(b, "journal_id"), "journal": journals[b["journal_id"]]}, sort_keys=True, default=str)
            for b in bills_
        ),
        "journals": sorted(
            json.dumps(plain(j), sort_keys=True, default=str)
            for j in _rows(session, "ledger_journals", before["ledger_journals"])
        ),
        "postings": sorted(
            (journals[p["journal_id"]], p["account_id"], p["amount"], p["line"])
            for p in _rows(session, "ledger_postings", before["ledger_postings"])
        ),
        "charges": sorted(
            json.dumps({**plain(c, "journal_id"), "journal": journals[c["journal_id"]]}, sort_keys=True, default=str)
            for c in charges
        ),
        "allocations": sorted(
            (charge_of.get(a["charge_id"], a["charge_id"]), journals[a["journal_id"]], a["amount"])
            for a in _rows(session, "ledger_allocations", before["ledger_allocations"])
        ),
        "balances": dict(session.execute(select(Account.id, Account.balance)).tuples().all()),
        "reading_links": sorted(
            session.execute(
                text(
                    "SELECT r.id, b.contract_id, b.period FROM billing_meter_readings r JOIN billing_bills b "
                    "ON b.id = r.bill_id WHERE b.id > :after"
                ),
                {"after": before["billing_bills"]},
            )
            .tuples()
            .all()
        ),
        "audit": sorted(audit_detail(a) for a in _rows(session, "audit_log", before["audit_log"])),
    }


def _one_by_one(session, run, actor, ids):
    for contract_id in ids:
        runs._bill_one(session, actor, run, session.get(BillingRunContract, (run.id, contract_id)))
    session.flush()


def test_a_chunk_billed_at_once_writes_exactly_what_billing_one_by_one_writes(session, varied_run):
    run, actor, ids, _contracts = varied_run
    before = _baseline(session)
    savepoint = session.begin_nested()
    _one_by_one(session, run, actor, ids)
    one_by_one = _snapshot(session, run, before)
    savepoint.rollback()
    session.expire_all()
    outcomes = runs._bill_chunk(session, actor, run, ids, batch.TariffBook(session), batch.QuoteBook())
    at_once = _snapshot(session, run, before)
    assert set(outcomes) == set(ids)
    billed = [row for row in at_once["run_rows"] if row[1] == RunContractStatus.BILLED]
    assert len(billed) >= 5 and at_once["allocations"], "the fixture bills contracts in debt and in credit"
    for part in one_by_one:
        assert at_once[part] == one_by_one[part], part
    # one audit row a bill, naming its journal and what the journal charged the contract
    issued = [json.loads(a) for a in at_once["audit"] if '"billing.bill_issued"' in a]
    assert len(issued) == len(at_once["bills"]) == len(billed)
    assert not [a for a in at_once["audit"] if '"ledger.bill_posted"' in a]
    charged = {j: -sum(p[2] for p in at_once["postings"] if p[0] == j and p[3] != "bill")
               for j, *_ in at_once["postings"]}
    assert sorted(d["amount"] for _row, _bill, d in issued) == sorted(charged[d["journal_id"]] for _r, _b, d in issued)


def test_exceptions_are_skipped_with_their_reasons_and_the_rest_of_the_chunk_billed(session, varied_run):
    run, actor, ids, contracts = varied_run
    expected = {}
    for cid in ids:
        try:
            expected[cid] = bills.prepare(session, cid).quote  # with the balance brought forward as it stands
        except DomainError:
            pass
    outcomes = runs._bill_chunk(session, actor, run, ids, batch.TariffBook(session), batch.QuoteBook())
    session.expire_all()
    rows = {
        r.contract_id: r for r in session.scalars(select(BillingRunContract).where(BillingRunContract.run_id == run.id))
    }
    skipped = {cid: (r.reason, r.detail) for cid, r in rows.items() if r.status == RunContractStatus.SKIPPED}
    assert skipped == {
        contracts[0].id: ("billing.no_new_reading", ""),
        contracts[1].id: ("billing.reading_flagged", "registers=single"),
        contracts[6].id: ("billing.tariff_type_unknown", "tariff_type=steam"),
        contracts[7].id: ("billing.reading_outside_period", "period=1404/06"),
        contracts[8].id: ("billing.already_billed", ""),
    }
    assert all(isinstance(outcomes[cid], batch.Skipped) for cid in skipped)
    for cid, row in rows.items():
        if cid in skipped:
            continue
        bill = session.get(Bill, row.bill_pk)
        assert row.status == RunContractStatus.BILLED and (bill.contract_id, bill.period) == (cid, PERIOD)
        assert bill.payable == row.payable == expected[cid].payable and bill.total == row.total == expected[cid].total
        assert bill.quote == expected[cid].to_json()
        assert bool(bill.payment_id) == (bill.payable >= 1000) and row.attempts == 1
    big_credit = session.get(Bill, rows[contracts[4].id].bill_pk)
    assert big_credit.payable == 0 and big_credit.payment_id == ""
    two_readings = session.get(Bill, rows[contracts[5].id].bill_pk)
    assert len(two_readings.readings["single"]["reading_ids"]) == 2


def test_the_quote_book_gives_what_quote_gives_for_any_balance_brought_forward(session, varied_run):
    _run, _actor, _ids, contracts = varied_run
    tariffs, quotes = batch.TariffBook(session), batch.QuoteBook()
    draft = bills.prepare(session, contracts[9].id)
    versions = tariffs.in_force(draft.tariff_type.id, draft.tariff_code, draft.usage.start, draft.usage.end)
    assert [v.id for v in versions] == draft.version_ids
    from dataclasses import replace

    for brought_forward in (0, 1, 999, 1_000, 123_456, -1, -999, -50_000, -(10**9), 10**9 + 7):
        usage = replace(draft.usage, brought_forward=brought_forward)
        calculated, written = quotes.quote_and_json(versions, usage)
        expected = quote([(v.effective_from, v.data) for v in versions], usage)
        assert calculated == expected and json.loads(written) == expected.to_json()
    assert (quotes.calculated, quotes.reused) == (1, 9)


# --- The ledger's bulk writer -----------------------------------------------------------------------------------


def _entries(session, contract_ids, amounts, period="1404/05"):
    accounts = {a.contract_id: a for a in lock_accounts(session, Account.contract_id.in_(contract_ids))}
    contracts = dict(
        session.execute(select(Contract.id, Contract.bill_id).where(Contract.id.in_(contract_ids))).tuples().all()
    )
    return [
        BillEntry(
            accounts[cid],
            contracts[cid],
            period,
            ISSUED,
            ISSUED + timedelta(days=10),
            {"energy": amount, "fixed": 7_000},
            amount // 10,
            {"electricity_levy": amount // 50},
            "",
            f"test:{cid}:{period}",
        )
        for cid, amount in zip(contract_ids, amounts, strict=True)
    ]


def _books_balance(session):
    assert (
        session.execute(
            text(
                "SELECT count(*) FROM (SELECT journal_id FROM ledger_postings GROUP BY journal_id "
                "HAVING sum(amount) <> 0) unbalanced"
            )
        ).scalar()
        == 0
    )
    for account_id, balance in session.execute(
        select(Account.id, Account.balance).where(Account.kind == AccountKind.RECEIVABLE)
    ):
        postings = session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0)).where(Posting.account_id == account_id)
        )
        assert balance == postings, account_id
        open_total = session.execute(
            text(
                "SELECT coalesce(sum(c.amount - coalesce((SELECT sum(a.amount) FROM ledger_allocations a "
                "WHERE a.charge_id = c.id), 0)), 0) FROM ledger_charges c WHERE c.account_id = :a"
            ),
            {"a": account_id},
        ).scalar()
        assert open_total == max(balance, 0), account_id  # the open items always total the debt


def test_bills_posted_in_bulk_keep_the_ledgers_invariants_and_their_keys(session, varied_run):
    _run, _actor, _ids, contracts = varied_run
    chosen = [c.id for c in contracts[2:6]]  # in debt, in small credit, in large credit, owing nothing
    amounts = [250_337, 12_001, 40_000, 999]
    balances = dict(
        session.execute(select(Account.contract_id, Account.balance).where(Account.contract_id.in_(chosen)))
        .tuples()
        .all()
    )
    posted = post_bills(session, None, _entries(session, chosen, amounts))
    session.expire_all()
    assert all(isinstance(p, BatchPosted) for p in posted.values())
    for cid, amount in zip(chosen, amounts, strict=True):
        total = amount + 7_000 + amount // 10 + amount // 50
        assert posted[cid].charged + posted[cid].rounding == total and posted[cid].rounding < 1000
        assert (
            session.scalar(select(Account.balance).where(Account.contract_id == cid))
            == balances[cid] + posted[cid].charged
            == posted[cid].balance
        )
        assert 0 <= max(posted[cid].balance, 0) - posted[cid].payable < 1000 and posted[cid].payable % 1000 == 0
    _books_balance(session)
    journals = session.scalar(select(func.count()).select_from(Charge))
    again = post_bills(session, None, _entries(session, chosen, amounts))  # the same bills: nothing posts twice
    assert {p.code for p in again.values()} == {"ledger.key_taken"}
    assert session.scalar(select(func.count()).select_from(Charge)) == journals
    different = post_bills(session, None, _entries(session, chosen[:1], [1_000_000]))
    assert different[chosen[0]].code == "ledger.idempotency_conflict"
    refused = post_bills(session, None, _entries(session, chosen[1:2], [0], period="1404/06"))
    assert isinstance(refused[chosen[1]], BatchPosted)  # the fixed charge alone is a bill
    empty = BillEntry(
        _entries(session, chosen[1:2], [0])[0].account, "", "1404/07", ISSUED, ISSUED, {}, 0, {}, "", "test:empty"
    )
    with pytest.raises(DomainError):
        raise post_bills(session, None, [empty])[chosen[1]]
    _books_balance(session)


def test_the_quote_book_reuses_a_calculation_over_other_dates_of_the_same_shape(session, varied_run):
    """Usages of the same amounts whose periods have the same shape (segment lengths, versions, variants,
    seasons) share one calculation; each still gets exactly what `quote` gives for its own dates."""
    from dataclasses import replace

    _run, _actor, _ids, contracts = varied_run
    tariffs, quotes = batch.TariffBook(session), batch.QuoteBook()
    draft = bills.prepare(session, contracts[9].id)
    usage = replace(draft.usage, registers={"total": 420}, brought_forward=0)
    periods = [(usage.start + timedelta(days=shift), usage.end + timedelta(days=shift)) for shift in range(-3, 4)]
    # and periods across the start of the hot season (1404/03/01 = 2025-05-22): two segments each
    periods += [
        (date(2025, 5, 1) + timedelta(days=shift), date(2025, 5, 30) + timedelta(days=shift)) for shift in (0, 1, 2)
    ]
    shapes = set()
    for start, end in periods:
        dated = replace(usage, start=start, end=end)
        versions = tariffs.in_force(draft.tariff_type.id, draft.tariff_code, start, end)
        calculated, written = quotes.quote_and_json(versions, dated)
        expected = quote([(v.effective_from, v.data) for v in versions], dated)
        assert calculated == expected and json.loads(written) == expected.to_json(), (start, end)
        shapes.add(tuple((s["days"], s["hot_season"]) for s in expected.segments))
    assert any(len(shape) == 2 for shape in shapes), "some periods straddle the season's start"
    assert quotes.calculated == len(shapes) < len(periods) and quotes.reused == len(periods) - len(shapes)


def test_the_database_refuses_a_bulk_copied_journal_that_does_not_balance(session, varied_run):
    """Postings copied as whole journals (`ledger.whole_journals` on) are checked at the end of the COPY, once
    per journal and over all its postings: an unbalanced journal is refused, and so is a posting added later
    to a journal that balanced."""
    from psycopg.errors import RaiseException

    from ledger.bill_batch import _copy_whole_journals
    from ledger.models import Journal

    accounts = [
        a.id
        for a in session.scalars(select(Account).where(Account.contract_id.is_not(None)).order_by(Account.id).limit(3))
    ]

    def journal():
        row = Journal(kind="adjustment", reason="آزمون", effective_on=date(2026, 11, 1))
        session.add(row)
        session.flush()
        return row.id

    first, second = journal(), journal()
    _copy_whole_journals(
        session,
        [
            (first, accounts[0], 700, "t"),
            (first, accounts[1], -700, "t"),
            (second, accounts[0], 5, "t"),
            (second, accounts[2], -5, "t"),
        ],
    )
    assert session.execute(text("SELECT current_setting('ledger.whole_journals', true)")).scalar() == "off"
    unbalanced = journal()
    with pytest.raises(RaiseException, match=f"journal {unbalanced} does not balance"):
        with session.begin_nested():
            _copy_whole_journals(
                session,
                [
                    (first, accounts[0], 1, "t"),
                    (first, accounts[1], -1, "t"),
                    (unbalanced, accounts[0], 1000, "t"),
                    (unbalanced, accounts[1], -999, "t"),
                ],
            )
    with pytest.raises(RaiseException, match=f"journal {second} does not balance"):
        with session.begin_nested():  # its earlier postings are summed too
            _copy_whole_journals(session, [(second, accounts[1], 3, "t")])
    session.execute(text("SET CONSTRAINTS ledger_postings_balance IMMEDIATE"))  # and the per-row check agrees
    assert session.scalar(select(func.count()).select_from(Posting).where(Posting.journal_id.in_([first, second]))) == 4


def test_array_literals_come_back_as_the_values_they_were_made_from(session):
    from ledger.bill_batch import pg_array

    texts = ["", "NULL", None, 'a "quoted" word', "back\\slash", "{braces}, commas", "سطر\nدوم", '\\"', " space "]
    assert session.execute(text("SELECT CAST(:a AS text[])"), {"a": pg_array(texts)}).scalar() == texts
    numbers = [0, -1, 2**62, None]
    assert session.execute(text("SELECT CAST(:a AS bigint[])"), {"a": pg_array(numbers)}).scalar() == numbers
    days = [date(2025, 8, 1), None]
    assert session.execute(text("SELECT CAST(:a AS date[])"), {"a": pg_array(days)}).scalar() == days
    assert session.execute(text("SELECT CAST(:a AS bigint[])"), {"a": pg_array([])}).scalar() == []


def test_a_chunk_leaves_nothing_for_the_cyclic_garbage_collector(session, varied_run):
    """A refused contract's error is kept without its traceback: else it holds the chunk's frames, which hold
    it, and every row and draft of the chunk waits for the cyclic collector (runs.work freezes what survives)."""
    run, actor, ids, _contracts = varied_run
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        outcomes = runs._bill_chunk(session, actor, run, ids, batch.TariffBook(session), batch.QuoteBook())
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, batch.Draft | batch.Chunk | DomainError)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert any(isinstance(o, batch.Skipped) for o in outcomes.values()), "the fixture refuses some contracts"
    assert left == []
