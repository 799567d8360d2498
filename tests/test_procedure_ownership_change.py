"""Ownership change (تغییر مالکیت) through the engine on PostgreSQL: the final reading billed as the old
owner's settlement bill, settle first, transfer the debt with consent (within and above the approval limit),
refusals and the settlement deadline; the contracts, the bills, the readings and both ledger accounts
afterwards."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from billing import bills
from billing.models import Bill, BillStatus, MeterReading
from billing.readings import installed_meter, record_reading
from core.identifiers import make_payment_id
from core.jalali import TEHRAN
from engine import runtime
from engine.operations.ledger_ops import balance_of
from ledger import adjustments
from ledger.payments import PaymentRequest, post_payment
from ledger.queries import account_of
from subscribers.models import Contract, Subscriber
from tests.engine_support import region
from tests.test_procedure_helpers import (
    deploy_procedures,
    deploy_with_short_timers,
    fire_due_timers,
    open_task,
    timeline_notes,
    work,
)

USE = 150  # meter units since the last reading, each register


def last_reading(session, contract) -> MeterReading:
    return session.scalar(select(MeterReading).where(MeterReading.contract_id == contract.id)
                          .order_by(MeterReading.read_on.desc(), MeterReading.id.desc()).limit(1))


def final_reading(session, contract, use=USE, **extra) -> dict:
    """The final reading form as the inspector fills it yesterday: the last reading of each register (or
    the meter's initial reading) plus `use`."""
    installed = installed_meter(session, contract)
    initial = installed.installation.initial_readings or {}
    last = {r.register: r.value for r in session.scalars(select(MeterReading).where(
        MeterReading.contract_id == contract.id).order_by(MeterReading.read_on, MeterReading.id))}
    values = {register: last.get(register, int(initial.get(register, initial.get("single", 0)) or 0)) + use
              for register in installed.registers}
    data = {"final_reading": values.get("single", sum(values.values())), "final_peak": values.get("peak"),
            "final_mid": values.get("mid"), "final_offpeak": values.get("offpeak"),
            "read_on": (datetime.now(TEHRAN).date() - timedelta(days=1)).isoformat(),
            "reading_confirmed": False, "reading_note": ""}
    return {**data, **extra}


def settlement_bill(session, contract) -> Bill:
    return session.scalar(select(Bill).where(Bill.contract_id == contract.id, Bill.status == BillStatus.ISSUED)
                          .order_by(Bill.id.desc()).limit(1))


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    shiraz = region(session, "shiraz-1")
    contract = session.scalar(select(Contract).where(Contract.region_id == shiraz.id).order_by(Contract.id))
    buyer = session.scalar(select(Subscriber).where(Subscriber.id != contract.subscriber_id,
                                                    Subscriber.region_id == shiraz.id).order_by(Subscriber.id))
    # the readings taken over when the contract came to Madam, two months ago (as the demo's are)
    for register in installed_meter(session, contract).registers:
        record_reading(session, None, contract.id, register, datetime.now(TEHRAN).date() - timedelta(days=65),
                       4000, opening=True)
    reading = final_reading(session, contract)
    return {**demo, "contract": contract, "buyer": buyer, "reading": reading,
            "read_on": date.fromisoformat(reading["read_on"])}


def start(session, setup, new_owner=None):
    instance = runtime.start_instance(session, setup["clerk"], "ownership_change", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request",
         {"contract_id": setup["contract"].id, "new_owner_id": (new_owner or setup["buyer"]).id,
          "documents": ["deed", "national_card"], "description": ""})
    return instance


def read(session, setup, instance):
    """The inspector's final reading: the settlement bill is issued at once; returns the debt after it."""
    contract = setup["contract"]
    before = balance_of(session, contract.id)
    work(session, setup["inspector"], instance, "final_reading", setup["reading"])
    bill = settlement_bill(session, contract)
    assert bill is not None and bill.period_end == setup["read_on"]
    closing = {register: r["to"] for register, r in bill.readings.items()}
    assert all(value == last + USE for value, last in zip(
        closing.values(), (setup["reading"]["final_reading"] - USE,) if "single" in closing else
        (setup["reading"]["final_peak"] - USE, setup["reading"]["final_mid"] - USE,
         setup["reading"]["final_offpeak"] - USE), strict=True))
    assert bill.total > 0 and balance_of(session, contract.id) == before + bill.total - bill.rounding
    return balance_of(session, contract.id)


def decided(session, setup, choice, consent=False, note=""):
    instance = start(session, setup)
    setup["debt"] = read(session, setup, instance)
    work(session, setup["finance"], instance, "debt_decision",
         {"debt_choice": choice, "new_owner_consent": consent, "decision_note": note})
    return instance


def successor_of(session, contract) -> Contract:
    return session.scalar(select(Contract).where(Contract.predecessor_id == contract.id))


def test_the_old_owner_settles_then_the_contract_passes_to_the_new_owner(session, setup):
    old = setup["contract"]
    instance = decided(session, setup, "settle")
    assert instance.status == "waiting"
    post_payment(session, None, PaymentRequest(channel="bank", reference="OC-1", amount=setup["debt"],
                                               paid_on=setup["read_on"], contract_id=old.id))
    assert instance.status == "completed"
    session.refresh(old)
    new = successor_of(session, old)
    assert (old.status, old.close_reason, old.end_date) == ("closed", "transferred", setup["read_on"])
    assert (new.subscriber_id, new.status, new.subscription_no, new.revision) == (
        setup["buyer"].id, "active", old.subscription_no, old.revision + 1)
    assert balance_of(session, old.id) == 0 and balance_of(session, new.id) == 0
    assert instance.contract_id == new.id
    assert f"انجام شد: اشتراک {old.subscription_no} به نام مالک جدید شد" in timeline_notes(session, instance)


def test_the_debt_moves_to_the_new_owner_with_consent(session, setup):
    old = setup["contract"]
    instance = decided(session, setup, "transfer", consent=True)
    assert instance.status == "completed"
    new = successor_of(session, old)
    debt = setup["debt"]
    assert balance_of(session, old.id) == 0 and balance_of(session, new.id) == debt
    # the bill ID moves to the new owner's account: a bank paying by bill ID now reaches the new owner
    assert account_of(session, new.id).bill_id == new.bill_id == old.bill_id
    assert account_of(session, old.id).bill_id is None
    post_payment(session, None, PaymentRequest(channel="bank", reference="OC-BILL-ID-1", amount=debt,
                                               paid_on=setup["read_on"], bill_id=old.bill_id,
                                               payment_id=make_payment_id(debt, 1405, 9, old.bill_id)))
    assert balance_of(session, new.id) == 0 and balance_of(session, old.id) == 0


def test_a_debt_above_the_limit_waits_for_someone_who_may_approve_it(session, setup):
    old = setup["contract"]
    adjustments.post_fee(session, None, old.id, 60_000_000, "meter_test", "بدهی معوق", date(2026, 10, 1))
    instance = start(session, setup)
    debt = read(session, setup, instance)
    work(session, setup["finance"], instance, "debt_decision",
         {"debt_choice": "transfer", "new_owner_consent": True, "decision_note": ""})
    item = open_task(session, instance)
    assert (item.task_name, item.role_code) == ("approve_debt_transfer", "admin")
    assert any(note.startswith("مبالغ بیش از") and "به مجوز تأیید نیاز دارند" in note
               for note in timeline_notes(session, instance))  # why it stopped, on the request
    new = successor_of(session, old)
    assert new.status == "active" and balance_of(session, old.id) == debt
    work(session, setup["admin"], instance, "approve_debt_transfer", {"transfer_approved": True, "approval_note": ""})
    assert instance.status == "completed"
    assert balance_of(session, old.id) == 0 and balance_of(session, new.id) == debt


def test_finance_rejects_and_the_settlement_bill_stands(session, setup):
    """The use up to the final reading happened: a refused change of owner leaves its bill with the owner."""
    old = setup["contract"]
    instance = decided(session, setup, "transfer", consent=False, note="مالک جدید رضایت به پذیرش بدهی نداد")
    assert instance.status == "completed"
    session.refresh(old)
    assert old.status == "active" and successor_of(session, old) is None
    assert balance_of(session, old.id) == setup["debt"] and settlement_bill(session, old).period_end == setup["read_on"]
    assert "رد شد: مالک جدید رضایت به پذیرش بدهی نداد" in timeline_notes(session, instance)


def test_an_unsettled_debt_cancels_the_request_at_the_deadline(session, setup):
    deploy_with_short_timers(session, "ownership_change", {"P14D": 1})
    old = setup["contract"]
    instance = decided(session, setup, "settle")
    fire_due_timers(session, instance, "settlement_deadline")
    assert instance.status == "completed"
    assert old.status == "active" and balance_of(session, old.id) == setup["debt"]
    assert "لغو شد: بدهی اشتراک در مهلت ۱۴ روزه تسویه نشد" in timeline_notes(session, instance)


def test_the_same_owner_is_refused(session, setup):
    owner = session.get(Subscriber, setup["contract"].subscriber_id)
    instance = start(session, setup, new_owner=owner)
    assert instance.status == "completed"
    assert "رد شد: مالک جدید همان مالک فعلی اشتراک است" in timeline_notes(session, instance)


def test_a_contract_in_credit_passes_without_a_debt_decision(session, setup):
    old = setup["contract"]
    credit = balance_of(session, old.id) + 900_000_000
    post_payment(session, None, PaymentRequest(channel="bank", reference="OC-0", amount=credit,
                                               paid_on=setup["read_on"], contract_id=old.id))
    instance = start(session, setup)
    left = read(session, setup, instance)
    assert left < 0 and instance.status == "completed"  # the credit covered the settlement bill: no finance step
    new = successor_of(session, old)
    assert new.subscriber_id == setup["buyer"].id
    assert balance_of(session, old.id) == left and balance_of(session, new.id) == 0  # the credit stays


def test_the_new_owner_is_billed_only_from_the_final_reading(session, setup):
    old = setup["contract"]
    setup["read_on"] = datetime.now(TEHRAN).date() - timedelta(days=45)
    setup["reading"]["read_on"] = setup["read_on"].isoformat()
    instance = decided(session, setup, "transfer", consent=True)
    new = successor_of(session, old)
    opening = {r.register: r.value for r in session.scalars(select(MeterReading).where(
        MeterReading.contract_id == new.id, MeterReading.opening.is_(True)))}
    closing = {register: r["to"] for register, r in settlement_bill(session, old).readings.items()}
    assert opening == closing and instance.status == "completed"
    later = setup["read_on"] + timedelta(days=40)
    for register, value in opening.items():
        assert record_reading(session, None, new.id, register, later, value + 90).flags == [], register
    first = bills.issue(session, None, new.id, issued_on=later)
    assert first.period_start == setup["read_on"] + timedelta(days=1)
    assert {register: r["consumption"] for register, r in first.readings.items()} == {
        register: 90 * (installed_meter(session, new).meter.multiplier or 1) for register in opening}


def test_a_reading_below_the_last_one_goes_back_to_the_inspector(session, setup):
    old = setup["contract"]
    instance = start(session, setup)
    last = last_reading(session, old)
    low = final_reading(session, old, use=-40)
    assert low["final_reading"] >= 0
    before = balance_of(session, old.id)
    work(session, setup["inspector"], instance, "final_reading", low)
    item = open_task(session, instance)
    assert item.task_name == "final_reading"  # back to the inspector, with why
    assert any("قرائت نهایی غیرعادی" in note for note in timeline_notes(session, instance))
    assert balance_of(session, old.id) == before and last_reading(session, old).id == last.id  # nothing half-saved
    # on site the reader finds the meter was indeed turned back (e.g. a swapped dial) and confirms it
    work(session, setup["inspector"], instance, "final_reading",
         {**setup["reading"], "reading_confirmed": True, "reading_note": "قرائت دوباره در محل بررسی شد"})
    assert open_task(session, instance).task_name == "debt_decision"
    assert settlement_bill(session, old).period_end == setup["read_on"]

