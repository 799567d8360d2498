"""Outage registration (ثبت خاموشی) through the engine on PostgreSQL: planned for a region, unplanned for
named contracts with its end recorded later (and refused when before the start)."""

from datetime import datetime

import pytest
from sqlalchemy import select

from core.jalali import TEHRAN
from engine import runtime
from subscribers.models import Contract, Outage
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


def test_a_planned_outage_of_the_region(session, setup):
    instance = start(session, setup, DETAILS)
    assert instance.status == "completed"
    [outage] = session.scalars(select(Outage)).all()
    assert (outage.utility, outage.planned, outage.region_id, outage.service_points) == (
        "electricity", True, region(session, "shiraz-1").id, [])
    assert outage.starts_at == datetime(2026, 12, 1, 9, 0, tzinfo=TEHRAN)
    assert outage.ends_at == datetime(2026, 12, 1, 13, 0, tzinfo=TEHRAN)
    assert "انجام شد: خاموشی برنامه‌ریزی‌شده ثبت شد: تعویض ترانسفورماتور پست زند" in timeline_notes(session, instance)


def test_an_unplanned_outage_of_named_contracts_gets_its_end_when_restored(session, setup):
    first, second = session.scalars(select(Contract).where(Contract.region_id == region(session, "shiraz-1").id)
                                    .order_by(Contract.id).limit(2)).all()
    instance = start(session, setup, {**DETAILS, "kind": "unplanned", "ends_at": None, "scope": "contracts",
                                      "cause": "سوختن فیوز", "contract_1": first.id, "contract_2": second.id})
    [outage] = session.scalars(select(Outage)).all()
    assert outage.region_id is None and outage.ends_at is None and not outage.planned
    assert {p.id for p in outage.service_points} == {first.service_point_id, second.service_point_id}
    work(session, setup["engineer"], instance, "record_end", {"restored_at": "2026-12-01T08:00", "end_note": ""})
    assert open_task(session, instance).task_name == "record_end"  # before it began: typed again
    assert "پایان خاموشی پیش از آغاز آن است." in timeline_notes(session, instance)
    work(session, setup["engineer"], instance, "record_end", {"restored_at": "2026-12-01T10:30", "end_note": ""})
    assert instance.status == "completed"
    session.refresh(outage)
    assert outage.ends_at == datetime(2026, 12, 1, 10, 30, tzinfo=TEHRAN)
