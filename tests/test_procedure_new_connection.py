"""New connection (درخواست انشعاب جدید) through the engine on PostgreSQL: every path, and the registry and
ledger afterwards."""

from datetime import date

import pytest
from sqlalchemy import select

from engine import runtime
from engine.operations.ledger_ops import connection_fee
from ledger.models import Journal, JournalKind
from ledger.payments import PaymentRequest, post_payment
from ledger.queries import account_of
from subscribers.models import Contract, Meter, MeterInstallation, Premise, ServicePoint, Subscriber
from tests.engine_support import region
from tests.test_procedure_helpers import (
    deploy_procedures,
    deploy_with_short_timers,
    fire_due_timers,
    open_task,
    stock_meters,
    timeline_notes,
    work,
)

SURVEY = {"survey_date": "2026-11-20", "feasible": "yes", "survey_location": {"lat": 29.6123, "lng": 52.5311},
          "network_distance": 12, "site_photo": None, "survey_note": "پست هوایی در ۱۲ متری"}
INSTALLATION = {"meter_id": None, "initial_reading": 3, "installed_on": "2026-11-25", "sealed": True,
                "installation_note": ""}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    applicant = session.scalar(select(Subscriber).where(Subscriber.region_id == region(session, "shiraz-1").id)
                               .order_by(Subscriber.id))
    meters = stock_meters(session, "electricity", "shiraz-1", ["NC-E-0001", "NC-E-0002"])
    return {**demo, "applicant": applicant, "meters": meters}


def request_data(applicant, service="electricity-1-25"):
    return {"subscriber_id": applicant.id, "service": service, "tariff_type": "residential",
            "building_use": "residential", "province": "فارس", "city": "شیراز", "district": "معالی‌آباد",
            "street": "خیابان نیایش", "alley": "کوچه ۱۲", "plaque": "۴۵", "unit": "", "postal_code": "7134567890",
            "location": None, "documents": ["national_card", "deed"], "description": ""}


def start(session, setup, service="electricity-1-25"):
    instance = runtime.start_instance(session, setup["clerk"], "new_connection", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request", request_data(setup["applicant"], service))
    return instance


def requested_point(session, instance) -> ServicePoint:
    return session.scalar(select(ServicePoint).join(Premise).where(Premise.subscriber_id == instance.subscriber_id)
                          .order_by(ServicePoint.id.desc()).limit(1))


def approved(session, setup):
    instance = start(session, setup)
    work(session, setup["clerk"], instance, "check_documents", {"documents_complete": "yes", "documents_note": ""})
    work(session, setup["inspector"], instance, "site_survey", SURVEY)
    work(session, setup["engineer"], instance, "technical_approval", {"decision": "approve", "decision_note": ""})
    return instance


def pay(session, contract_id: int, amount: int, reference: str):
    post_payment(session, None, PaymentRequest(channel="bank", reference=reference, amount=amount,
                                               paid_on=date(2026, 11, 24), contract_id=contract_id))


def test_the_happy_path_from_request_to_an_active_contract(session, setup):
    instance = approved(session, setup)
    point = requested_point(session, instance)
    assert point.status == "requested" and point.amperage == 25 and point.phases == 1
    premise = session.get(Premise, point.premise_id)
    assert (float(premise.latitude), float(premise.longitude)) == (29.6123, 52.5311)  # the surveyed point
    contract = session.get(Contract, instance.contract_id)
    assert contract.status == "requested" and contract.subscriber_id == setup["applicant"].id
    fee = connection_fee("electricity-1-25", "residential")
    assert fee == 30_000_000
    account = account_of(session, contract.id)
    session.refresh(account)
    assert account.bill_id == contract.bill_id and account.balance == fee
    assert session.scalar(select(Journal.kind).where(Journal.contract_id == contract.id)) == JournalKind.FEE
    assert instance.status == "waiting"

    pay(session, contract.id, fee // 2, "NC-1")  # half: the case waits for the rest
    assert instance.status == "waiting"
    pay(session, contract.id, fee - fee // 2, "NC-2")
    item = open_task(session, instance)
    assert (item.task_name, item.role_code) == ("install_meter", "meter_technician")

    work(session, setup["technician"], instance, "install_meter", INSTALLATION)
    assert instance.status == "completed"
    session.refresh(contract)
    assert (contract.status, contract.start_date) == ("active", date(2026, 11, 25))
    installed = session.scalar(select(MeterInstallation).where(MeterInstallation.service_point_id == point.id))
    assert installed.meter_id == setup["meters"][0].id and installed.initial_readings == {"single": 3}
    assert session.get(Meter, installed.meter_id).status == "installed"
    assert session.get(ServicePoint, point.id).status == "active"
    assert f"انجام شد: اشتراک {contract.subscription_no} با شناسه قبض {contract.bill_id} فعال شد" in \
        timeline_notes(session, instance)


def test_incomplete_documents_reject_the_request_with_the_reason(session, setup):
    instance = start(session, setup)
    point = requested_point(session, instance)
    work(session, setup["clerk"], instance, "check_documents",
         {"documents_complete": "no", "documents_note": "سند مالکیت ارائه نشده است"})
    assert instance.status == "completed"
    assert session.get(ServicePoint, point.id).status == "terminated"
    assert "رد شد: سند مالکیت ارائه نشده است" in timeline_notes(session, instance)
    assert instance.contract_id is None  # nothing was numbered or invoiced


def test_the_engineer_sends_the_survey_back_then_rejects_with_a_reason(session, setup):
    instance = start(session, setup)
    work(session, setup["clerk"], instance, "check_documents", {"documents_complete": "yes", "documents_note": ""})
    work(session, setup["inspector"], instance, "site_survey", SURVEY)
    work(session, setup["engineer"], instance, "technical_approval",
         {"decision": "revise", "decision_note": "فاصله تا شبکه را دوباره اندازه بگیرید"})
    assert open_task(session, instance).task_name == "site_survey"
    work(session, setup["inspector"], instance, "site_survey", {**SURVEY, "feasible": "no", "network_distance": 900})
    work(session, setup["engineer"], instance, "technical_approval",
         {"decision": "reject", "decision_note": "شبکه در این محدوده ظرفیت ندارد"})
    assert instance.status == "completed"
    assert requested_point(session, instance).status == "terminated"
    assert "رد شد: شبکه در این محدوده ظرفیت ندارد" in timeline_notes(session, instance)


def test_unpaid_fee_is_reminded_then_cancelled_at_the_deadline(session, setup):
    deploy_with_short_timers(session, "new_connection", {"P7D": 1, "P30D": 3})
    instance = approved(session, setup)
    contract = session.get(Contract, instance.contract_id)
    fire_due_timers(session, instance, "reminder_due")
    assert any(note.startswith("یادآوری پرداخت هزینه انشعاب به مبلغ ۳۰٬۰۰۰٬۰۰۰ ریال") for note in
               timeline_notes(session, instance))
    assert instance.status == "waiting"
    fire_due_timers(session, instance, "deadline")
    assert instance.status == "completed"
    session.refresh(contract)
    assert (contract.status, contract.close_reason) == ("closed", "terminated")
    assert requested_point(session, instance).status == "terminated"
    account = account_of(session, contract.id)
    session.refresh(account)
    assert account.balance == 0  # the fee was reversed
    assert "لغو شد: هزینه انشعاب در مهلت ۳۰ روزه پرداخت نشد" in timeline_notes(session, instance)


def test_a_meter_that_is_not_in_stock_sends_the_installation_back(session, setup):
    instance = approved(session, setup)
    pay(session, instance.contract_id, connection_fee("electricity-1-25", "residential"), "NC-3")
    taken = session.scalar(select(Meter).where(Meter.status == "installed", Meter.utility == "electricity"))
    work(session, setup["technician"], instance, "install_meter", {**INSTALLATION, "meter_id": taken.id})
    assert open_task(session, instance).task_name == "install_meter"
    assert f"کنتور {taken.serial} در انبار نیست." in timeline_notes(session, instance)
    work(session, setup["technician"], instance, "install_meter",
         {**INSTALLATION, "meter_id": setup["meters"][1].id})
    assert instance.status == "completed"
    assert session.get(Meter, setup["meters"][1].id).status == "installed"
    assert session.get(Contract, instance.contract_id).status == "active"


def test_a_late_document_check_is_referred_to_the_engineer_without_being_cancelled(session, setup):
    deploy_with_short_timers(session, "new_connection", {"P2D": 1})  # check_documents' escalation timer
    instance = start(session, setup)
    item = open_task(session, instance)
    assert item.task_name == "check_documents" and item.due_at is not None
    fire_due_timers(session, instance, "check_documents_late")
    still = open_task(session, instance)
    assert (still.id, still.role_code) == (item.id, "engineer")
    work(session, setup["engineer"], instance, "check_documents", {"documents_complete": "yes", "documents_note": ""})
    assert open_task(session, instance).task_name == "site_survey"
