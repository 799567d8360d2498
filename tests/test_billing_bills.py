"""Issuing bills: posted to the ledger in the same transaction, never changed, cancelled and issued
again with a reason, at most one in force per contract and period."""

from datetime import date

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from billing import bills, readings
from billing.calculation import Usage, quote
from billing.demo import load_example_tariffs
from billing.models import Bill, BillStatus, FrozenRecord, MeterReading
from billing.printing import barcode_svg, interleaved_2_of_5
from core.errors import Conflict, DomainError
from core.identifiers import bill_barcode, is_payment_id, payment_id_amount
from core.regions import Region
from ledger.bills import balance_brought_forward
from ledger.models import Account, Journal, JournalKind, Posting
from ledger.payments import PaymentRequest, post_payment
from subscribers.models import Contract, ServicePoint

OPENING, CLOSING = date(2025, 6, 1), date(2025, 7, 31)  # 1404/03/11 → 1404/05/09


def electricity_contract(session, region="shiraz-1") -> Contract:
    return session.scalar(select(Contract).join(ServicePoint).join(Region, Region.id == Contract.region_id)
                          .where(ServicePoint.utility == "electricity", Region.code == region)
                          .order_by(Contract.id).limit(1))


@pytest.fixture
def billable(session, demo):
    """A demo electricity contract with the example tariffs, an opening reading and a new one."""
    load_example_tariffs(session)
    contract = electricity_contract(session)
    readings.record_reading(session, demo["billing"], contract.id, "single", OPENING, 1000, opening=True)
    readings.record_reading(session, demo["billing"], contract.id, "single", CLOSING, 1420, reader_name="قاری")
    session.flush()
    return contract


def issue(session, demo, contract, on=date(2025, 8, 2)):
    return bills.issue(session, demo["billing"], contract.id, issued_on=on)


def test_issuing_posts_the_bill_to_the_ledger_and_the_balance_grows_by_its_charges(session, demo, billable):
    before = balance_brought_forward(session, billable.id)
    bill = issue(session, demo, billable)
    assert (bill.period, bill.period_start, bill.period_end) == ("1404/05", date(2025, 6, 2), CLOSING)
    assert bill.usage["registers"] == {"total": 420} and bill.usage["climate_zone"] == "tropical4"
    assert bill.total == bill.charges + bill.vat + bill.levies > 0
    assert sum(line["amount"] for line in bill.quote["lines"]) == bill.total - bill.rounding
    assert bill.payable % 1000 == 0 and bill.payable == before + bill.total - bill.rounding
    journal = session.get(Journal, bill.journal_id)
    assert journal.kind == JournalKind.BILL and journal.contract_id == billable.id
    assert session.scalar(select(func.sum(Posting.amount)).where(Posting.journal_id == journal.id)) == 0
    assert balance_brought_forward(session, billable.id) == bill.payable
    assert is_payment_id(bill.bill_id, bill.payment_id) and payment_id_amount(bill.payment_id) == bill.payable
    assert bill.due_on == date(2025, 8, 12)
    assert {r.bill_id for r in session.scalars(select(MeterReading).where(
        MeterReading.contract_id == billable.id, MeterReading.opening.is_(False)))} == {bill.id}


def test_the_bill_matches_a_quote_of_the_same_usage_under_the_published_version(session, demo, billable):
    bill = issue(session, demo, billable)
    from billing.models import TariffVersion

    version = session.get(TariffVersion, bill.version_ids[0])
    expected = quote([(version.effective_from, version.data)], Usage(
        start=date(2025, 6, 2), end=CLOSING, registers={"total": 420}, climate_zone="tropical4",
        capacity_class="1phase_25A", brought_forward=0))
    assert bill.total == expected.total and bill.payable == expected.payable
    assert [line["code"] for line in bill.quote["lines"]] == [line.code for line in expected.lines]


def test_the_next_bill_brings_the_unpaid_balance_forward(session, demo, billable):
    first = issue(session, demo, billable)
    post_payment(session, demo["finance"], PaymentRequest("bank", "B-1", 100_000, date(2025, 8, 5),
                                                          contract_id=billable.id))
    readings.record_reading(session, demo["billing"], billable.id, "single", date(2025, 9, 30), 1800)
    second = issue(session, demo, billable, on=date(2025, 10, 1))
    assert second.brought_forward == first.payable - 100_000
    assert second.period_start == date(2025, 8, 1) and second.period == "1404/07"
    assert balance_brought_forward(session, billable.id) == second.payable


def test_an_issued_bill_cannot_be_changed_by_code_nor_by_sql(session, demo, billable):
    bill = issue(session, demo, billable)
    with pytest.raises(FrozenRecord):
        with session.begin_nested():
            bill.payable += 1000
            session.flush()
    session.expire(bill)
    with pytest.raises(FrozenRecord):
        with session.begin_nested():
            session.delete(bill)
            session.flush()
    session.expire_all()
    with pytest.raises(DBAPIError, match="only its cancellation"):
        with session.begin_nested():
            session.execute(update(Bill).where(Bill.contract_id == billable.id).values(total=1))
    with pytest.raises(DBAPIError, match="cannot be deleted"):
        with session.begin_nested():
            session.execute(text("DELETE FROM billing_bills WHERE contract_id = :c"), {"c": billable.id})


def test_a_contract_is_billed_once_per_period(session, demo, billable):
    issue(session, demo, billable)
    readings.record_reading(session, demo["billing"], billable.id, "single", date(2025, 8, 10), 1450)
    with pytest.raises(Conflict) as raised:  # 1404/05/19: the same Jalali month
        issue(session, demo, billable, on=date(2025, 8, 11))
    assert raised.value.code == "billing.already_billed"
    # and the database says so too, whoever writes the row
    first = session.scalar(select(Bill).where(Bill.contract_id == billable.id))
    columns = {c.key: getattr(first, c.key) for c in Bill.__table__.columns if c.key not in ("id", "journal_id")}
    with pytest.raises(IntegrityError, match="uq_billing_bills_contract_period"):
        with session.begin_nested():
            session.execute(Bill.__table__.insert().values(**{**columns, "sequence": 9}))


def test_cancel_and_rebill_reverses_the_journal_and_issues_a_corrected_bill(session, demo, billable):
    wrong = issue(session, demo, billable)
    account_before = balance_brought_forward(session, billable.id)
    assert account_before == wrong.payable
    new = bills.cancel_and_rebill(session, demo["billing"], wrong.id, "خطای قرائت", on=date(2025, 8, 5),
                                  corrections={"single": 1300})
    session.refresh(wrong)
    assert wrong.status == BillStatus.CANCELLED and wrong.cancel_reason == "خطای قرائت"
    reversal = session.get(Journal, wrong.reversal_journal_id)
    assert reversal.kind == JournalKind.REVERSAL and reversal.reverses_id == wrong.journal_id
    assert new.replaces_id == wrong.id and new.period == wrong.period and new.sequence == 2
    assert new.usage["registers"] == {"total": 300} and new.total < wrong.total
    assert new.brought_forward == 0 and balance_brought_forward(session, billable.id) == new.payable
    assert new.journal_id != wrong.journal_id
    with pytest.raises(Conflict):
        bills.cancel_and_rebill(session, demo["billing"], wrong.id, "دوباره", on=date(2025, 8, 6))
    with pytest.raises(DomainError) as raised:
        bills.cancel_and_rebill(session, demo["billing"], new.id, "", on=date(2025, 8, 6))
    assert raised.value.code == "billing.reason_required"


def test_a_flagged_reading_is_billed_only_after_its_override(session, demo):
    load_example_tariffs(session)
    contract = electricity_contract(session)
    readings.record_reading(session, demo["billing"], contract.id, "single", OPENING, 5000, opening=True)
    lower = readings.record_reading(session, demo["billing"], contract.id, "single", CLOSING, 4000)
    assert lower.flags == ["negative"]
    with pytest.raises(DomainError) as raised:
        issue(session, demo, contract)
    assert raised.value.code == "billing.reading_flagged"
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.contract_id == contract.id)) == 0
    with pytest.raises(DomainError):
        readings.override(session, demo["billing"], lower.id, " ")
    readings.override(session, demo["billing"], lower.id, "کنتور تعویض شده و قرائت درست است")
    # a negative consumption bills nothing for energy, but the reading is accepted
    bill = issue(session, demo, contract)
    assert bill.usage["registers"] == {"total": 0}


def test_issuing_is_refused_without_a_new_reading_or_a_ledger_account(session, demo, billable):
    issue(session, demo, billable)
    with pytest.raises(DomainError) as raised:
        issue(session, demo, billable)
    assert raised.value.code == "billing.no_new_reading"
    other = electricity_contract(session, "shiraz-2")
    session.execute(update(Account).where(Account.contract_id == other.id).values(contract_id=None))
    with pytest.raises(DomainError) as raised:
        issue(session, demo, other)
    assert raised.value.code == "ledger.no_account"


def _decode_i2of5(svg: str) -> str:
    """Read the bars back: widths of bars and spaces, then pairs of digits (test-side decoder)."""
    import re

    bars = [(float(x), float(w)) for x, w in re.findall(r'<rect x="([\d.]+)" y="0" width="([\d.]+)"', svg)]
    runs, position = [], bars[0][0]
    for x, width in bars:
        if x > position + 1e-6:
            runs.append(x - position)  # the space before this bar
        runs.append(width)
        position = x + width
    narrow = min(runs)
    modules = ["W" if run > narrow * 1.5 else "N" for run in runs]
    assert modules[:4] == ["N"] * 4 and modules[-3:] == ["W", "N", "N"]
    body = modules[4:-3]
    patterns = {"NNWWN": "0", "WNNNW": "1", "NWNNW": "2", "WWNNN": "3", "NNWNW": "4", "WNWNN": "5",
                "NWWNN": "6", "NNNWW": "7", "WNNWN": "8", "NWNWN": "9"}
    digits = ""
    for i in range(0, len(body), 10):
        chunk = body[i:i + 10]
        digits += patterns["".join(chunk[0::2])] + patterns["".join(chunk[1::2])]
    return digits


def test_the_printed_barcode_is_interleaved_2_of_5_of_the_26_digits(session, demo, billable):
    bill = issue(session, demo, billable)
    digits = bill_barcode(bill.bill_id, bill.payment_id)
    assert len(digits) == 26
    svg = barcode_svg(digits)
    assert svg.startswith("<svg") and _decode_i2of5(svg) == digits
    with pytest.raises(ValueError):
        interleaved_2_of_5("123")  # an odd number of digits cannot be interleaved


def test_a_new_version_prices_the_days_after_it_and_leaves_issued_bills_as_they_were(session, demo, billable):
    from billing import tariffs
    from billing.models import TariffVersion

    first = issue(session, demo, billable)
    snapshot = (first.total, first.payable, list(first.quote["lines"]))
    old = session.get(TariffVersion, first.version_ids[0])
    old_data = dict(old.data)
    draft = tariffs.create_draft(session, demo["billing"], old.tariff_type_id, old.code, date(2025, 9, 1))
    doubled = [{**block, "rate": block["rate"] * 2} for block in draft.data["blocks"]]
    doubled_variants = [{**v, "blocks": [{**b, "rate": b["rate"] * 2} for b in v["blocks"]]}
                        for v in draft.data.get("variants", [])]
    tariffs.save_draft(session, demo["billing"], draft.id, effective_from=date(2025, 9, 1), name="",
                       data={**draft.data, "blocks": doubled, "variants": doubled_variants})
    tariffs.publish(session, demo["billing"], draft.id)
    readings.record_reading(session, demo["billing"], billable.id, "single", date(2025, 9, 30), 1800)
    second = issue(session, demo, billable, on=date(2025, 10, 1))
    assert second.version_ids == [old.id, draft.id]
    assert len({line["segment"] for line in second.quote["lines"] if line["segment"]}) >= 2
    session.expire_all()
    again = session.get(Bill, first.id)
    assert (again.total, again.payable, again.quote["lines"]) == snapshot
    assert session.get(TariffVersion, old.id).data == old_data


def test_a_contract_in_credit_gets_a_bill_with_nothing_to_pay_and_no_payment_id(session, demo, billable, client):
    from ledger.adjustments import adjust

    adjust(session, demo["finance"], billable.id, -5_000_000, "بستانکاری از اصلاح قبض قبلی", date(2025, 7, 1),
           approval_limit=10**12)
    bill = issue(session, demo, billable)
    assert bill.brought_forward == -5_000_000 and bill.payable == 0 and bill.rounding == 0
    assert bill.payment_id == "" and balance_brought_forward(session, billable.id) == -5_000_000 + bill.total
    from tests.helpers import login

    login(client, "billing")
    page = client.get(f"/billing/bills/{bill.id}/print").get_data(as_text=True)
    assert "<svg" not in page and "مبلغی برای پرداخت ندارد" in page


def test_a_meter_replaced_in_the_period_bills_what_both_meters_measured(session, demo, billable, client):
    from subscribers import meter_ops
    from subscribers.models import Meter

    old = readings.installed_meter(session, billable).meter
    new = meter_ops.register_meter(session, demo["technician"], {
        "serial": "NEW-0001", "utility": "electricity", "kind": "digital", "region_id": old.region_id})
    # the fixture's closing reading (31 Tir … 9 Mordad) is dropped: the meter is changed before it
    session.execute(MeterReading.__table__.delete().where(MeterReading.contract_id == billable.id,
                                                          MeterReading.read_on == CLOSING))
    meter_ops.replace_meter(session, demo["technician"], billable.service_point_id, new.id, date(2025, 7, 1),
                            final_readings={"single": 1250}, initial_readings={"single": 10})
    readings.record_reading(session, demo["billing"], billable.id, "single", CLOSING, 180)
    bill = issue(session, demo, billable)
    assert bill.period_start == date(2025, 6, 2) and bill.usage["registers"] == {"total": 250 + 170}
    assert bill.readings["single"]["replaced_meter"] == 250
    assert session.get(Meter, new.id).serial == "NEW-0001"
    from tests.helpers import login

    login(client, "billing")
    assert "روی کنتور تعویض‌شده" in client.get(f"/billing/bills/{bill.id}/print").get_data(as_text=True)
