"""Meter inspection and test (بازدید و تست کنتور) through the engine on PostgreSQL: healthy at the visit, an
unknown subscription, refused at review, replaced on the field verdict, accurate or faulty in the lab (the
meter marked faulty, a replacement started and the affected bills corrected in the ledger)."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core.jalali import tehran_today
from engine import runtime
from engine.models import Instance
from engine.operations.ledger_ops import balance_of
from ledger.bills import post_bill
from ledger.models import Journal, JournalKind
from reports import broken_meters
from reports.base import Context, ReportFilter, run_page, with_defaults
from subscribers.models import Contract, Meter
from tests.engine_support import region
from tests.test_procedure_helpers import deploy_procedures, open_task, timeline_notes, work

VISIT = {"visit_date": "2026-11-20", "reading": 48213, "seal_intact": True, "result": "lab_test", "visit_notes": ""}
LAB = {"tested_on": "2026-11-25", "accuracy_error": 5.0, "affected_from": "2026-06-01", "lab_note": ""}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    contract = session.scalar(select(Contract).where(Contract.region_id == region(session, "shiraz-1").id)
                              .order_by(Contract.id))
    return {**demo, "contract": contract}


def visited(session, setup, visit=VISIT, subscription_no=None):
    instance = runtime.start_instance(session, setup["clerk"], "meter_inspection", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request",
         {"subscription_no": subscription_no or setup["contract"].subscription_no, "reason": "high_consumption",
          "mobile": "09171234567", "description": ""})
    return work(session, setup["inspector"], instance, "site_visit", visit)


def meter_of(session, contract) -> Meter:
    from subscribers.meter_ops import open_installation

    return open_installation(session, contract.service_point_id).meter


def replacement_of(session, instance) -> Instance:
    return session.scalar(select(Instance).where(Instance.process_key == "meter_replacement",
                                                 Instance.contract_id == instance.contract_id))


def bill(session, contract, amount, period="1405-07", issued_on=date(2026, 10, 1)):
    post_bill(session, None, contract.id, bill_id=contract.bill_id, period=period, issued_on=issued_on,
              due_on=date(2026, 10, 20), lines={"energy": amount})


def test_a_healthy_meter_ends_the_request_at_the_visit(session, setup):
    instance = visited(session, setup, {**VISIT, "result": "healthy"})
    assert instance.status == "completed" and instance.contract_id == setup["contract"].id
    assert "انجام شد: کنتور در بازدید سالم بود" in timeline_notes(session, instance)


def test_an_unknown_subscription_is_refused_after_the_visit(session, setup):
    instance = visited(session, setup, {**VISIT, "result": "faulty"}, subscription_no="99999999")
    assert instance.status == "completed" and instance.contract_id is None
    assert "رد شد: اشتراک فعالی با شماره 99999999 یافت نشد" in timeline_notes(session, instance)


def test_the_engineer_refuses_with_a_reason(session, setup):
    instance = visited(session, setup)
    work(session, setup["engineer"], instance, "technical_review",
         {"decision": "reject", "review_notes": "مصرف با الگوی فصل سازگار است"})
    assert instance.status == "completed" and meter_of(session, setup["contract"]).status == "installed"
    assert "رد شد: مصرف با الگوی فصل سازگار است" in timeline_notes(session, instance)


def test_a_meter_found_broken_is_marked_faulty_and_its_replacement_starts(session, setup):
    instance = visited(session, setup, {**VISIT, "result": "faulty"})
    work(session, setup["engineer"], instance, "technical_review", {"decision": "replace", "review_notes": ""})
    assert instance.status == "completed"
    meter = meter_of(session, setup["contract"])
    assert meter.status == "faulty"
    replacement = replacement_of(session, instance)
    ctx = Context(session, setup["admin"], tehran_today(), datetime.now(UTC))
    everything = with_defaults(ctx, broken_meters.REPORT, ReportFilter(), set())
    report = run_page(ctx, broken_meters.REPORT, everything, 1, 100)
    [row] = [r for r in report.rows if r["serial"] == meter.serial]  # in the broken-meter report until replaced
    assert (row["subscription_no"], row["request_no"]) == (setup["contract"].subscription_no,
                                                           replacement.business_key)
    first = open_task(session, replacement)
    assert (first.task_name, first.role_code) == ("register_request", "counter_clerk")
    assert f"انجام شد: کنتور معیوب اعلام شد و درخواست تعویض {replacement.business_key} آغاز شد" in \
        timeline_notes(session, instance)


def test_an_accurate_meter_in_the_lab(session, setup):
    instance = visited(session, setup)
    work(session, setup["engineer"], instance, "technical_review", {"decision": "lab", "review_notes": ""})
    work(session, setup["technician"], instance, "lab_test", {**LAB, "accuracy_error": -1.5})
    assert instance.status == "completed" and meter_of(session, setup["contract"]).status == "installed"
    assert replacement_of(session, instance) is None
    assert "انجام شد: خطای کنتور -1.5٪ و در حد مجاز است" in timeline_notes(session, instance)


def test_a_fast_meter_is_faulty_replaced_and_its_bills_corrected(session, setup):
    contract = setup["contract"]
    bill(session, contract, 9_000_000, "1404-12", date(2026, 3, 1))  # before the affected period: untouched
    bill(session, contract, 21_000_000)
    instance = visited(session, setup)
    work(session, setup["engineer"], instance, "technical_review", {"decision": "lab", "review_notes": ""})
    work(session, setup["technician"], instance, "lab_test", LAB)
    assert instance.status == "completed"
    assert meter_of(session, contract).status == "faulty"
    assert replacement_of(session, instance) is not None
    # 5% fast: the bills measured 105% of the use, so 5/105 of 21,000,000 = 1,000,000 is taken off
    assert balance_of(session, contract.id) == 30_000_000 - 1_000_000
    correction = session.scalar(select(Journal).where(Journal.contract_id == contract.id,
                                                      Journal.kind == JournalKind.ADJUSTMENT))
    assert correction.reason == "اصلاح مصرف به علت خطای +5.00٪ کنتور از 2026-06-01"
    assert any(note.endswith("اصلاح مصرف -۱٬۰۰۰٬۰۰۰ ریال") for note in timeline_notes(session, instance))


def test_a_correction_above_the_limit_waits_for_an_approver(session, setup):
    contract = setup["contract"]
    bill(session, contract, 2_100_000_000)
    instance = visited(session, setup)
    work(session, setup["engineer"], instance, "technical_review", {"decision": "lab", "review_notes": ""})
    work(session, setup["technician"], instance, "lab_test", LAB)
    item = open_task(session, instance)
    assert (item.task_name, item.role_code) == ("approve_correction", "admin")
    assert balance_of(session, contract.id) == 2_100_000_000
    work(session, setup["admin"], instance, "approve_correction", {"correction_approved": True, "approval_note": ""})
    assert instance.status == "completed"
    assert balance_of(session, contract.id) == 2_000_000_000
