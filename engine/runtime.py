"""Running instances: start, advance under a row lock, and keep work items, timers and message waits
in step with the workflow. Every function flushes; the caller commits (one commit per action)."""

from datetime import datetime, timedelta
from uuid import UUID

import jdatetime
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from core.db import utcnow
from core.errors import Conflict, DomainError
from core.jalali import as_tehran
from core.regions import Region
from engine import state
from engine.catalogue import catches_events, latest_version
from engine.events import record
from engine.models import (
    BusinessKeySequence,
    Instance,
    InstanceStatus,
    MessageWait,
    Timer,
    TimerStatus,
    WorkItem,
    WorkItemStatus,
)
from engine.notifications import notify_new_item
from engine.script_engine import current_step
from engine.validation import parse_duration

DEFAULT_RETRY_BACKOFF_BASE = 2


def next_business_key(session) -> str:
    """`1405-000123`: the Jalali year and a sequence that restarts each year. One UPDATE … RETURNING bumps
    the year's counter and keeps its row locked until the transaction ends, so numbers are never shared."""
    year = jdatetime.date.fromgregorian(date=as_tehran(utcnow()).date()).year
    last = session.execute(_BUMP_COUNTER, {"this_year": year}).scalar()
    if last is None:  # the year's first request
        try:
            with session.begin_nested():
                session.execute(insert(_COUNTERS).values(year=year, last=0))
        except IntegrityError:
            pass  # another request created this year's row first: its lock orders us after it
        last = session.execute(_BUMP_COUNTER, {"this_year": year}).scalar_one()
    return f"{year}-{last:06d}"


def _fresh_workflow(version, data: dict | None):
    workflow = state.new_workflow(version)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data or {})
    return workflow


def start_instance(session, actor, process_key: str, region: Region, data: dict | None = None,
                   subscriber_id: int | None = None, contract_id: int | None = None) -> Instance:
    version = latest_version(session, process_key)
    instance = Instance(
        version_id=version.id, version=version, process_key=version.process_key,
        business_key=next_business_key(session), status=InstanceStatus.RUNNING, region_id=region.id,
        subscriber_id=subscriber_id, contract_id=contract_id, initiator_id=getattr(actor, "id", None),
        state=b"",  # written by the first step, in this same transaction
    )
    session.add(instance)
    session.flush()
    record(session, instance, actor, "started", data=data or {})
    advance(session, instance, actor, _fresh_workflow(version, data),
            rebuild=lambda: _fresh_workflow(version, data))
    return instance


# The statements of every step, built once: constructing a statement costs more client time than running it.
_COUNTERS = BusinessKeySequence.__table__
_BUMP_COUNTER = (update(_COUNTERS).where(_COUNTERS.c.year == bindparam("this_year"))
                 .values(last=_COUNTERS.c.last + 1).returning(_COUNTERS.c.last))
_LOCK = (select(Instance).where(Instance.id == bindparam("instance_id")).options(joinedload(Instance.version))
         .with_for_update(of=Instance).execution_options(populate_existing=True))
_LOCK_ITEM = (select(Instance, WorkItem).join(WorkItem, WorkItem.instance_id == Instance.id)
              .where(WorkItem.id == bindparam("work_item_id")).options(joinedload(Instance.version))
              .with_for_update(of=(Instance.__table__, WorkItem.__table__)).execution_options(populate_existing=True))
_OPEN_ITEMS = select(WorkItem).where(WorkItem.instance_id == bindparam("instance_id"),
                                     WorkItem.status == WorkItemStatus.OPEN)
_INSERT_ITEMS = insert(WorkItem.__table__).returning(WorkItem.__table__.c.id, sort_by_parameter_order=True)


def lock(session, instance_id: int) -> Instance:
    """The instance row, locked until the transaction ends: every change to an instance goes through here.
    Its version comes in the same round trip."""
    instance = session.scalar(_LOCK, {"instance_id": instance_id})
    if instance is None:
        raise DomainError("instance.unknown", instance_id=instance_id)
    return instance


def lock_item(session, work_item_id: int) -> tuple[Instance, WorkItem]:
    """A work item and its instance, both rows locked and read in one round trip. Whoever waited for the
    locks reads the rows as the transaction before it left them (PostgreSQL re-reads locked rows)."""
    row = session.execute(_LOCK_ITEM, {"work_item_id": work_item_id}).one_or_none()
    if row is None:
        raise DomainError("work_item.unknown", work_item_id=work_item_id)
    return row


def require_open(instance: Instance) -> None:
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        raise Conflict("instance.closed", status=instance.status)
    if instance.status == InstanceStatus.SUSPENDED:
        raise Conflict("instance.suspended")


def advance(session, instance: Instance, actor, workflow=None, prepare=None, rebuild=None) -> None:
    """Run the engine as far as it goes. If a service task or script fails, nothing the engine steps did
    is kept (the first service task opens a savepoint: operations are the only writers while the steps
    run), the instance keeps the state it had before them and goes to `error` (or waits for a retry when
    the diagram asks for retries). `rebuild` gives the workflow as it was before this call (by default:
    deserialised from the instance's stored state)."""
    stored = instance.state
    workflow = workflow or state.checkout(instance)
    if prepare is not None:
        prepare(workflow)  # the caller's change (a completed form, a caught message): always kept
    step = {"session": session, "instance": instance, "actor": actor, "savepoint": None}
    token = current_step.set(step)
    try:
        workflow.do_engine_steps()
    except (SpiffWorkflowException, DomainError) as exc:
        if step["savepoint"] is not None:
            step["savepoint"].rollback()
        # Rebuild the state the caller's change produced (the failed steps are gone with the savepoint).
        before = rebuild() if rebuild is not None else state.load(instance.version, stored)
        if prepare is not None:
            prepare(before)
        _fail(session, instance, actor, before, exc)
        return
    finally:
        current_step.reset(token)
    _sync(session, instance, workflow)
    _store(session, instance, workflow)
    instance.error_task = instance.error_message = None
    session.flush()
    if step["savepoint"] is not None:
        step["savepoint"].commit()


def _store(session, instance, workflow) -> None:
    """The instance's new state, in the one UPDATE of its row this step makes."""
    stored = state.dump(workflow)
    instance.state, instance.last_progress_at = stored, utcnow()
    state.checkin(session, instance, workflow, stored)


def _fail(session, instance, actor, workflow, exc) -> None:
    task = getattr(exc, "task", None)
    task_name = (task.task_spec.bpmn_id or task.task_spec.name) if task is not None else None
    message = str(exc)
    _sync(session, instance, workflow)  # the work items etc. as they were before the failed step
    _store(session, instance, workflow)
    instance.error_task, instance.error_message = task_name, message[:4000]
    retries = getattr(task.task_spec, "retries", None) if task is not None else None
    attempts = 1 + len(session.scalars(select(Timer.id).where(
        Timer.instance_id == instance.id, Timer.kind == "retry", Timer.task_id == str(task.id))).all()
    ) if task is not None else 1
    if retries and attempts <= retries:
        base = getattr(task.task_spec, "retry_backoff_base", None) or DEFAULT_RETRY_BACKOFF_BASE
        due = utcnow() + timedelta(seconds=base ** attempts)
        session.add(Timer(instance_id=instance.id, task_id=str(task.id), task_name=task_name, kind="retry",
                          due_at=due))
        instance.status = InstanceStatus.WAITING
        record(session, instance, actor, "retry_scheduled", task_name=task_name, note=message,
               data={"attempt": attempts, "of": retries, "due_at": due.isoformat()})
    else:
        instance.status = InstanceStatus.ERROR
        record(session, instance, actor, "failed", task_name=task_name, note=message)
    session.flush()


def ready_user_tasks(workflow):
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _sync(session, instance: Instance, workflow) -> None:
    """Bring work items, timers and message waits in line with the workflow's ready and waiting tasks."""
    now = utcnow()
    ready = {str(task.id): task for task in ready_user_tasks(workflow)}
    open_items = {} if not instance.state else {  # b"": just started, nothing to read
        item.task_id: item for item in session.scalars(_OPEN_ITEMS, {"instance_id": instance.id})}
    for task_id, item in open_items.items():
        if task_id not in ready:
            item.status = WorkItemStatus.CANCELLED
    new_items = [_work_item(instance, task, now) for task_id, task in ready.items() if task_id not in open_items]
    if new_items:
        ids = session.execute(_INSERT_ITEMS, new_items).scalars().all()
        for item_id, item in zip(ids, new_items, strict=True):
            notify_new_item(session, {**item, "id": item_id})

    waiting = {str(task.id): task for task in workflow.event_manager.tasks.values()}
    if waiting or catches_events(instance.version):
        _sync_waits(session, instance, waiting)
    if workflow.is_completed():
        instance.status, instance.completed_at = InstanceStatus.COMPLETED, now
    elif instance.status not in (InstanceStatus.SUSPENDED, InstanceStatus.TERMINATED):
        instance.status = InstanceStatus.RUNNING if ready else InstanceStatus.WAITING


def _sync_waits(session, instance: Instance, waiting: dict) -> None:
    timers = {t.task_id: t for t in session.scalars(select(Timer).where(
        Timer.instance_id == instance.id, Timer.kind == "timer", Timer.status == TimerStatus.PENDING))}
    waits = {w.task_id: w for w in session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id))}
    for task_id, task in waiting.items():
        definition = task.task_spec.event_definition
        kind = type(definition).__name__
        if "Timer" in kind and task_id not in timers:
            due = datetime.fromisoformat(definition.details(task).value)
            session.add(Timer(instance_id=instance.id, task_id=task_id, task_name=_task_name(task), due_at=due))
        elif "Message" in kind and task_id not in waits:
            session.add(MessageWait(instance_id=instance.id, task_id=task_id, name=definition.name,
                                    business_key=instance.business_key, contract_id=instance.contract_id))
    for task_id, timer in timers.items():
        if task_id not in waiting:
            timer.status = TimerStatus.CANCELLED
    for task_id, wait in waits.items():
        if task_id not in waiting:
            session.delete(wait)


def _task_name(task) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def _work_item(instance: Instance, task, now) -> dict:
    """The row of a new work item (inserted with Core: nothing in the step reads it back as an object)."""
    properties = task.task_spec.extensions.get("properties", {})
    sla = properties.get("sla")
    return {
        "instance_id": instance.id, "task_id": str(task.id), "task_name": _task_name(task),
        "title": task.task_spec.bpmn_name or _task_name(task), "role_code": task.task_spec.lane or "",
        "region_id": instance.region_id, "form_key": properties.get("formKey"),
        "due_at": now + parse_duration(sla) if sla else None, "created_at": now, "status": WorkItemStatus.OPEN,
        "assignee_id": None,
    }


def task_of(workflow, task_id: str):
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None:
        raise Conflict("task.gone", task_id=task_id)
    return task


def flush_or_conflict(session) -> None:
    """Optimistic check on top of the row lock (SQLite has no FOR UPDATE): a stale instance is a conflict."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("instance.changed") from exc
