"""Disconnection for debt and reconnection (قطع و وصل) through the engine on PostgreSQL: the rule that starts
it, payment within the notice, a grace period, disconnection in the field, reconnection after paying the debt
and the reconnection fee; the service point's status and the ledger afterwards."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.models import Instance
from engine.operations.disconnection_rule import start_due_disconnections
from engine.operations.ledger_ops import balance_of
from engine.operations.registry_ops import today
from ledger import adjustments, terms
from ledger.payments import PaymentRequest, post_payment
from subscribers.models import Contract, ServicePoint
from tests.engine_support import region
from tests.test_procedure_helpers import (
    deploy_procedures,
    deploy_with_short_timers,
    fire_due_timers,
    open_task,
    timeline_notes,
    work,
)

DEBT, FEE = 8_000_000, 1_200_000
NOTICE = {"notice_method": "sms", "notice_note": ""}
FIELD = {"result": "disconnected", "disconnected_on": "2026-11-28", "disconnection_reading": 9120, "field_note": ""}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    debtor, small, graced = session.scalars(select(Contract).where(
        Contract.region_id == region(session, "shiraz-1").id).order_by(Contract.id).limit(3)).all()
    for contract, amount in ((debtor, DEBT), (small, 3_000_000), (graced, DEBT)):
        adjustments.post_fee(session, None, contract.id, amount, "meter_test", "بدهی معوق", date(2026, 10, 1))
    terms.grant_grace_period(session, demo["finance"], graced.id, today() + timedelta(days=20), today(), "بیماری")
    return {**demo, "debtor": debtor, "small": small, "graced": graced}


def started(session, setup) -> Instance:
    [instance] = [i for i in start_due_disconnections(session, threshold=5_000_000)
                  if i.contract_id == setup["debtor"].id]
    return instance


def pay(session, contract, amount, reference):
    post_payment(session, None, PaymentRequest(channel="internet", reference=reference, amount=amount,
                                               paid_on=date(2026, 11, 28), contract_id=contract.id))


def point_of(session, contract) -> ServicePoint:
    return session.get(ServicePoint, contract.service_point_id)


def test_the_rule_starts_one_request_per_contract_over_the_threshold_without_grace(session, setup):
    mine = {setup[name].id for name in ("debtor", "small", "graced")}
    first = [i for i in start_due_disconnections(session, threshold=5_000_000) if i.contract_id in mine]
    assert [i.contract_id for i in first] == [setup["debtor"].id]  # not the small debt, not the one with grace
    again = start_due_disconnections(session, threshold=5_000_000)
    assert [i for i in again if i.contract_id in mine] == []  # already open: not twice
    item = open_task(session, first[0])
    assert (item.task_name, item.role_code) == ("issue_notice", "finance")


def test_paying_within_the_notice_ends_the_request_without_disconnection(session, setup):
    instance = started(session, setup)
    work(session, setup["finance"], instance, "issue_notice", {"contract_id": setup["debtor"].id, **NOTICE})
    assert instance.status == "waiting"
    pay(session, setup["debtor"], DEBT, "DC-1")
    assert instance.status == "completed" and point_of(session, setup["debtor"]).status == "active"
    assert "لغو شد: بدهی معوق تسویه یا مهلت داده شد؛ قطع انجام نشد" in timeline_notes(session, instance)


def test_disconnected_then_reconnected_after_the_debt_and_the_fee_are_paid(session, setup):
    deploy_with_short_timers(session, "disconnection", {"P7D": 1})
    debtor = setup["debtor"]
    instance = started(session, setup)
    work(session, setup["finance"], instance, "issue_notice", {"contract_id": debtor.id, **NOTICE})
    fire_due_timers(session, instance, "notice_period")
    work(session, setup["technician"], instance, "field_disconnect", FIELD)
    assert point_of(session, debtor).status == "disconnected"
    assert balance_of(session, debtor.id) == DEBT + FEE
    pay(session, debtor, DEBT, "DC-2")  # the debt, not yet the reconnection fee
    assert instance.status == "waiting"
    pay(session, debtor, FEE, "DC-3")
    work(session, setup["technician"], instance, "reconnect",
         {"reconnected_on": "2026-11-29", "reconnection_reading": 9120, "reconnect_note": ""})
    assert instance.status == "completed" and point_of(session, debtor).status == "active"
    assert balance_of(session, debtor.id) == 0
    assert "انجام شد: انشعاب پس از پرداخت بدهی و هزینه وصل مجدد وصل شد" in timeline_notes(session, instance)


def test_a_grace_period_granted_during_the_notice_stops_the_disconnection(session, setup):
    deploy_with_short_timers(session, "disconnection", {"P7D": 1})
    instance = started(session, setup)
    work(session, setup["finance"], instance, "issue_notice", {"contract_id": setup["debtor"].id, **NOTICE})
    terms.grant_grace_period(session, setup["finance"], setup["debtor"].id, today() + timedelta(days=30), today(),
                             "درخواست مهلت پذیرفته شد")
    fire_due_timers(session, instance, "notice_period")
    assert instance.status == "completed" and point_of(session, setup["debtor"]).status == "active"
    assert "لغو شد: بدهی معوق تسویه یا مهلت داده شد؛ قطع انجام نشد" in timeline_notes(session, instance)


def test_a_disconnection_not_possible_in_the_field_ends_with_the_reason(session, setup):
    deploy_with_short_timers(session, "disconnection", {"P7D": 1})
    instance = started(session, setup)
    work(session, setup["finance"], instance, "issue_notice", {"contract_id": setup["debtor"].id, **NOTICE})
    fire_due_timers(session, instance, "notice_period")
    work(session, setup["technician"], instance, "field_disconnect",
         {**FIELD, "result": "not_possible", "field_note": "کنتور داخل ملک است و مالک در را باز نکرد"})
    assert instance.status == "completed" and point_of(session, setup["debtor"]).status == "active"
    assert balance_of(session, setup["debtor"].id) == DEBT  # no reconnection fee
    assert "لغو شد: کنتور داخل ملک است و مالک در را باز نکرد" in timeline_notes(session, instance)


def test_the_command_starts_the_disconnections_of_the_day(app, clean_db, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from core.db import db
    from madam.cli import main
    from madam.demo import load_demo
    from tests.conftest import TEST_DB_URL

    with app.app_context():
        load_demo(db.session)
        deploy_procedures(db.session)
        debtor = db.session.scalar(select(Contract).order_by(Contract.id))
        adjustments.post_fee(db.session, None, debtor.id, DEBT, "meter_test", "بدهی معوق", date(2026, 10, 1))
        db.session.commit()
        debtor_id = debtor.id
        db.session.remove()
    monkeypatch.setenv("MADAM_DATABASE_URL", TEST_DB_URL)
    monkeypatch.setenv("MADAM_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["processes", "disconnect-overdue", "--threshold", "5000000"],
                                catch_exceptions=False)
    assert result.exit_code == 0 and result.output.endswith("1 disconnection requests started\n")
    assert f"contract {debtor_id}" in result.output
    with app.app_context():
        assert db.session.scalar(select(Instance.contract_id).where(Instance.process_key == "disconnection")) == \
            debtor_id
        db.session.remove()
