"""The general bill issuance procedure through the engine: scope, preview, approval, the run in the
background, the message that wakes the review, publication — and the supervisor's rejection."""

from sqlalchemy import func, select

from billing.models import Bill
from billing.run_models import BillingRun, RunStatus
from engine import cartable, runtime
from engine.catalogue import deploy
from engine.models import Instance, WorkItem
from madam.settings import REPO_ROOT
from tests.billing_run_support import PERIOD, billable_contracts
from tests.engine_support import region

FORMS = ("billing_run_scope", "billing_run_preview", "billing_run_approval", "billing_run_review")


def _deploy(session):
    import json

    forms = {key: json.loads((REPO_ROOT / "forms" / f"{key}.json").read_text(encoding="utf-8")) for key in FORMS}
    bpmn = (REPO_ROOT / "processes" / "billing_run.bpmn").read_text(encoding="utf-8")
    version, _created = deploy(session, None, bpmn, forms, source="processes/billing_run.bpmn")
    return version


def _do(session, user, instance, task, data):
    item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.task_name == task,
                                                 WorkItem.status == "open"))
    assert item is not None, f"no open {task}"
    cartable.claim(session, user, item.id)
    cartable.complete(session, user, item.id, data)
    session.commit()  # the edge's commit: a started run's workers go after it (in-process here)
    session.expire_all()


def _start(session, demo):
    _deploy(session)
    contracts = billable_contracts(session, demo["billing"])
    instance = runtime.start_instance(session, demo["billing"], "billing_run", region(session, "shiraz-1"))
    session.commit()
    _do(session, demo["billing"], instance, "define_scope", {"utility": "electricity", "period": PERIOD,
                                                               "due_days": 14})
    run = session.scalar(select(BillingRun).where(BillingRun.instance_id == instance.id))
    return instance, run, contracts


def test_the_procedure_runs_the_bills_wakes_the_review_and_publishes(session, demo):
    instance, run, contracts = _start(session, demo)
    assert run.status == RunStatus.PREVIEWED and run.total == len(contracts)
    _do(session, demo["billing"], instance, "check_preview", {"preview_decision": "submit", "note": ""})
    _do(session, demo["supervisor"], instance, "approve", {"approval_decision": "approve", "note": ""})
    session.refresh(run)
    assert run.status == RunStatus.FINISHED and run.approved_by_id == demo["supervisor"].id
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.period == PERIOD)) == len(contracts) - 2
    review = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                   WorkItem.task_name == "review"))
    assert review is not None and review.status == "open" and review.role_code == "billing_expert"
    _do(session, demo["billing"], instance, "review", {"review_decision": "publish"})
    session.refresh(run)
    session.refresh(instance)
    assert run.status == RunStatus.PUBLISHED and instance.status == "completed"


def test_the_supervisors_rejection_cancels_the_run_with_the_reason(session, demo):
    instance, run, _contracts = _start(session, demo)
    _do(session, demo["billing"], instance, "check_preview", {"preview_decision": "submit", "note": ""})
    _do(session, demo["supervisor"], instance, "approve", {"approval_decision": "reject",
                                                         "note": "قرائت‌های امور یک کامل نیست"})
    session.refresh(run)
    session.refresh(instance)
    assert run.status == RunStatus.CANCELLED and run.note == "قرائت‌های امور یک کامل نیست"
    assert instance.status == "completed"
    assert session.scalar(select(func.count()).select_from(Bill).where(Bill.period == PERIOD)) == 0


def test_the_expert_may_withdraw_after_the_preview(session, demo):
    instance, run, _contracts = _start(session, demo)
    _do(session, demo["billing"], instance, "check_preview", {"preview_decision": "withdraw",
                                                              "note": "دوره اشتباه"})
    session.refresh(run)
    assert run.status == RunStatus.CANCELLED and session.get(Instance, instance.id).status == "completed"
