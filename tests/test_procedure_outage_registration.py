"""Outage registration (ثبت خاموشی) through the engine on PostgreSQL: a planned outage of the region approved
or refused by the admin, an unplanned one of named contracts with its end recorded later (and refused when
before the start), and details the registry refuses sent back to the engineer with nothing recorded."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.jalali import TEHRAN
from engine import runtime
from subscribers.models import Contract, Outage, ServicePoint
from tests.engine_support import region
from tests.test_procedure_helpers import deploy_procedures, open_task, timeline_notes, work

DETAILS = {"utility": "electricity", "kind": "planned", "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T13:00",
           "cause": "تعویض ترانسفورماتور پست زند", "scope": "region", "contract_1": None, "contract_2": None,
           "contract_3": None}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    return demo


def start(session, setup, details):
    instance = runtime.start_instance(session, setup["engineer"], "outage_registration", region(session, "shiraz-1"))
    return work(session, setup["engineer"], instance, "register_outage", details)


def contracts_of(session, utility, region_code="shiraz-1", count=2) -> list[Contract]:
    return list(session.scalars(select(Contract).join(ServicePoint).where(
        Contract.region_id == region(session, region_code).id, ServicePoint.utility == utility)
        .order_by(Contract.id).limit(count)))


def hours_ago(hours: int) -> str:
    return (datetime.now(TEHRAN) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_a_planned_outage_of_the_region_is_recorded_once_the_admin_approves_it(session, setup):
    instance = start(session, setup, DETAILS)
    item = open_task(session, instance)
    assert (item.task_name, item.role_code) == ("approve_planned", "admin")
    assert session.scalars(select(Outage)).all() == []  # not announced before its approval
    work(session, setup["admin"], instance, "approve_planned", {"outage_approved": "approve", "approval_note": ""})
    assert instance.status == "completed"
    [outage] = session.scalars(select(Outage)).all()
    assert (outage.utility, outage.planned, outage.region_id, outage.service_points) == (
        "electricity", True, region(session, "shiraz-1").id, [])
    assert outage.starts_at == datetime(2026, 12, 1, 9, 0, tzinfo=TEHRAN)
    assert outage.ends_at == datetime(2026, 12, 1, 13, 0, tzinfo=TEHRAN)
    assert "انجام شد: خاموشی برنامه‌ریزی‌شده ثبت شد: تعویض ترانسفورماتور پست زند" in timeline_notes(session, instance)


def test_a_planned_outage_the_admin_refuses_ends_with_the_reason_and_records_nothing(session, setup):
    instance = start(session, setup, DETAILS)
    work(session, setup["admin"], instance, "approve_planned",
         {"outage_approved": "reject", "approval_note": "هم‌زمان با امتحانات مدارس است؛ به هفته بعد منتقل شود"})
    assert instance.status == "completed" and session.scalars(select(Outage)).all() == []
    assert "رد شد: هم‌زمان با امتحانات مدارس است؛ به هفته بعد منتقل شود" in timeline_notes(session, instance)


def test_an_unplanned_outage_of_named_contracts_gets_its_end_when_restored(session, setup):
    first, second = contracts_of(session, "electricity")
    began = hours_ago(3)
    instance = start(session, setup, {**DETAILS, "kind": "unplanned", "starts_at": began, "ends_at": None,
                                      "scope": "contracts", "cause": "سوختن فیوز", "contract_1": first.id,
                                      "contract_2": second.id})
    [outage] = session.scalars(select(Outage)).all()  # no approval: it has already happened
    assert outage.region_id is None and outage.ends_at is None and not outage.planned
    assert {p.id for p in outage.service_points} == {first.service_point_id, second.service_point_id}
    work(session, setup["engineer"], instance, "record_end", {"restored_at": hours_ago(5), "end_note": ""})
    assert open_task(session, instance).task_name == "record_end"  # before it began: typed again
    assert "پایان خاموشی پیش از آغاز آن است." in timeline_notes(session, instance)
    restored = hours_ago(1)
    work(session, setup["engineer"], instance, "record_end", {"restored_at": restored, "end_note": ""})
    assert instance.status == "completed"
    session.refresh(outage)
    assert outage.ends_at == datetime.fromisoformat(restored).replace(tzinfo=TEHRAN)


@pytest.mark.parametrize("case, note", [
    ("unplanned_in_future", "خاموشی بی‌برنامه پیش‌تر آغاز شده است"),
    ("other_utility", "یکی از اشتراک‌های نام‌برده از خدمتی جز خدمت این خاموشی است."),
    ("other_region", "یکی از اشتراک‌های نام‌برده بیرون از امور این درخواست است."),
    ("no_contract", "برای خاموشی"),
])
def test_details_the_registry_refuses_go_back_to_the_engineer(session, setup, case, note):
    details = {**DETAILS, "kind": "unplanned", "starts_at": hours_ago(2), "ends_at": None, "scope": "contracts",
               "contract_1": contracts_of(session, "electricity", count=1)[0].id}
    if case == "unplanned_in_future":
        details["starts_at"] = (datetime.now(TEHRAN) + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    elif case == "other_utility":
        details["contract_2"] = contracts_of(session, "water", count=1)[0].id
    elif case == "other_region":
        details["contract_2"] = contracts_of(session, "electricity", region_code="shiraz-2", count=1)[0].id
    else:
        details["contract_1"] = None
    instance = start(session, setup, details)
    assert open_task(session, instance).task_name == "register_outage"
    assert any(note in n for n in timeline_notes(session, instance)), timeline_notes(session, instance)
    assert session.scalars(select(Outage)).all() == []
    work(session, setup["engineer"], instance, "register_outage",  # put right: recorded
         {**details, "starts_at": hours_ago(2), "contract_1": contracts_of(session, "electricity", count=1)[0].id,
          "contract_2": None})
    assert len(session.scalars(select(Outage)).all()) == 1 and open_task(session, instance).task_name == "record_end"
