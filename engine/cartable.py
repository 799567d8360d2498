"""What experts do to work items: claim, unclaim, complete, refer (ارجاع), return, comment."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from core.accounts import Assignment, Role, User
from core.db import utcnow
from core.errors import Conflict, DomainError, PermissionDenied
from core.regions import Region
from engine import fastsql
from engine.events import event_row, record
from engine.models import InstanceEvent, WorkItem, WorkItemStatus
from engine.notifications import notify, notify_role
from engine.runtime import advance, flush_or_conflict, lock, lock_item, lock_item_for, require_open, task_of


def _open_item(session, work_item_id: int):
    """Lock the item and its instance: the lock orders concurrent actions on one case."""
    instance, item = lock_item(session, work_item_id)
    require_open(instance)
    if item.status != WorkItemStatus.OPEN:
        raise Conflict("work_item.done", status=item.status)
    return instance, item


def may_work_on(session, user, item: WorkItem, holds_role: bool | None = None) -> bool:
    """`holds_role`: whether the user holds the item's role in its region, when already read with the item."""
    if item.assignee_id is not None:
        return item.assignee_id == user.id
    if item.claimed_by_id is not None and item.claimed_by_id != user.id:
        return False
    if holds_role is not None:
        return holds_role
    return holds_role_in(session, user, item.role_code, item.region_id)


def holds_role_in(session, user, role_code: str, region_id: int) -> bool:
    """Whether the user holds the role in this region or in one above it (one query)."""
    return session.scalar(_HOLDS_ROLE, {"user_id": user.id, "role_code": role_code, "region_id": region_id}) is not None


_HERE = aliased(Region)
# Built once: constructing a statement costs more client time than running it here.
_HOLDS_ROLE = (select(Assignment.id).join(Role, Assignment.role_id == Role.id)
               .join(Region, Assignment.region_id == Region.id).join(_HERE, _HERE.id == bindparam("region_id"))
               .where(Assignment.user_id == bindparam("user_id"), Role.code == bindparam("role_code"),
                      _HERE.path.startswith(Region.path)).limit(1))


def _open_item_for(session, user, work_item_id: int):
    """`_open_item` and `_require_may_work` in one round trip (on PostgreSQL); also the operations already
    applied for the instance (None: not read)."""
    if not fastsql.on_postgresql(session):
        instance, item = _open_item(session, work_item_id)
        _require_may_work(session, user, item)
        return instance, item, None
    instance, item, holds_role, known_runs = lock_item_for(session, work_item_id, user.id)
    require_open(instance)
    if item.status != WorkItemStatus.OPEN:
        raise Conflict("work_item.done", status=item.status)
    _require_may_work(session, user, item, holds_role)
    return instance, item, known_runs


def _require_may_work(session, user, item, holds_role: bool | None = None):
    if not may_work_on(session, user, item, holds_role):
        if item.assignee_id is None and item.claimed_by_id and item.claimed_by_id != user.id:
            raise Conflict("work_item.claimed_by_other")
        raise PermissionDenied("work_item.not_yours")


def claim(session, actor, work_item_id: int) -> WorkItem:
    instance, item = _open_item(session, work_item_id)
    _require_may_work(session, actor, item)
    item.claimed_by_id, item.claimed_at = actor.id, utcnow()
    record(session, instance, actor, "claimed", item.task_name, item)
    flush_or_conflict(session)
    return item


def unclaim(session, actor, work_item_id: int) -> WorkItem:
    instance, item = _open_item(session, work_item_id)
    if item.claimed_by_id != actor.id:
        raise PermissionDenied("work_item.not_yours")
    item.claimed_by_id = item.claimed_at = None
    record(session, instance, actor, "unclaimed", item.task_name, item)
    flush_or_conflict(session)
    return item


def complete(session, actor, work_item_id: int, form_data: dict):
    """Complete the task with the form's data and run the engine on. Two experts completing the same
    item: the second waits for the first's lock, then finds the item done and gets a Conflict."""
    session = fastsql.real_session(session)  # looked up once, not at each of the step's uses
    instance, item, known_runs = _open_item_for(session, actor, work_item_id)
    completed = event_row(instance, actor, "completed", item.task_name, item, data={})

    def apply(workflow):
        task = task_of(workflow, item.task_id)
        completed["data"] = {key: [task.data.get(key), value] for key, value in form_data.items()
                             if task.data.get(key) != value}  # what the form changed
        task.data.update(form_data)
        task.run()

    # The item's completion and the event are written with the step's writes (one round trip on PostgreSQL).
    advance(session, instance, actor, prepare=apply, events=[completed], completed_item=(item, actor.id),
            known_runs=known_runs)
    flush_or_conflict(session)
    return instance


def refer(session, actor, work_item_id: int, *, to_user: User | None = None, to_role: str | None = None,
          note: str = "") -> WorkItem:
    """ارجاع: hand the item to a named user or to everyone holding a role, with a note."""
    instance, item = _open_item(session, work_item_id)
    _require_may_work(session, actor, item)
    if (to_user is None) == (to_role is None):
        raise DomainError("work_item.refer_to_one", field="to")
    if to_role is not None and session.scalar(select(Role.id).where(Role.code == to_role)) is None:
        raise DomainError("role.unknown", field="to_role", role=to_role)
    item.assignee_id = to_user.id if to_user else None
    item.role_code = to_role or item.role_code
    item.claimed_by_id = to_user.id if to_user else None
    item.claimed_at = utcnow() if to_user else None
    item.note = note or None
    if to_user is not None:
        notify(session, [to_user.id], "referred", item, note)
    else:
        notify_role(session, to_role, "referred", item, note)
    record(session, instance, actor, "referred", item.task_name, item, note=note,
           data={"to_user": getattr(to_user, "username", None), "to_role": to_role})
    flush_or_conflict(session)
    return item


def return_to_previous(session, actor, work_item_id: int, note: str):
    """Send the case back to the previous user task, to the expert who did it, with the reason."""
    if not (note or "").strip():
        raise DomainError("field.required", field="note")
    instance, item = _open_item(session, work_item_id)
    _require_may_work(session, actor, item)
    previous = session.scalar(
        select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == WorkItemStatus.COMPLETED,
                               WorkItem.task_name != item.task_name)
        .order_by(WorkItem.completed_at.desc(), WorkItem.id.desc()).limit(1))
    if previous is None:
        raise Conflict("work_item.nothing_before")

    def reset(workflow):
        workflow.reset_from_task_id(task_of(workflow, previous.task_id).id)
        # SpiffWorkflow 3.2 leaves the dropped branch's waiting events (e.g. a boundary timer of the
        # task being returned) registered; they would fire on a task that no longer exists.
        for task in list(workflow.event_manager.tasks.values()):
            if task.parent is None or task.id not in task.workflow.tasks:
                workflow.event_manager.remove_task(task)

    advance(session, instance, actor, prepare=reset)
    reopened = session.scalar(select(WorkItem).where(
        WorkItem.instance_id == instance.id, WorkItem.task_id == previous.task_id,
        WorkItem.status == WorkItemStatus.OPEN))
    if reopened is not None and previous.completed_by_id:
        reopened.assignee_id = reopened.claimed_by_id = previous.completed_by_id
        reopened.note = note
        notify(session, [previous.completed_by_id], "returned", reopened, note)
    record(session, instance, actor, "returned", item.task_name, item, note=note,
           data={"to_task": previous.task_name})
    flush_or_conflict(session)
    return reopened


def save_draft(session, actor, work_item_id: int, values: dict) -> WorkItem:
    """Keep what the expert typed without submitting it; only she (or whoever holds the item) sees it."""
    _instance, item = _open_item(session, work_item_id)
    _require_may_work(session, actor, item)
    item.draft = values
    if item.claimed_by_id is None:
        item.claimed_by_id, item.claimed_at = actor.id, utcnow()
    flush_or_conflict(session)
    return item


def comment(session, actor, instance_id: int, note: str, work_item: WorkItem | None = None) -> InstanceEvent:
    if not (note or "").strip():
        raise DomainError("field.required", field="note")
    instance = lock(session, instance_id)
    event_id = record(session, instance, actor, "commented", getattr(work_item, "task_name", None), work_item,
                      note=note.strip())
    flush_or_conflict(session)
    return session.get(InstanceEvent, event_id)
