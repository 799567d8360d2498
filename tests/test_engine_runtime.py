"""Instances, work items, service operations, timers and messages on the real PostgreSQL."""

import json
import re
import time
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.db import utcnow
from core.errors import Conflict, PermissionDenied
from engine import admin, cartable, runtime, timers
from engine.messages import send_message
from engine.models import InstanceEvent, MessageWait, Timer, WorkItem
from tests.engine_support import FAILURES, audit_count, deploy_test_request, region


def _open_items(session, instance):
    return session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                  WorkItem.status == "open")).all()


def _actions(session, instance):
    return [e.action for e in session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                                                .order_by(InstanceEvent.id))]


@pytest.fixture
def started(session, demo):
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"),
                                      data={"applicant": "رضا"}, subscriber_id=77, contract_id=9001)
    session.flush()
    return instance


def test_an_instance_starts_with_a_business_key_and_stores_state_without_the_spec(session, demo, started):
    assert re.fullmatch(r"14\d\d-000001", started.business_key)
    second = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    assert int(second.business_key[-6:]) == 2
    assert (started.status, started.subscriber_id, started.contract_id) == ("running", 77, 9001)
    assert started.initiator_id == demo["clerk"].id and started.region_id == region(session, "shiraz-1").id
    stored = json.loads(zlib.decompress(started.state))
    assert "spec" not in stored and "task_specs" not in json.dumps(stored)
    assert len(started.state) < 4096


def test_a_ready_user_task_is_a_work_item_for_its_lanes_role_in_the_region(session, demo, started):
    [item] = _open_items(session, started)
    assert (item.task_name, item.title, item.role_code, item.form_key) == (
        "register", "ثبت درخواست", "counter_clerk", "test_register")
    assert item.region_id == started.region_id
    assert timedelta(hours=3, minutes=59) < item.due_at - item.created_at <= timedelta(hours=4)


def test_claim_complete_and_the_service_result_lands_in_the_data(session, demo, started):
    [item] = _open_items(session, started)
    cartable.claim(session, demo["clerk"], item.id)
    with pytest.raises(Conflict):
        cartable.claim(session, demo["inspector"], item.id)  # claimed by someone else
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 25})
    assert started.status == "waiting"  # for the fee_paid message
    wait = session.scalar(select(MessageWait).where(MessageWait.instance_id == started.id))
    assert (wait.name, wait.business_key, wait.contract_id) == ("fee_paid", started.business_key, 9001)
    assert audit_count(session, "test.fee_computed") == 1
    assert _actions(session, started)[:3] == ["started", "claimed", "completed"]
    completed = session.scalar(select(InstanceEvent).where(InstanceEvent.action == "completed"))
    assert completed.data == {"capacity": [None, 25]} and completed.actor_name == "clerk"


def test_only_holders_of_the_lane_role_in_the_region_may_work_an_item(session, demo, started):
    [item] = _open_items(session, started)
    with pytest.raises(PermissionDenied):
        cartable.complete(session, demo["inspector"], item.id, {"capacity": 1})  # inspector: wrong role
    assert _open_items(session, started)[0].id == item.id


def test_a_message_by_business_key_or_contract_moves_the_case_on(session, demo, started):
    [item] = _open_items(session, started)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 10})
    assert send_message(session, None, "fee_paid", "1399-999999", {"receipt": "x"}) == []
    assert send_message(session, None, "fee_paid", 9001, {"receipt": "R-123"}) == [started.id]
    [approve] = _open_items(session, started)
    assert (approve.task_name, approve.role_code, started.status) == ("approve", "engineer", "running")
    cartable.complete(session, demo["engineer"], approve.id, {"approved": True})
    assert started.status == "completed" and started.completed_at is not None
    assert "message_caught" in _actions(session, started)


def test_refer_return_and_comment(session, demo, started):
    [item] = _open_items(session, started)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})  # no fee: straight to approval
    [approve] = _open_items(session, started)
    cartable.refer(session, demo["engineer"], approve.id, to_user=demo["admin"], note="لطفاً بررسی کنید")
    assert (approve.assignee_id, approve.note) == (demo["admin"].id, "لطفاً بررسی کنید")
    with pytest.raises(PermissionDenied):
        cartable.complete(session, demo["engineer"], approve.id, {"approved": True})  # now the admin's
    cartable.comment(session, demo["admin"], started.id, "مدارک ناقص است", approve)
    reopened = cartable.return_to_previous(session, demo["admin"], approve.id, "ظرفیت را اصلاح کنید")
    assert (reopened.task_name, reopened.assignee_id, reopened.note) == ("register", demo["clerk"].id,
                                                                        "ظرفیت را اصلاح کنید")
    assert [i.task_name for i in _open_items(session, started)] == ["register"]
    assert ["referred", "commented", "returned"] == [a for a in _actions(session, started)
                                                   if a in ("referred", "commented", "returned")]


def test_the_event_log_is_append_only(session, started):
    session.flush()
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE instance_events SET action = 'x'"))


FLAKY = {'id="test.compute_fee"': 'id="test.flaky"',
         'parameter id="capacity" type="int" value="capacity"': 'parameter id="value" type="int" value="capacity"',
         '<spiffworkflow:parameter id="rate" type="int" value="25000" />': "",
         'fee["amount"] &gt; 0': 'fee["value"] &gt; 0'}


def test_a_failing_operation_leaves_the_instance_in_error_and_commits_nothing_of_the_step(session, demo):
    deploy_test_request(session, demo["analyst"], **FLAKY)
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    FAILURES["test.flaky"] = 1
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 3})
    assert (instance.status, instance.error_task) == ("error", "compute_fee")
    assert "did not answer" in instance.error_message
    assert audit_count(session, "test.flaky_applied") == 0  # the operation's write was rolled back
    assert item.status == "completed"  # the expert's work is kept
    admin.retry(session, demo["admin"], instance.id)
    assert instance.status == "waiting" and instance.error_message is None
    assert audit_count(session, "test.flaky_applied") == 1


def test_the_diagrams_retry_settings_are_honoured(session, demo):
    retry = '<spiffworkflow:retry retries="2" backoff_base="1" />\n        </spiffworkflow:serviceTaskOperator>'
    deploy_test_request(session, demo["analyst"], **FLAKY, **{"</spiffworkflow:serviceTaskOperator>": retry})
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    FAILURES["test.flaky"] = 2
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 3})
    assert instance.status == "waiting" and "did not answer" in instance.error_message
    [first] = session.scalars(select(Timer).where(Timer.kind == "retry", Timer.status == "pending")).all()
    assert first.due_at - utcnow() <= timedelta(seconds=1)  # backoff_base 1: 1 s after the first failure
    assert timers.fire(session, first.id, now=first.due_at + timedelta(seconds=1))
    assert instance.status == "waiting" and "did not answer" in instance.error_message  # second failure
    [second] = session.scalars(select(Timer).where(Timer.kind == "retry", Timer.status == "pending")).all()
    assert timers.fire(session, second.id, now=second.due_at + timedelta(seconds=1))
    assert instance.error_message is None and audit_count(session, "test.flaky_applied") == 1
    assert session.scalar(select(MessageWait).where(MessageWait.instance_id == instance.id)) is not None


def test_a_boundary_timer_escalates_without_cancelling_the_task(session, demo):
    deploy_test_request(session, demo["analyst"], **{'"PT2H"': '"PT1S"'})
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    [approve] = _open_items(session, instance)
    [timer] = session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.status == "pending"))
    assert timer.task_name == "approve_late" and timer.due_at <= utcnow() + timedelta(seconds=1)
    assert timers.due_timer_ids(session, now=timer.due_at - timedelta(seconds=5)) == []
    time.sleep(max(0.0, (timer.due_at - utcnow()).total_seconds()) + 0.05)
    assert timers.due_timer_ids(session) == [timer.id]
    assert timers.fire(session, timer.id)
    [still_open] = _open_items(session, instance)
    assert still_open.id == approve.id and still_open.role_code == "admin"  # escalated, not cancelled
    assert "escalated" in _actions(session, instance) and timer.status == "fired"
    cartable.complete(session, demo["admin"], approve.id, {"approved": False})
    assert instance.status == "completed"


def test_admin_suspend_resume_terminate_skip_reassign_and_stuck(session, demo, started):
    [item] = _open_items(session, started)
    admin.suspend(session, demo["admin"], started.id, "بررسی اعتراض مشترک")
    with pytest.raises(Conflict):
        cartable.complete(session, demo["clerk"], item.id, {"capacity": 1})
    admin.resume(session, demo["admin"], started.id)
    assert started.status == "running"
    admin.reassign(session, demo["admin"], item.id, demo["finance"])
    assert item.assignee_id == demo["finance"].id
    item.due_at = utcnow() - timedelta(hours=1)
    session.flush()
    reasons = {(s.instance.id, s.reason) for s in admin.stuck_instances(session)}
    assert (started.id, "overdue_work") in reasons
    later = utcnow() + timedelta(hours=30)
    listed = {(s.instance.id, s.reason) for s in admin.stuck_instances(session, now=later)}
    assert (started.id, "no_progress") in listed
    admin.terminate(session, demo["admin"], started.id, "درخواست انصراف مشترک")
    assert started.status == "terminated" and item.status == "cancelled"
    assert {"suspended", "resumed", "reassigned", "terminated"} <= set(_actions(session, started))


def test_skip_a_failed_task_with_the_data_it_should_have_produced(session, demo):
    deploy_test_request(session, demo["analyst"], **FLAKY)
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    FAILURES["test.flaky"] = 5
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 3})
    assert instance.status == "error"
    assert ("error" in {s.reason for s in admin.stuck_instances(session)})
    admin.skip(session, demo["admin"], instance.id, "سرویس از کار افتاده؛ هزینه دستی", data={"fee": {"value": 0}})
    [approve] = _open_items(session, instance)
    assert approve.task_name == "approve" and instance.status == "running"
    FAILURES["test.flaky"] = 0


def test_migration_moves_what_the_diff_allows_and_refuses_the_rest_with_the_reason(session, demo):
    from engine import migration

    v1 = deploy_test_request(session, demo["analyst"])
    at_register = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    at_approve = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    cartable.complete(session, demo["clerk"], _open_items(session, at_approve)[0].id, {"capacity": 0})
    # v2 drops the registration step both instances have reached: neither may move.
    v2 = deploy_test_request(session, demo["analyst"], **{
        '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="register" />':
            '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="compute_fee" />',
        '<bpmn:incoming>f_register</bpmn:incoming>': "<bpmn:incoming>f_start</bpmn:incoming>",
        "<bpmn:flowNodeRef>register</bpmn:flowNodeRef>": ""})
    refused = migration.migrate_all(session, demo["admin"], v1.id, v2.id, dry_run=True)
    assert [(c.can_move, "register" in c.reason) for c in refused] == [(False, True), (False, True)]
    with pytest.raises(Conflict):
        migration.migrate(session, demo["admin"], at_register.id, v2.id)
    # v3 renames the approval and drops the final script, which neither has reached: both move.
    v3 = deploy_test_request(session, demo["analyst"], **{
        'name="تأیید فنی"': 'name="تأیید فنی (نسخه ۳)"',
        '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="record" />':
            '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="end" />',
        '<bpmn:incoming>f_end</bpmn:incoming>': "<bpmn:incoming>f_approved</bpmn:incoming>",
        "<bpmn:flowNodeRef>record</bpmn:flowNodeRef>": ""})
    v3.bpmn = v3.bpmn  # loaded, not changed
    dry = migration.migrate_all(session, demo["admin"], v1.id, v3.id, dry_run=True)
    assert [c.can_move for c in dry] == [True, True] and at_approve.version_id == v1.id  # dry: nothing moved
    moved = migration.migrate_all(session, demo["admin"], v1.id, v3.id, dry_run=False)
    assert [c.can_move for c in moved] == [True, True]
    assert (at_approve.version_id, at_register.version_id) == (v3.id, v3.id)
    [approve] = _open_items(session, at_approve)
    cartable.complete(session, demo["engineer"], approve.id, {"approved": True})
    assert at_approve.status == "completed" and "migrated" in _actions(session, at_approve)


def test_move_token_back_and_edit_the_data_are_recorded(session, demo, started):
    [item] = _open_items(session, started)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    [approve] = _open_items(session, started)
    with pytest.raises(Conflict):
        admin.move_token(session, demo["admin"], started.id, "record", "جلو رفتن مجاز نیست")  # not passed yet
    admin.set_data(session, demo["admin"], started.id, {"applicant": "رضا رضایی"}, "اصلاح نام متقاضی")
    admin.move_token(session, demo["admin"], started.id, "register", "ظرفیت اشتباه ثبت شده")
    [again] = _open_items(session, started)
    assert again.task_name == "register" and approve.status == "cancelled"
    changed = session.scalar(select(InstanceEvent).where(InstanceEvent.action == "data_changed"))
    assert changed.data == {"applicant": ["رضا", "رضا رضایی"]} and changed.note == "اصلاح نام متقاضی"
    assert "moved" in _actions(session, started)


def test_metrics_count_versions_and_time_steps(session, demo, started):
    from engine import metrics

    [item] = _open_items(session, started)
    cartable.claim(session, demo["clerk"], item.id)
    item.created_at = item.claimed_at - timedelta(hours=2)  # it waited two hours before being taken
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    [approve] = _open_items(session, started)
    cartable.complete(session, demo["engineer"], approve.id, {"approved": True})
    summary = metrics.version_summary(session, started.version_id)
    assert (summary["started"], summary["completed"]) == (1, 1)
    steps = {m.task_name: m for m in metrics.step_metrics(session, started.version_id)}
    assert set(steps) == {"register", "approve"}
    assert 1.99 < steps["register"].waiting_avg_h < 2.01 and steps["register"].count == 1
