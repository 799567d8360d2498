"""Messages into waiting instances, correlated by business key or contract."""

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from sqlalchemy import or_, select

from engine.events import record
from engine.models import InstanceStatus, MessageWait
from engine.runtime import advance, lock, task_of


def send_message(session, actor, name: str, correlation: str | int, payload: dict | None = None) -> list[int]:
    """Deliver `name` to every instance waiting for it whose business key (or contract id) is
    `correlation`; returns the ids of the instances that caught it. The caller commits."""
    payload = payload or {}
    clauses = [MessageWait.business_key == str(correlation)]
    if str(correlation).isdigit():
        clauses.append(MessageWait.contract_id == int(correlation))
    waits = session.scalars(select(MessageWait).where(MessageWait.name == name, or_(*clauses))
                            .order_by(MessageWait.instance_id)).all()
    delivered = []
    for wait in waits:
        instance = lock(session, wait.instance_id)
        if instance.status in (InstanceStatus.SUSPENDED, InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
            continue
        if session.get(MessageWait, wait.id) is None:
            continue  # caught meanwhile by a concurrent delivery

        def catch(workflow, wait=wait):
            task = task_of(workflow, wait.task_id)
            task.data[name] = payload  # the payload travels on with the case's data
            workflow.catch(BpmnEvent(task.task_spec.event_definition, payload))

        advance(session, instance, actor, prepare=catch)
        record(session, instance, actor, "message_caught", note=name, data=payload)
        delivered.append(instance.id)
    session.flush()
    return delivered
