"""Ownership change (تغییر مالکیت) through the engine on PostgreSQL: settle first, transfer the debt with
consent (within and above the approval limit), refusals and the settlement deadline; the contracts and
both ledger accounts afterwards."""

from datetime import date

import pytest
from sqlalchemy import select

from core.identifiers import make_payment_id
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

SETTLEMENT = 1_500_000
READING = {"final_reading": 8120, "read_on": "2026-11-26", "reading_note": ""}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    shiraz = region(session, "shiraz-1")
    contract = session.scalar(select(Contract).where(Contract.region_id == shiraz.id).order_by(Contract.id))
    buyer = session.scalar(select(Subscriber).where(Subscriber.id != contract.subscriber_id,
                                                    Subscriber.region_id == shiraz.id).order_by(Subscriber.id))
    return {**demo, "contract": contract, "buyer": buyer}


def start(session, setup, new_owner=None):
    instance = runtime.start_instance(session, setup["clerk"], "ownership_change", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request",
         {"contract_id": setup["contract"].id, "new_owner_id": (new_owner or setup["buyer"]).id,
          "documents": ["deed", "national_card"], "description": ""})
    return instance


def decided(session, setup, choice, consent=False, note=""):
    instance = start(session, setup)
    work(session, setup["inspector"], instance, "final_reading", READING)
    assert balance_of(session, setup["contract"].id) == SETTLEMENT  # the settlement bill is the debt
    work(session, setup["finance"], instance, "debt_decision",
         {"debt_choice": choice, "new_owner_consent": consent, "decision_note": note})
    return instance


def successor_of(session, contract) -> Contract:
    return session.scalar(select(Contract).where(Contract.predecessor_id == contract.id))


def test_the_old_owner_settles_then_the_contract_passes_to_the_new_owner(session, setup):
    old = setup["contract"]
    instance = decided(session, setup, "settle")
    assert instance.status == "waiting"
    post_payment(session, None, PaymentRequest(channel="bank", reference="OC-1", amount=SETTLEMENT,
                                               paid_on=date(2026, 11, 27), contract_id=old.id))
    assert instance.status == "completed"
    session.refresh(old)
    new = successor_of(session, old)
    assert (old.status, old.close_reason, old.end_date) == ("closed", "transferred", date(2026, 11, 26))
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
    assert balance_of(session, old.id) == 0 and balance_of(session, new.id) == SETTLEMENT
    # the bill ID moves to the new owner's account: a bank paying by bill ID now reaches the new owner
    assert account_of(session, new.id).bill_id == new.bill_id == old.bill_id
    assert account_of(session, old.id).bill_id is None
    post_payment(session, None, PaymentRequest(channel="bank", reference="OC-BILL-ID-1", amount=SETTLEMENT,
                                               paid_on=date(2026, 11, 27), bill_id=old.bill_id,
                                               payment_id=make_payment_id(SETTLEMENT, 1405, 9, old.bill_id)))
    assert balance_of(session, new.id) == 0 and balance_of(session, old.id) == 0


def test_a_debt_above_the_limit_waits_for_someone_who_may_approve_it(session, setup):
    old = setup["contract"]
    adjustments.post_fee(session, None, old.id, 60_000_000, "meter_test", "بدهی معوق", date(2026, 10, 1))
    instance = start(session, setup)
    work(session, setup["inspector"], instance, "final_reading", READING)
    work(session, setup["finance"], instance, "debt_decision",
         {"debt_choice": "transfer", "new_owner_consent": True, "decision_note": ""})
    item = open_task(session, instance)
    assert (item.task_name, item.role_code) == ("approve_debt_transfer", "admin")
    assert any(note.startswith("مبالغ بیش از") and "به مجوز تأیید نیاز دارند" in note
               for note in timeline_notes(session, instance))  # why it stopped, on the request
    new = successor_of(session, old)
    assert new.status == "active" and balance_of(session, old.id) == 61_500_000
    work(session, setup["admin"], instance, "approve_debt_transfer", {"transfer_approved": True, "approval_note": ""})
    assert instance.status == "completed"
    assert balance_of(session, old.id) == 0 and balance_of(session, new.id) == 61_500_000


def test_finance_rejects_and_the_settlement_bill_is_cancelled(session, setup):
    old = setup["contract"]
    instance = decided(session, setup, "transfer", consent=False, note="مالک جدید رضایت به پذیرش بدهی نداد")
    assert instance.status == "completed"
    session.refresh(old)
    assert old.status == "active" and successor_of(session, old) is None
    assert balance_of(session, old.id) == 0
    assert "رد شد: مالک جدید رضایت به پذیرش بدهی نداد" in timeline_notes(session, instance)


def test_an_unsettled_debt_cancels_the_request_at_the_deadline(session, setup):
    deploy_with_short_timers(session, "ownership_change", {"P14D": 1})
    old = setup["contract"]
    instance = decided(session, setup, "settle")
    fire_due_timers(session, instance, "settlement_deadline")
    assert instance.status == "completed"
    assert old.status == "active" and balance_of(session, old.id) == 0
    assert "لغو شد: بدهی اشتراک در مهلت ۱۴ روزه تسویه نشد" in timeline_notes(session, instance)


def test_the_same_owner_is_refused(session, setup):
    owner = session.get(Subscriber, setup["contract"].subscriber_id)
    instance = start(session, setup, new_owner=owner)
    assert instance.status == "completed"
    assert "رد شد: مالک جدید همان مالک فعلی اشتراک است" in timeline_notes(session, instance)


def test_a_contract_in_credit_passes_without_a_debt_decision(session, setup):
    old = setup["contract"]
    post_payment(session, None, PaymentRequest(channel="bank", reference="OC-0", amount=2_000_000,
                                               paid_on=date(2026, 11, 20), contract_id=old.id))
    instance = start(session, setup)
    work(session, setup["inspector"], instance, "final_reading", READING)
    assert instance.status == "completed"  # the credit covered the settlement bill: no finance step
    new = successor_of(session, old)
    assert new.subscriber_id == setup["buyer"].id
    assert balance_of(session, old.id) == -500_000 and balance_of(session, new.id) == 0  # the credit stays
