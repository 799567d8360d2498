"""Grace period or installments (مهلت/تقسیط) through the engine on PostgreSQL: the plan or grace period in
the ledger, refusals, and the approval limit of the finance role."""

from datetime import date

import pytest
from sqlalchemy import select

from engine import cartable, runtime
from ledger import adjustments, terms
from ledger.models import GracePeriod, InstallmentPlan
from subscribers.models import Contract
from tests.engine_support import region
from tests.test_procedure_helpers import deploy_procedures, open_task, timeline_notes, work

REVIEW = {"decision": "approve", "due_on": None, "count": None, "down_payment_percent": 20, "review_note": ""}


@pytest.fixture
def setup(session, demo):
    deploy_procedures(session)
    contract = session.scalar(select(Contract).where(Contract.region_id == region(session, "shiraz-1").id)
                              .order_by(Contract.id))
    return {**demo, "contract": contract}


def in_debt(session, contract, amount=12_345_000):
    adjustments.post_fee(session, None, contract.id, amount, "meter_test", "بدهی معوق", date(2026, 10, 1))


def start(session, setup, **request):
    instance = runtime.start_instance(session, setup["clerk"], "payment_terms", region(session, "shiraz-1"))
    work(session, setup["clerk"], instance, "register_request",
         {"contract_id": setup["contract"].id, "kind": "installments", "requested_due_on": None,
          "requested_count": 6, "reason": "مشترک از کار افتاده است", **request})
    return instance


def test_an_installment_plan_is_recorded_in_the_ledger(session, setup):
    in_debt(session, setup["contract"])
    instance = start(session, setup)
    work(session, setup["finance"], instance, "finance_review", REVIEW)
    assert instance.status == "completed"
    [plan] = terms.terms_of(session, setup["contract"].id)[1]
    assert (plan.count, plan.down_payment_percent, plan.total, plan.approver_id) == (
        6, 20, 12_345_000, setup["finance"].id)
    assert plan.reason == "مشترک از کار افتاده است"
    installments = terms.installments_of(session, plan)
    assert len(installments) == 7 and sum(i.amount for i in installments) == 12_345_000
    assert "انجام شد: طرح تقسیط ثبت شد" in timeline_notes(session, instance)


def test_a_grace_period_with_the_deadline_finance_set(session, setup):
    in_debt(session, setup["contract"])
    instance = start(session, setup, kind="grace", requested_due_on="2027-03-01", requested_count=None)
    work(session, setup["finance"], instance, "finance_review", {**REVIEW, "due_on": "2027-01-15"})
    [grace] = terms.terms_of(session, setup["contract"].id)[0]
    assert (grace.due_on, grace.amount) == (date(2027, 1, 15), 12_345_000)
    assert "انجام شد: مهلت پرداخت ثبت شد" in timeline_notes(session, instance)


def test_finance_refuses_with_a_reason(session, setup):
    in_debt(session, setup["contract"])
    instance = start(session, setup)
    work(session, setup["finance"], instance, "finance_review",
         {**REVIEW, "decision": "reject", "review_note": "طرح تقسیط قبلی شکسته شده است"})
    assert instance.status == "completed"
    assert session.scalars(select(InstallmentPlan)).all() == []
    assert "رد شد: طرح تقسیط قبلی شکسته شده است" in timeline_notes(session, instance)


def test_no_debt_no_request(session, setup):
    instance = start(session, setup)
    assert instance.status == "completed"
    assert "رد شد: اشتراک بدهی ندارد" in timeline_notes(session, instance)


def test_above_the_limit_finance_refers_to_someone_who_may_approve(session, setup):
    in_debt(session, setup["contract"], 80_000_000)
    instance = start(session, setup)
    work(session, setup["finance"], instance, "finance_review", REVIEW)
    review = open_task(session, instance)
    assert review.task_name == "finance_review"  # back, with the reason on the timeline
    assert any("به مجوز تأیید نیاز دارند" in note for note in timeline_notes(session, instance))
    assert session.scalars(select(InstallmentPlan)).all() == []
    cartable.refer(session, setup["finance"], review.id, to_role="admin", note="بالاتر از سقف من")
    cartable.complete(session, setup["admin"], review.id, REVIEW)
    assert instance.status == "completed"
    [plan] = session.scalars(select(InstallmentPlan)).all()
    assert plan.total == 80_000_000 and plan.approver_id == setup["admin"].id
    assert session.scalars(select(GracePeriod)).all() == []
