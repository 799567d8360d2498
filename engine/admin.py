"""Repairs for admins: suspend, resume, terminate, retry, skip, reassign, and finding stuck instances.
Each is recorded in the instance's event log; the caller checks permission and commits."""

from dataclasses import dataclass
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from core.audit import audit
from core.db import utcnow
from core.errors import Conflict, DomainError
from engine.events import record
from engine.models import (
    OPEN_STATUSES,
    Instance,
    InstanceStatus,
    MessageWait,
    Timer,
    TimerStatus,
    WorkItem,
    WorkItemStatus,
)
from engine.runtime import advance, flush_or_conflict, lock, require_open


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise DomainError("field.required", field="reason")
    return reason.strip()


def suspend(session, actor, instance_id: int, reason: str) -> Instance:
    instance = lock(session, instance_id)
    require_open(instance)
    instance.suspended_from, instance.status = instance.status, InstanceStatus.SUSPENDED
    record(session, instance, actor, "suspended", note=_reason(reason))
    audit(session, actor, "instance.suspended", instance, reason=reason)
    flush_or_conflict(session)
    return instance


def resume(session, actor, instance_id: int) -> Instance:
    instance = lock(session, instance_id)
    if instance.status != InstanceStatus.SUSPENDED:
        raise Conflict("instance.not_suspended")
    instance.status, instance.suspended_from = instance.suspended_from or InstanceStatus.RUNNING, None
    record(session, instance, actor, "resumed")
    audit(session, actor, "instance.resumed", instance)
    flush_or_conflict(session)
    return instance


def terminate(session, actor, instance_id: int, reason: str) -> Instance:
    instance = lock(session, instance_id)
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        raise Conflict("instance.closed", status=instance.status)
    reason = _reason(reason)
    for item in session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                      WorkItem.status == WorkItemStatus.OPEN)):
        item.status = WorkItemStatus.CANCELLED
    for timer in session.scalars(select(Timer).where(Timer.instance_id == instance.id,
                                                    Timer.status == TimerStatus.PENDING)):
        timer.status = TimerStatus.CANCELLED
    for wait in session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id)):
        session.delete(wait)
    instance.status, instance.completed_at = InstanceStatus.TERMINATED, utcnow()
    record(session, instance, actor, "terminated", note=reason)
    audit(session, actor, "instance.terminated", instance, reason=reason)
    flush_or_conflict(session)
    return instance


def retry(session, actor, instance_id: int) -> Instance:
    """Run the failed step again (after the cause was fixed)."""
    instance = lock(session, instance_id)
    if instance.status != InstanceStatus.ERROR:
        raise Conflict("instance.not_in_error")
    record(session, instance, actor, "retried", instance.error_task)
    audit(session, actor, "instance.retried", instance, task=instance.error_task)
    advance(session, instance, actor)
    flush_or_conflict(session)
    return instance


def skip(session, actor, instance_id: int, reason: str, data: dict | None = None) -> Instance:
    """Mark the failed task done without running it, optionally giving the data it would have produced."""
    instance = lock(session, instance_id)
    if instance.status != InstanceStatus.ERROR or not instance.error_task:
        raise Conflict("instance.not_in_error")
    reason, task_name = _reason(reason), instance.error_task

    def mark_done(workflow):
        tasks = [t for t in workflow.get_tasks(state=TaskState.READY)
                 if (t.task_spec.bpmn_id or t.task_spec.name) == task_name]
        if not tasks:
            raise Conflict("task.gone", task_id=task_name)
        tasks[0].data.update(data or {})
        tasks[0].complete()

    advance(session, instance, actor, prepare=mark_done)
    record(session, instance, actor, "skipped", task_name, note=reason, data=data or {})
    audit(session, actor, "instance.task_skipped", instance, task=task_name, reason=reason)
    flush_or_conflict(session)
    return instance


def reassign(session, actor, work_item_id: int, to_user) -> WorkItem:
    item = session.get(WorkItem, work_item_id)
    if item is None:
        raise DomainError("work_item.unknown", work_item_id=work_item_id)
    instance = lock(session, item.instance_id)
    session.refresh(item)
    if item.status != WorkItemStatus.OPEN:
        raise Conflict("work_item.done", status=item.status)
    previous = item.claimed_by_id or item.assignee_id
    item.assignee_id = item.claimed_by_id = to_user.id
    item.claimed_at = utcnow()
    record(session, instance, actor, "reassigned", item.task_name, item,
           data={"from_user_id": previous, "to_user": to_user.username})
    audit(session, actor, "work_item.reassigned", item, to_user=to_user.username)
    flush_or_conflict(session)
    return item


@dataclass(frozen=True)
class Stuck:
    instance: Instance
    reason: str  # error | overdue_work | no_progress | overdue_timer | long_message_wait
    detail: str
    step: str | None = None  # the task concerned, where there is one


def stuck_instances(session, *, no_progress_hours: float = 24, message_wait_hours: float = 72,
                    timer_grace_minutes: float = 10, now=None) -> list[Stuck]:
    """Every open instance that needs an admin's look, each with the reason it is listed."""
    now = now or utcnow()
    found: list[Stuck] = []
    for instance in session.scalars(select(Instance).where(Instance.status == InstanceStatus.ERROR)):
        found.append(Stuck(instance, "error", f"{instance.error_task}: {instance.error_message}", instance.error_task))
    overdue = session.execute(select(WorkItem, Instance).join(Instance, WorkItem.instance_id == Instance.id).where(
        WorkItem.status == WorkItemStatus.OPEN, WorkItem.due_at < now, Instance.status.in_(OPEN_STATUSES)))
    for item, instance in overdue:
        found.append(Stuck(instance, "overdue_work", f"{item.task_name} due {item.due_at.isoformat()}", item.task_name))
    idle = session.scalars(select(Instance).where(
        Instance.status.in_((InstanceStatus.RUNNING, InstanceStatus.WAITING)),
        Instance.last_progress_at < now - timedelta(hours=no_progress_hours)))
    for instance in idle:
        found.append(Stuck(instance, "no_progress", f"last progress {instance.last_progress_at.isoformat()}"))
    late = session.execute(select(Timer, Instance).join(Instance, Timer.instance_id == Instance.id).where(
        Timer.status == TimerStatus.PENDING, Timer.due_at < now - timedelta(minutes=timer_grace_minutes),
        Instance.status != InstanceStatus.SUSPENDED))
    for timer, instance in late:
        found.append(Stuck(instance, "overdue_timer", f"{timer.task_name} was due {timer.due_at.isoformat()}",
                           timer.task_name))
    waiting = session.execute(select(MessageWait, Instance).join(Instance, MessageWait.instance_id == Instance.id)
                              .where(MessageWait.created_at < now - timedelta(hours=message_wait_hours)))
    for wait, instance in waiting:
        found.append(Stuck(instance, "long_message_wait", f"{wait.name} since {wait.created_at.isoformat()}"))
    return found


def move_token(session, actor, instance_id: int, task_name: str, reason: str) -> Instance:
    """Send the instance back to a step it has already passed (its work there is done again).
    Moving forward past unfinished steps is refused: skipping them one by one keeps the record honest."""
    instance = lock(session, instance_id)
    require_open(instance)
    reason = _reason(reason)

    def move(workflow):
        passed = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
                  if (t.task_spec.bpmn_id or t.task_spec.name) == task_name]
        if not passed:
            raise Conflict("instance.cannot_move_token", task=task_name)
        workflow.reset_from_task_id(passed[-1].id)
        for task in list(workflow.event_manager.tasks.values()):
            if task.parent is None or task.id not in task.workflow.tasks:
                workflow.event_manager.remove_task(task)  # see cartable.return_to_previous

    advance(session, instance, actor, prepare=move)
    record(session, instance, actor, "moved", task_name, note=reason)
    audit(session, actor, "instance.token_moved", instance, task=task_name, reason=reason)
    flush_or_conflict(session)
    return instance


def set_data(session, actor, instance_id: int, changes: dict, reason: str) -> Instance:
    """Correct the case's data (e.g. a mistyped subscription number): written to the tasks that are
    ready or waiting, so the next steps see it; the before and after go to the event log and the audit."""
    instance = lock(session, instance_id)
    require_open(instance)
    reason = _reason(reason)
    before: dict = {}

    def change(workflow):
        current = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING) or [workflow.last_task]
        for task in current:
            if task is None:
                continue
            for key, value in changes.items():
                before.setdefault(key, task.data.get(key))
                task.data[key] = value

    advance(session, instance, actor, prepare=change)
    diff = {key: [before.get(key), value] for key, value in changes.items()}
    record(session, instance, actor, "data_changed", note=reason, data=diff)
    audit(session, actor, "instance.data_changed", instance, changes=diff, reason=reason)
    flush_or_conflict(session)
    return instance
