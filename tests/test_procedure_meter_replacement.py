"""Meter replacement (تعویض کنتور) through the engine on PostgreSQL: the meter history afterwards, and the
refusal when the inspection finds no need."""

from datetime import date

import pytest
from sqlalchemy import select

from engine import runtime
from subscribers.meter_ops import meter_history
from subscribers.models import Contract, Meter, ServicePoint
from tests.engine_support import region
from tests.test_procedure_helpers import deploy_procedures, open_task, stock_meters, timeline_notes, work

INSPECTION = {"inspected_on": "2026-11-26", "current_reading": 5120, "verdict": "replace",
              "inspection_note": "نمایشگر کنتور خاموش است"}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    contract = session.scalar(select(Contract).join(ServicePoint).where(
        Contract.region_id == region(session, "shiraz-1").id, ServicePoint.utility == "electricity")
        .order_by(Contract.id))
    [spare] = stock_meters(session, "electricity", "shiraz-1", ["MR-E-0001"])
    return {**demo, "contract": contract, "spare": spare}


def start(session, setup, reason="faulty"):
    instance = runtime.start_instance(session, setup["clerk"], "meter_replacement", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request",
         {"contract_id": setup["contract"].id, "reason": reason, "description": ""})
    return instance


def test_the_old_meter_leaves_with_its_final_reading_and_the_new_one_starts_with_its_own(session, setup):
    point_id = setup["contract"].service_point_id
    [old] = meter_history(session, point_id)
    instance = start(session, setup)
    assert (instance.contract_id, instance.subscriber_id) == (setup["contract"].id, setup["contract"].subscriber_id)
    work(session, setup["inspector"], instance, "inspection", INSPECTION)
    work(session, setup["technician"], instance, "replace_meter",
         {"final_reading": 5123, "old_meter_status": "faulty", "new_meter_id": None, "initial_reading": 7,
          "replaced_on": "2026-11-27", "work_note": ""})
    assert instance.status == "completed"
    first, second = meter_history(session, point_id)
    assert first.id == old.id and first.removed_on == date(2026, 11, 27) and first.final_readings == {"single": 5123}
    assert first.removal_reason == "کنتور خراب"
    assert session.get(Meter, first.meter_id).status == "faulty"
    assert (second.meter_id, second.installed_on, second.removed_on) == (setup["spare"].id, date(2026, 11, 27), None)
    assert second.initial_readings == {"single": 7} and setup["spare"].status == "installed"
    notes = timeline_notes(session, instance)
    assert f"کارکرد کنتور {first.meter.serial} تا برچیدن: 5123 (در صورتحساب بعدی اشتراک " \
           f"{setup['contract'].subscription_no} منظور می‌شود)" in notes
    assert f"انجام شد: کنتور MR-E-0001 به جای کنتور {first.meter.serial} نصب شد" in notes


def test_a_final_reading_below_the_initial_one_sends_the_work_back(session, setup):
    instance = start(session, setup, "upgrade")
    work(session, setup["inspector"], instance, "inspection", INSPECTION)
    [old] = meter_history(session, setup["contract"].service_point_id)
    old.initial_readings = {"single": 6000}  # the old meter started at 6000: a final 5123 is impossible
    session.flush()
    work(session, setup["technician"], instance, "replace_meter",
         {"final_reading": 5123, "old_meter_status": "in_test", "new_meter_id": None, "initial_reading": 0,
          "replaced_on": "2026-11-27", "work_note": ""})
    assert open_task(session, instance).task_name == "replace_meter"
    assert "رقم پایانی کنتور از رقم اولیه کمتر است." in timeline_notes(session, instance)
    assert meter_history(session, setup["contract"].service_point_id) == [old] and old.removed_on is None
    work(session, setup["technician"], instance, "replace_meter",
         {"final_reading": 6150, "old_meter_status": "in_test", "new_meter_id": setup["spare"].id,
          "initial_reading": 0, "replaced_on": "2026-11-27", "work_note": ""})
    assert instance.status == "completed" and old.final_readings == {"single": 6150}


def test_no_need_found_at_inspection_rejects_with_the_reason(session, setup):
    instance = start(session, setup)
    work(session, setup["inspector"], instance, "inspection",
         {**INSPECTION, "verdict": "no_need", "inspection_note": "کنتور سالم است و درست کار می‌کند"})
    assert instance.status == "completed"
    assert "رد شد: کنتور سالم است و درست کار می‌کند" in timeline_notes(session, instance)
    [still] = meter_history(session, setup["contract"].service_point_id)
    assert still.removed_on is None and setup["spare"].status == "in_stock"
