"""Meter relocation (جابجایی کنتور) through the engine on PostgreSQL: fee, payment, the meter history and the
premise's location afterwards; refusal at the survey; cancellation when the fee is not paid."""

from datetime import date

import pytest
from sqlalchemy import select

from engine import runtime
from engine.operations.ledger_ops import balance_of
from ledger.payments import PaymentRequest, post_payment
from subscribers.meter_ops import meter_history
from subscribers.models import Contract, Premise, ServicePoint
from tests.engine_support import region
from tests.test_procedure_helpers import (
    deploy_procedures,
    deploy_with_short_timers,
    fire_due_timers,
    open_task,
    timeline_notes,
    work,
)

FEE = 5_000_000
SURVEY = {"survey_date": "2026-11-26", "feasible": "yes", "survey_note": ""}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    contract = session.scalar(select(Contract).where(Contract.region_id == region(session, "shiraz-1").id)
                              .order_by(Contract.id))
    return {**demo, "contract": contract}


def surveyed(session, setup, survey=SURVEY):
    instance = runtime.start_instance(session, setup["clerk"], "meter_relocation", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request",
         {"contract_id": setup["contract"].id, "requested_place": "دیوار بیرونی ملک، کنار در پارکینگ",
          "reason": "نوسازی ساختمان"})
    return work(session, setup["inspector"], instance, "survey", survey)


def test_the_meter_moves_after_the_fee_is_paid(session, setup):
    contract = setup["contract"]
    instance = surveyed(session, setup)
    assert balance_of(session, contract.id) == FEE and instance.status == "waiting"
    post_payment(session, None, PaymentRequest(channel="pos", reference="RL-1", amount=FEE,
                                               paid_on=date(2026, 11, 27), contract_id=contract.id))
    assert open_task(session, instance).task_name == "relocate"
    work(session, setup["technician"], instance, "relocate",
         {"new_location": {"lat": 29.6201, "lng": 52.5402}, "reading": 4410, "relocated_on": "2026-11-28",
          "sealed": True, "work_note": ""})
    assert instance.status == "completed"
    before, after = meter_history(session, contract.service_point_id)
    assert before.meter_id == after.meter_id and before.removal_reason == "جابجایی کنتور"
    assert before.final_readings == {"single": 4410} and after.initial_readings == {"single": 4410}
    assert (before.removed_on, after.installed_on, after.removed_on) == (date(2026, 11, 28), date(2026, 11, 28), None)
    premise = session.get(Premise, session.get(ServicePoint, contract.service_point_id).premise_id)
    assert (float(premise.latitude), float(premise.longitude)) == (29.6201, 52.5402)
    assert f"انجام شد: کنتور {after.meter.serial} به محل جدید منتقل شد" in timeline_notes(session, instance)


def test_a_relocation_that_is_not_possible_is_refused_at_the_survey(session, setup):
    instance = surveyed(session, setup, {**SURVEY, "feasible": "no",
                                         "survey_note": "محل درخواستی در حریم معبر است"})
    assert instance.status == "completed"
    assert balance_of(session, setup["contract"].id) == 0  # no fee
    assert "رد شد: محل درخواستی در حریم معبر است" in timeline_notes(session, instance)


def test_an_unpaid_fee_cancels_the_request_at_the_deadline(session, setup):
    deploy_with_short_timers(session, "meter_relocation", {"P30D": 1})
    instance = surveyed(session, setup)
    fire_due_timers(session, instance, "payment_deadline")
    assert instance.status == "completed"
    assert balance_of(session, setup["contract"].id) == 0  # the fee was reversed
    [still] = meter_history(session, setup["contract"].service_point_id)
    assert still.removed_on is None
    assert "لغو شد: بدهی اشتراک و هزینه جابجایی در مهلت ۳۰ روزه پرداخت نشد" in timeline_notes(session, instance)
