"""Bank payment files, grace periods and installment plans, and the debtor queries."""

from datetime import date

import pytest
from sqlalchemy import func, select

from core.errors import DomainError
from core.identifiers import is_payment_id, make_payment_id, payment_id_amount
from ledger import signals, terms
from ledger.bank_file import import_bank_file
from ledger.models import Account, Installment, Journal, JournalKind
from ledger.payments import PaymentRequest, post_payment
from ledger.queries import debtors_with_deadline, overdue
from tests.test_ledger import TODAY, bill_id_of, check_books, issue_bill, open_account, pay


def _payment_line(contract_id, amount, reference, day="1403/12/11", period=12):
    bill_id = bill_id_of(contract_id)
    return f"{bill_id},{make_payment_id(amount, 1403, period, bill_id)},{amount},{day},{reference}"


def test_a_bank_file_with_bad_lines_posts_the_good_ones_and_reports_each_line(session, demo):
    actor = demo["finance"]
    for contract_id in (8001001, 1002):
        open_account(session, actor, contract_id)
        issue_bill(session, actor, contract_id, 500_000)
    good = _payment_line(8001001, 500_000, "F-1")
    bill_id = bill_id_of(1002)
    lines = [
        "bill_id,payment_id,amount,date,reference",
        good,
        f"{bill_id},{make_payment_id(300_000, 1403, 12, bill_id)},290000,1403/12/11,F-2",  # amount differs
        f"{bill_id[:-1]}0,{make_payment_id(300_000, 1403, 12, bill_id)},300000,1403/12/11,F-3",  # check digit
        "garbage line",
        _payment_line(1002, 300_000, "F-4", day="1403/13/01"),  # no such date
        _payment_line(1002, 300_000, "F-5", day="14031212"),
        _payment_line(1002, 100_000, "F-5"),  # same reference, another payment: a conflict
        _payment_line(8001001, 500_000, "F-1"),  # the same line twice in one file: posted once
        _payment_line(9999, 200_000, "F-6"),  # no such contract: held in suspense
    ]
    report = import_bank_file(session, actor, "\n".join(lines), chunk_size=4)
    statuses = [(r.line_no, r.status, r.error.code if r.error else None) for r in report]
    assert statuses == [
        (2, "posted", None),
        (3, "failed", "ledger.amount_mismatch"),
        (4, "failed", "ledger.bill_id_invalid"),
        (5, "failed", "ledger.line_malformed"),
        (6, "failed", "ledger.date_invalid"),
        (7, "posted", None),
        (8, "failed", "ledger.idempotency_conflict"),
        (9, "duplicate", None),
        (10, "suspense", None),
    ]
    balances = dict(session.execute(select(Account.contract_id, Account.balance)
                                    .where(Account.contract_id.in_((8001001, 1002)))).tuples().all())
    assert balances == {8001001: 0, 1002: 200_000}
    again = import_bank_file(session, actor, "\n".join(lines))
    assert [r.status for r in again if r.status != "failed"] == ["duplicate"] * 4
    assert session.scalar(select(func.count()).select_from(Journal)) == 2 + 3
    check_books(session)


def test_installments_are_floored_to_thousands_with_the_remainder_in_the_first():
    assert terms.split_installments(10_000_000, 20, 3) == [2_000_000, 2_668_000, 2_666_000, 2_666_000]
    assert terms.split_installments(7_000, 0, 3) == [0, 3_000, 2_000, 2_000]
    for total, percent, count in [(123_456_000, 15, 7), (1_000_000, 33, 12), (5_000, 0, 5)]:
        amounts = terms.split_installments(total, percent, count)
        assert sum(amounts) == total and all(a % 1000 == 0 for a in amounts) and amounts[1] >= amounts[-1]


def test_an_installment_plan_gives_each_installment_its_payment_id_and_its_state_follows_payments(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    issue_bill(session, actor, 8001001, 10_000_000)
    plan = terms.create_installment_plan(session, actor, 8001001, count=3, down_payment_percent=20,
                                         first_due_on=date(2025, 3, 21), today=TODAY, reason="درخواست مشترک")
    installments = session.scalars(select(Installment).where(Installment.plan_id == plan.id)
                                   .order_by(Installment.seq)).all()
    assert [i.amount for i in installments] == [2_000_000, 2_668_000, 2_666_000, 2_666_000]
    assert [i.due_on for i in installments] == [TODAY, date(2025, 3, 21), date(2025, 4, 21), date(2025, 5, 22)]
    assert all(is_payment_id(bill_id_of(8001001), i.payment_id) and payment_id_amount(i.payment_id) == i.amount
               for i in installments)
    assert terms.plan_status(session, plan, TODAY).state == "current"
    down = installments[0]
    paid = post_payment(session, actor, PaymentRequest("bank", "DP", down.amount, TODAY, bill_id=bill_id_of(8001001),
                                                       payment_id=down.payment_id))
    assert session.get(Journal, paid.journal_id).kind == JournalKind.INSTALLMENT
    assert terms.plan_status(session, plan, date(2025, 3, 25)).state == "overdue"
    assert terms.plan_status(session, plan, date(2025, 4, 25)).state == "broken"
    pay(session, actor, 8001001, 8_000_000, "REST")
    assert terms.plan_status(session, plan, date(2025, 4, 25)).state == "kept"
    with pytest.raises(DomainError) as refused:
        terms.create_installment_plan(session, actor, 8001001, count=3, down_payment_percent=20,
                                      first_due_on=date(2025, 3, 21), today=TODAY, reason="x")
    assert refused.value.code == "ledger.no_debt"
    check_books(session)


def test_grace_periods_and_the_debtor_queries(session, demo):
    actor = demo["finance"]
    for contract_id in (8001001, 1002, 1003):
        open_account(session, actor, contract_id)
        issue_bill(session, actor, contract_id, 400_000, due_on=date(2025, 2, 1))
    with pytest.raises(DomainError) as refused:
        terms.grant_grace_period(session, actor, 8001001, TODAY, TODAY, "مهلت")
    assert refused.value.code == "ledger.due_date_past"
    grace = terms.grant_grace_period(session, actor, 8001001, date(2025, 3, 20), TODAY, "مهلت تا پایان سال")
    assert grace.amount == 400_000 and grace.approver_id == actor.id
    pay(session, actor, 1003, 400_000, "C3")
    with_deadline = [(a.contract_id, due) for a, due in session.execute(debtors_with_deadline(TODAY))]
    assert with_deadline == [(8001001, date(2025, 3, 20))]
    late = [(a.contract_id, amount, oldest) for a, amount, oldest in session.execute(overdue(TODAY))]
    assert late == [(1002, 400_000, date(2025, 2, 1))]
    assert terms.grace_status(session, grace, TODAY).state == "current"
    after = date(2025, 3, 25)
    assert terms.grace_status(session, grace, after).state == "overdue"
    assert {a.contract_id for a, _, _ in session.execute(overdue(after))} == {8001001, 1002}
    pay(session, actor, 8001001, 400_000, "C1", on=date(2025, 3, 10))
    assert terms.grace_status(session, grace, after).state == "kept"


def test_each_payment_a_bank_file_posts_to_a_contract_sends_payment_posted_once(session, demo):
    actor = demo["finance"]
    for contract_id in (8001001, 1002):
        open_account(session, actor, contract_id)
        issue_bill(session, actor, contract_id, 500_000)
    lines = [_payment_line(8001001, 200_000, "S-1"), _payment_line(1002, 500_000, "S-2"),
             _payment_line(8001001, 300_000, "S-3"),
             _payment_line(9999, 1_000, "S-4"),  # no such contract: suspense, nobody to wake
             _payment_line(8001001, 200_000, "S-1")]  # the same payment again: posted once, heard once
    heard = []

    def listener(_sender, **kw):
        heard.append((kw["contract_id"], kw["amount"], kw["reference"], kw["journal_id"], tuple(kw["bill_ids"])))

    signals.payment_posted.connect(listener)
    try:
        report = import_bank_file(session, actor, "\n".join(lines))
    finally:
        signals.payment_posted.disconnect(listener)
    assert [r.status for r in report] == ["posted", "posted", "posted", "suspense", "duplicate"]
    assert heard == [(8001001, 200_000, "S-1", report[0].journal_id, ()),
                     (1002, 500_000, "S-2", report[1].journal_id, (bill_id_of(1002),)),
                     (8001001, 300_000, "S-3", report[2].journal_id, (bill_id_of(8001001),))]


def test_a_bank_file_posts_chunk_by_chunk_each_before_its_after_chunk(session, demo):
    """Each chunk is posted, then handed to `after_chunk` (the edge's commit), in order, one at a time; a
    bad line takes its place in its chunk's report."""
    actor = demo["finance"]
    open_account(session, actor)
    issue_bill(session, actor, 8001001, 10_000_000)
    lines = [_payment_line(8001001, 1_000 * (n + 1), f"K-{n}") for n in range(7)]
    lines.insert(3, "garbage line")
    posted_at_each_chunk = []

    def after_chunk():
        posted_at_each_chunk.append(session.scalar(select(func.count()).select_from(Journal)
                                                   .where(Journal.kind == JournalKind.PAYMENT)))

    report = import_bank_file(session, actor, "\n".join(lines), chunk_size=3, after_chunk=after_chunk)
    assert [r.status for r in report] == ["posted"] * 3 + ["failed"] + ["posted"] * 4
    assert posted_at_each_chunk == [3, 5, 7]
    assert session.scalar(select(Account.balance).where(Account.contract_id == 8001001)) == 10_000_000 - 28_000
    check_books(session)
