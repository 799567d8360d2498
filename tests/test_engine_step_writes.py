"""A step's writes in one statement (PostgreSQL): items that stay ready are left as they are, new ones get
their notices, the completed item and the events land with the instance's new state."""

from sqlalchemy import func, select

from engine import cartable, runtime
from engine.catalogue import deploy
from engine.models import InstanceEvent, Notification, WorkItem
from tests.engine_support import read_forms, region

PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="parallel_definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="test_parallel" name="دو کار هم‌زمان" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_clerk" name="counter_clerk">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>split</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>register</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>join</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_engineer" name="engineer">
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split">
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_a</bpmn:outgoing>
      <bpmn:outgoing>f_b</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f_a" sourceRef="split" targetRef="register" />
    <bpmn:sequenceFlow id="f_b" sourceRef="split" targetRef="approve" />
    <bpmn:userTask id="register" name="ثبت">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="test_register" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_a</bpmn:incoming><bpmn:outgoing>f_a2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="approve" name="تأیید">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="test_approve" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_b</bpmn:incoming><bpmn:outgoing>f_b2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_a2" sourceRef="register" targetRef="join" />
    <bpmn:sequenceFlow id="f_b2" sourceRef="approve" targetRef="join" />
    <bpmn:parallelGateway id="join">
      <bpmn:incoming>f_a2</bpmn:incoming>
      <bpmn:incoming>f_b2</bpmn:incoming>
      <bpmn:outgoing>f_end</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f_end" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def _items(session, instance):
    return {item.task_name: item for item in session.scalars(
        select(WorkItem).where(WorkItem.instance_id == instance.id).order_by(WorkItem.id))}


def _notices(session, instance):
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.instance_id == instance.id))


def test_an_item_still_ready_stays_as_it_is_and_the_completed_one_lands_with_its_event(session, demo):
    deploy(session, demo["analyst"], PARALLEL, read_forms("test_register", "test_approve"), source="parallel.bpmn")
    instance = runtime.start_instance(session, demo["clerk"], "test_parallel", region(session, "shiraz-1"),
                                      data={"capacity": 5})
    items = _items(session, instance)
    assert set(items) == {"register", "approve"} and {i.status for i in items.values()} == {"open"}
    assert runtime.opened_items(session, instance.id) == sorted(item.id for item in items.values())
    assert {items["register"].role_code, items["approve"].role_code} == {"counter_clerk", "engineer"}
    notices = _notices(session, instance)
    assert notices >= 2  # each new item told its role's holders in the region

    cartable.complete(session, demo["clerk"], items["register"].id, {"capacity": 7})
    assert items["register"].status == "completed" and items["register"].completed_by_id == demo["clerk"].id
    after = _items(session, instance)
    assert after["approve"].id == items["approve"].id and after["approve"].status == "open"  # left as it was
    assert len(after) == 2 and _notices(session, instance) == notices  # no second item, no second notice
    assert runtime.opened_items(session, instance.id) == []  # the one still open was opened before
    assert instance.status == "running"
    completed = session.scalar(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id,
                                                           InstanceEvent.action == "completed"))
    assert completed.data == {"capacity": [5, 7]} and completed.work_item_id == items["register"].id

    version = instance.lock_version
    cartable.complete(session, demo["engineer"], items["approve"].id, {"approved": True})
    assert instance.status == "completed" and instance.lock_version == version + 1
    session.expire_all()  # as stored: the completion was written with the step's other writes
    assert (instance.status, instance.lock_version) == ("completed", version + 1) and instance.completed_at
    assert {i.status for i in _items(session, instance).values()} == {"completed"}
    actions = [e.action for e in session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id == instance.id).order_by(InstanceEvent.id))]
    assert actions == ["started", "completed", "completed"]
