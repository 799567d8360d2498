"""The ledger: double entry, payments and their idempotency, bills, reversals, adjustments."""

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.errors import Conflict, DomainError
from core.identifiers import make_bill_id, make_payment_id
from core.regions import Region
from ledger import adjustments, bills, signals
from ledger.accounts import open_contract_account
from ledger.models import Account, Allocation, Charge, Journal, JournalKind, Posting
from ledger.payments import DUPLICATE, POSTED, PaymentRequest, post_payment
from ledger.queries import aging, posted_balance, standing, statement
from ledger.reversal import reverse

TODAY = date(2025, 3, 1)


def region_id(session, code="shiraz-1") -> int:
    return session.scalar(select(Region.id).where(Region.code == code))


def bill_id_of(contract_id: int) -> str:
    return make_bill_id(contract_id, 123, 2)


def open_account(session, actor, contract_id=8001001, region="shiraz-1") -> Account:
    return open_contract_account(session, actor, contract_id, region_id(session, region), bill_id_of(contract_id))


def issue_bill(session, actor, contract_id, energy, due_on=date(2025, 3, 15), period="1403/12", vat=0):
    return bills.post_bill(session, actor, contract_id, bill_id=bill_id_of(contract_id), period=period,
                           issued_on=TODAY, due_on=due_on, lines={"energy": energy}, vat=vat)


def pay(session, actor, contract_id, amount, reference, channel="internet", on=TODAY):
    return post_payment(session, actor, PaymentRequest(channel, reference, amount, on, contract_id=contract_id))


def check_books(session) -> None:
    """Every journal balances; the contract accounts' cached balances equal their postings; open
    items total max(balance, 0)."""
    unbalanced = session.execute(select(Posting.journal_id).group_by(Posting.journal_id)
                                 .having(func.sum(Posting.amount) != 0)).all()
    assert unbalanced == []
    assert session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))) == 0
    for account in session.scalars(select(Account).where(Account.contract_id.is_not(None))):
        session.refresh(account)
        assert account.balance == posted_balance(session, account.id)
        applied = select(func.coalesce(func.sum(Allocation.amount), 0)).where(Allocation.charge_id == Charge.id)
        per_charge = session.execute(select(Charge.amount, applied.scalar_subquery())
                                     .where(Charge.account_id == account.id)).all()
        assert all(0 <= applied <= amount for amount, applied in per_charge)
        assert sum(amount - applied for amount, applied in per_charge) == max(account.balance, 0)


def test_a_payment_is_a_balanced_journal_and_moves_the_cached_balance(session, demo):
    actor = demo["finance"]
    account = open_account(session, actor)
    issue_bill(session, actor, 8001001, 450_000)
    result = pay(session, actor, 8001001, 200_000, "R-1")
    assert result.status == POSTED and result.contract_id == 8001001
    postings = session.scalars(select(Posting).where(Posting.journal_id == result.journal_id)).all()
    assert sorted(p.amount for p in postings) == [-200_000, 200_000]
    session.refresh(account)
    assert account.balance == 250_000 and standing(account.balance) == "debtor"
    check_books(session)


def test_opening_an_account_twice_returns_the_same_account(session, demo):
    first = open_account(session, demo["finance"])
    assert open_account(session, demo["finance"]).id == first.id
    with pytest.raises(Conflict):
        open_account(session, demo["finance"], region="shiraz-2")


def test_the_same_reference_posts_once_and_a_different_payment_under_it_is_a_conflict(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    first = pay(session, actor, 8001001, 100_000, "REF-9")
    again = pay(session, actor, 8001001, 100_000, "REF-9")
    assert again.status == DUPLICATE and again.journal_id == first.journal_id
    with pytest.raises(DomainError) as refused:
        pay(session, actor, 8001001, 120_000, "REF-9")
    assert refused.value.code == "ledger.idempotency_conflict"
    assert session.scalar(select(func.count()).select_from(Journal)) == 1
    # The same reference from another channel is another payment.
    assert pay(session, actor, 8001001, 120_000, "REF-9", channel="pos").status == POSTED


def test_paying_by_bill_and_payment_id_checks_both_digits_and_the_amount(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    bill_id = bill_id_of(8001001)
    payment_id = make_payment_id(450_000, 1403, 12, bill_id)
    issue_bill(session, actor, 8001001, 450_000)

    def attempt(bill, payment, amount, reference):
        return post_payment(session, actor, PaymentRequest("bank", reference, amount, TODAY, bill_id=bill,
                                                           payment_id=payment))

    for bill, payment, amount, code in [
        (bill_id[:-1] + str((int(bill_id[-1]) + 1) % 10), payment_id, 450_000, "ledger.bill_id_invalid"),
        (bill_id, payment_id[:-1] + str((int(payment_id[-1]) + 1) % 10), 450_000, "ledger.payment_id_invalid"),
        (bill_id, payment_id, 400_000, "ledger.amount_mismatch"),
    ]:
        with pytest.raises(DomainError) as refused:
            attempt(bill, payment, amount, "X")
        assert refused.value.code == code
    heard = []

    def listener(sender, **kw):
        heard.append(kw)

    signals.payment_posted.connect(listener)
    try:
        result = attempt(bill_id, payment_id, 450_000, "B-1")
    finally:
        signals.payment_posted.disconnect(listener)
    assert result.status == POSTED and result.settled_bill_ids == (bill_id,)
    [event] = heard
    assert event.pop("session") is session and event.pop("actor") is actor  # the listener works in this transaction
    reads = event.pop("reads")  # what the receivers asked the posting statement to read: nothing waits, none wanted
    assert set(reads) == set(signals.payment_posted_reads) and not any(reads.values())
    assert event == {"contract_id": 8001001, "amount": 450_000, "bill_ids": (bill_id,), "reference": "B-1",
                     "journal_id": result.journal_id}


def test_payments_settle_the_oldest_bill_first_and_an_overpayment_is_credit_for_the_next(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    old = issue_bill(session, actor, 8001001, 300_000, due_on=date(2025, 2, 1), period="1403/11")
    new = issue_bill(session, actor, 8001001, 200_000, due_on=date(2025, 3, 1), period="1403/12")
    first = pay(session, actor, 8001001, 350_000, "P1")
    assert first.settled_bill_ids == (bill_id_of(8001001),)
    applied = dict(session.execute(select(Charge.journal_id, func.sum(Allocation.amount))
                                   .join(Allocation, Allocation.charge_id == Charge.id)
                                   .group_by(Charge.journal_id)).tuples().all())
    assert applied == {old.journal_id: 300_000, new.journal_id: 50_000}
    pay(session, actor, 8001001, 250_000, "P2")  # 150,000 paid, 100,000 over
    assert bills.balance_brought_forward(session, 8001001) == -100_000
    third = issue_bill(session, actor, 8001001, 180_500, period="1404/01")
    # The credit pays part of the new bill; the payable is floored to 1,000 rials.
    assert third.payable == 80_000 and third.rounding == 500 and third.charged == 180_000
    check_books(session)


def test_a_bill_posts_its_lines_vat_levies_and_rounding_as_one_journal(session, demo):
    actor = demo["billing"]
    open_account(session, actor)
    posted = bills.post_bill(session, actor, 8001001, bill_id=bill_id_of(8001001), period="1403/12", issued_on=TODAY,
                             due_on=date(2025, 3, 15), lines={"energy": 400_000, "demand": 51_234}, vat=45_123,
                             levies={"tv": 2_000})
    assert (posted.charged, posted.rounding, posted.payable) == (498_000, 357, 498_000)
    lines = dict(session.execute(select(Posting.line, Posting.amount)
                                 .where(Posting.journal_id == posted.journal_id)).tuples().all())
    assert lines == {"energy": -400_000, "demand": -51_234, "vat": -45_123, "levy:tv": -2_000, "rounding": 357,
                     "bill": 498_000}
    again = bills.post_bill(session, actor, 8001001, bill_id=bill_id_of(8001001), period="1403/12", issued_on=TODAY,
                            due_on=date(2025, 3, 15), lines={"energy": 400_000, "demand": 51_234}, vat=45_123,
                            levies={"tv": 2_000})
    assert again.journal_id == posted.journal_id and not again.new and again.charged == 498_000
    with pytest.raises(DomainError) as refused:
        bills.post_bill(session, actor, 8001001, bill_id=bill_id_of(8001001), period="1404/01", issued_on=TODAY,
                        due_on=date(2025, 4, 15), lines={"energy": 100_000},
                        payment_id=make_payment_id(100_000, 1404, 1, bill_id_of(8001001)))
    assert refused.value.code == "ledger.bill_payment_id_differs"  # the payable is 598,000 with the debt
    check_books(session)


def test_a_reversal_is_the_exact_negation_and_happens_once(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    issue_bill(session, actor, 8001001, 300_000)
    payment = pay(session, actor, 8001001, 300_000, "P1")
    undone = reverse(session, actor, payment.journal_id, "بانک برگشت زد", TODAY)
    original = dict(session.execute(select(Posting.account_id, Posting.amount)
                                    .where(Posting.journal_id == payment.journal_id)).tuples().all())
    negated = dict(session.execute(select(Posting.account_id, Posting.amount)
                                   .where(Posting.journal_id == undone.journal_id)).tuples().all())
    assert negated == {account: -amount for account, amount in original.items()}
    assert bills.balance_brought_forward(session, 8001001) == 300_000
    with pytest.raises(Conflict):
        reverse(session, actor, payment.journal_id, "again", TODAY)
    with pytest.raises(DomainError):
        reverse(session, actor, undone.journal_id, "undo the undo", TODAY)
    check_books(session)


def test_adjustments_refunds_and_write_offs_need_a_reason_and_approval_above_the_limit(session, demo):
    finance, admin = demo["finance"], demo["admin"]
    open_account(session, finance)
    with pytest.raises(DomainError) as refused:
        adjustments.adjust(session, finance, 8001001, 10_000, "  ", TODAY)
    assert refused.value.code == "ledger.reason_required"
    with pytest.raises(DomainError) as refused:
        adjustments.adjust(session, finance, 8001001, 60_000_000, "خطای قرائت", TODAY)
    assert refused.value.code == "ledger.approval_required"
    big = adjustments.adjust(session, admin, 8001001, 60_000_000, "خطای قرائت", TODAY)
    assert session.get(Journal, big.journal_id).approver_id == admin.id
    adjustments.adjust(session, finance, 8001001, -1_000_000, "تخفیف", TODAY)
    with pytest.raises(DomainError) as refused:
        adjustments.write_off(session, finance, 8001001, 59_000_001, "سوخت", TODAY, approval_limit=10**12)
    assert refused.value.code == "ledger.write_off_exceeds_debt"
    adjustments.write_off(session, finance, 8001001, 9_000_000, "سوخت", TODAY, approval_limit=10**12)
    pay(session, finance, 8001001, 50_500_000, "P")
    with pytest.raises(DomainError) as refused:
        adjustments.refund(session, finance, 8001001, 600_000, "bank", "بازپرداخت", TODAY)
    assert refused.value.code == "ledger.refund_exceeds_credit"
    adjustments.refund(session, finance, 8001001, 500_000, "bank", "بازپرداخت", TODAY)
    assert bills.balance_brought_forward(session, 8001001) == 0
    kinds = set(session.scalars(select(Journal.kind)))
    assert kinds == {JournalKind.ADJUSTMENT, JournalKind.WRITE_OFF, JournalKind.PAYMENT, JournalKind.REFUND}
    check_books(session)


def test_a_fee_is_an_open_item_settled_like_a_bill(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    adjustments.post_fee(session, actor, 8001001, 150_000, "reconnection", "هزینه وصل مجدد", date(2025, 3, 5))
    pay(session, actor, 8001001, 150_000, "F1")
    assert bills.balance_brought_forward(session, 8001001) == 0
    check_books(session)


def test_statement_has_a_running_balance_and_aging_buckets_open_debt(session, demo):
    actor = demo["finance"]
    account = open_account(session, actor)
    issue_bill(session, actor, 8001001, 100_000, due_on=date(2024, 11, 1), period="1403/08")
    issue_bill(session, actor, 8001001, 200_000, due_on=date(2025, 2, 10), period="1403/11")
    issue_bill(session, actor, 8001001, 300_000, due_on=date(2025, 4, 1), period="1404/01")
    pay(session, actor, 8001001, 150_000, "S1")
    rows = statement(session, account.id)
    assert [r.balance for r in rows] == [100_000, 300_000, 600_000, 450_000]
    assert [(r.debit, r.credit) for r in rows][-1] == (0, 150_000)
    assert aging(session, account.id, TODAY) == {"not_due": 300_000, "1_30": 150_000, "31_60": 0, "61_90": 0,
                                                 "over_90": 0}
    later = aging(session, account.id, date(2025, 5, 20))
    assert (later["over_90"], later["31_60"], later["not_due"]) == (150_000, 300_000, 0)


def test_the_database_refuses_to_change_or_remove_a_posting(session, demo):
    actor = demo["finance"]
    open_account(session, actor)
    issue_bill(session, actor, 8001001, 100_000)
    pay(session, actor, 8001001, 100_000, "IMM")
    for statement_ in ("UPDATE ledger_postings SET amount = amount + 1", "DELETE FROM ledger_postings",
                       "UPDATE ledger_journals SET reason = 'x'", "DELETE FROM ledger_allocations"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement_))
    assert session.scalar(select(func.count()).select_from(Posting)) == 4


def _post_raw(session, journal_id, rows):
    for account_id, amount in rows:
        session.execute(text("INSERT INTO ledger_postings (journal_id, account_id, amount, line) "
                             "VALUES (:j, :a, :m, 'test')"), {"j": journal_id, "a": account_id, "m": amount})


def test_the_database_refuses_a_journal_that_does_not_balance(session, demo):
    """Checked by the deferred trigger (here made to fire now with SET CONSTRAINTS … IMMEDIATE, as a
    commit would): once per journal, and again for a posting added after the check."""
    accounts = [a.id for a in session.scalars(select(Account).where(Account.contract_id.is_not(None))
                                              .order_by(Account.id).limit(3))]

    def journal():
        row = Journal(kind="adjustment", reason="آزمون", effective_on=date(2026, 11, 1))
        session.add(row)
        session.flush()
        return row.id

    balanced = journal()
    _post_raw(session, balanced, [(accounts[0], 700), (accounts[1], -300), (accounts[2], -400)])
    session.execute(text("SET CONSTRAINTS ledger_postings_balance IMMEDIATE"))  # checked: fine
    with pytest.raises(DBAPIError, match="does not balance"):
        with session.begin_nested():  # a posting added later to the journal just checked is summed again
            _post_raw(session, balanced, [(accounts[0], 5)])
    unbalanced = journal()
    with pytest.raises(DBAPIError, match=f"journal {unbalanced} does not balance"):
        with session.begin_nested():
            _post_raw(session, unbalanced, [(accounts[0], 1000), (accounts[1], -999)])
