"""The settlement bill of a change of owner (billing.settlement): the final reading recorded and billed at
once — closing a bill of the same month again at the final reading, every register of a time-of-use meter,
a flagged reading only when confirmed on site, nothing left behind by a refusal."""

from datetime import date

import pytest
from sqlalchemy import func, select

from billing import bills, readings
from billing.models import Bill, BillStatus, MeterReading
from billing.settlement import settlement_bill
from core.errors import DomainError
from engine.operations.ledger_ops import balance_of
from subscribers import meter_ops
from tests.test_billing_bills import CLOSING, billable, electricity_contract  # noqa: F401  (fixture)

FINAL_ON = date(2025, 8, 10)  # 1404/05/19: the same Jalali month as the fixture's closing reading


def issued(session, contract) -> list[Bill]:
    return list(session.scalars(select(Bill).where(Bill.contract_id == contract.id,
                                                   Bill.status == BillStatus.ISSUED).order_by(Bill.id)))


def test_a_bill_of_the_same_month_is_issued_again_to_close_at_the_final_reading(session, demo, billable):  # noqa: F811
    regular = bills.issue(session, demo["billing"], billable.id, issued_on=date(2025, 8, 2))
    assert regular.period == "1404/05" and regular.usage["registers"] == {"total": 420}
    bill = settlement_bill(session, demo["inspector"], billable.id, {"single": 1500}, FINAL_ON,
                           issued_on=date(2025, 8, 11))
    assert [b.id for b in issued(session, billable)] == [bill.id]  # one bill in force for the period
    assert session.get(Bill, regular.id).status == BillStatus.CANCELLED and bill.replaces_id == regular.id
    assert (bill.period, bill.period_start, bill.period_end) == ("1404/05", regular.period_start, FINAL_ON)
    assert bill.usage["registers"] == {"total": 500} and bill.readings["single"]["to"] == 1500
    assert balance_of(session, billable.id) == bill.payable  # the first bill's journal was reversed


def test_without_a_bill_of_the_month_the_settlement_is_the_next_bill(session, demo, billable):  # noqa: F811
    bill = settlement_bill(session, demo["inspector"], billable.id, {"single": 1500}, FINAL_ON,
                           issued_on=date(2025, 8, 11))
    assert bill.usage["registers"] == {"total": 500} and bill.period_end == FINAL_ON and bill.replaces_id is None
    assert balance_of(session, billable.id) == bill.payable > 0


def test_every_register_of_a_time_of_use_meter_is_read(session, demo):
    contract = electricity_contract(session)
    meter = meter_ops.register_meter(session, demo["technician"], {
        "serial": "TOU-0001", "utility": "electricity", "kind": "digital", "register_set": "tou",
        "region_id": contract.region_id})
    meter_ops.replace_meter(session, demo["technician"], contract.service_point_id, meter.id, date(2025, 5, 20),
                            final_readings={"single": 1000}, initial_readings={"peak": 0, "mid": 0, "offpeak": 0})
    for register, value in {"peak": 10, "mid": 20, "offpeak": 30}.items():  # taken over, billed before
        readings.record_reading(session, demo["billing"], contract.id, register, date(2025, 6, 1), value, opening=True)
    with pytest.raises(DomainError) as refused:
        settlement_bill(session, demo["inspector"], contract.id, {"single": 900}, FINAL_ON,
                        issued_on=date(2025, 8, 11))
    assert refused.value.code == "billing.final_reading_missing"
    assert refused.value.params["registers"] == "peak, mid, offpeak"
    bill = settlement_bill(session, demo["inspector"], contract.id, {"single": 900, "peak": 110, "mid": 270,
                                                                     "offpeak": 330}, FINAL_ON,
                           issued_on=date(2025, 8, 11))
    assert bill.usage["registers"] == {"peak": 100, "mid": 250, "offpeak": 300}


def test_a_flagged_final_reading_passes_only_when_confirmed_and_a_refusal_leaves_nothing(session, demo,
                                                                                          billable):  # noqa: F811
    def counts():
        return (session.scalar(select(func.count()).select_from(MeterReading)
                               .where(MeterReading.contract_id == billable.id)),
                len(issued(session, billable)), balance_of(session, billable.id))

    before = counts()
    with pytest.raises(DomainError) as refused:  # below the last reading (1420)
        settlement_bill(session, demo["inspector"], billable.id, {"single": 1400}, FINAL_ON,
                        issued_on=date(2025, 8, 11))
    assert refused.value.code == "billing.final_reading_flagged" and "negative" in refused.value.params["flags"]
    assert counts() == before
    with pytest.raises(DomainError) as twice:  # a reading on a day a bill already covers
        bills.issue(session, demo["billing"], billable.id, issued_on=date(2025, 8, 2))
        settlement_bill(session, demo["inspector"], billable.id, {"single": 1500}, CLOSING,
                        issued_on=date(2025, 8, 11))
    assert twice.value.code == "billing.reading_exists"
    bill = settlement_bill(session, demo["inspector"], billable.id, {"single": 1400}, FINAL_ON,
                           issued_on=date(2025, 8, 11), confirmed="کنتور در محل دوباره خوانده شد")
    reading = session.scalar(select(MeterReading).where(MeterReading.contract_id == billable.id,
                                                        MeterReading.read_on == FINAL_ON))
    assert reading.override_reason == "کنتور در محل دوباره خوانده شد" and bill.period_end == FINAL_ON
    assert readings.readings_of(session, billable.id)[0].id == reading.id
