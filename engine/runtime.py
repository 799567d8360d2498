"""Running instances: start, advance under a row lock, and keep work items, timers and message waits
in step with the workflow. Every function flushes; the caller commits (one commit per action)."""

import json
from datetime import datetime, timedelta
from uuid import UUID

import jdatetime
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from core.db import utcnow
from core.errors import Conflict, DomainError
from core.jalali import as_tehran
from core.regions import Region
from engine import fastsql, signals, state, step_sql
from engine.catalogue import catches_events, latest_version
from engine.events import event_row, jsonable, record
from engine.models import (
    BusinessKeySequence,
    Instance,
    InstanceEvent,
    InstanceStatus,
    MessageWait,
    OperationRun,
    ProcessVersion,
    Timer,
    TimerStatus,
    WorkItem,
    WorkItemStatus,
)
from engine.notifications import MAX_FAN_OUT, notify_new_item
from engine.script_engine import current_step
from engine.validation import parse_duration

DEFAULT_RETRY_BACKOFF_BASE = 2


def next_business_key(session) -> str:
    """`1405-000123`: the Jalali year and a sequence that restarts each year. One UPDATE … RETURNING bumps
    the year's counter and keeps its row locked until the transaction ends, so numbers are never shared."""
    year = _jalali_year()
    last = session.connection().execute(_BUMP_COUNTER, {"this_year": year}).scalar()  # Core: no ORM execution
    if last is None:  # the year's first request
        try:
            with session.begin_nested():
                session.execute(insert(_COUNTERS).values(year=year, last=0))
        except IntegrityError:
            pass  # another request created this year's row first: its lock orders us after it
        last = session.execute(_BUMP_COUNTER, {"this_year": year}).scalar_one()
    return f"{year}-{last:06d}"


def _jalali_year() -> int:
    return jdatetime.date.fromgregorian(date=as_tehran(utcnow()).date()).year


def _fresh_workflow(version, data: dict | None):
    workflow = state.new_workflow(version)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data or {})
    return workflow


def start_instance(session, actor, process_key: str, region: Region, data: dict | None = None,
                   subscriber_id: int | None = None, contract_id: int | None = None) -> Instance:
    session = fastsql.real_session(session)  # looked up once, not at each of the step's uses
    session.flush()  # whatever the caller changed through the ORM goes first (a new region has its id then)
    values = {"region_id": region.id, "subscriber_id": subscriber_id, "contract_id": contract_id,
              "initiator_id": getattr(actor, "id", None)}
    instance = _insert_at_once(session, process_key, values) if fastsql.on_postgresql(session) else None
    if instance is None:  # not PostgreSQL, an unknown process (raises here) or the year's first request
        version = latest_version(session, process_key)
        instance = Instance(version_id=version.id, version=version, process_key=version.process_key,
                            business_key=next_business_key(session), status=InstanceStatus.RUNNING,
                            state=b"", **values)  # state: written by the first step, in this same transaction
        session.add(instance)
        session.flush()
    version = instance.version
    advance(session, instance, actor, _fresh_workflow(version, data), rebuild=lambda: _fresh_workflow(version, data),
            events=[event_row(instance, actor, "started", data=data or {})], known_runs={})  # a new instance: none
    return instance


def _insert_at_once(session, process_key: str, values: dict) -> Instance | None:
    """PostgreSQL: the latest version read, the business key numbered and the instance inserted in one statement
    (step_sql.START); None when it found no version or no counter for this year (it wrote nothing then)."""
    params = {**values, "process_key": process_key, "year": _jalali_year(), "now": utcnow()}
    row = fastsql.execute(session, step_sql.START, params).fetchone()
    if row is None:
        return None
    count = len(step_sql.INSTANCE_COLUMNS)
    version = fastsql.adopt(session, ProcessVersion, dict(zip(step_sql.VERSION_COLUMNS, row[count:], strict=True)))
    instance = fastsql.adopt(session, Instance, dict(zip(step_sql.INSTANCE_COLUMNS, row[:count], strict=True)))
    set_committed_value(instance, "version", version)
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


def lock_item_for(session, work_item_id: int, user_id: int, keep: bool = False):
    """PostgreSQL: a work item and its instance locked and read in one round trip (step_sql.LOCK_ITEM_FOR_USER),
    with whether the user holds the item's role in its region, and the operations already applied for the
    instance ({(task id, operation): result}, for `advance`'s `known_runs`). `keep`: the row is kept for the next
    call for the same item and user in the same transaction, which takes it instead of reading again (the web
    edge reads the item it is asked to complete with its lock, then `cartable.complete` locks it: one read)."""
    row = _kept_lock(session, work_item_id, user_id)
    if row is None:
        session.flush()  # whatever the caller changed through the ORM goes first, as an autoflush would
        row = fastsql.execute(session, step_sql.LOCK_ITEM_FOR_USER,
                              {"work_item_id": work_item_id, "user_id": user_id}).fetchone()
        if row is None:
            raise DomainError("work_item.unknown", work_item_id=work_item_id)
        if keep:
            session.info[_KEPT_LOCK] = (_innermost(session), work_item_id, user_id, row)
    instance_end = len(step_sql.INSTANCE_COLUMNS)
    item_end = instance_end + len(step_sql.ITEM_COLUMNS)
    version_end = item_end + len(step_sql.VERSION_COLUMNS)
    version = fastsql.adopt(session, ProcessVersion,
                            dict(zip(step_sql.VERSION_COLUMNS, row[item_end:version_end], strict=True)))
    instance = fastsql.adopt(session, Instance, dict(zip(step_sql.INSTANCE_COLUMNS, row[:instance_end], strict=True)))
    set_committed_value(instance, "version", version)
    item = fastsql.adopt(session, WorkItem, dict(zip(step_sql.ITEM_COLUMNS, row[instance_end:item_end], strict=True)))
    holds_role, runs = row[version_end:]
    return instance, item, holds_role, {(task_id, name): result for task_id, name, result in runs or ()}


_KEPT_LOCK = "madam_engine_kept_lock"  # session.info: (transaction, work item id, user id, the locked read's row)


def _innermost(session):
    return session.get_nested_transaction() or session.get_transaction()


def _kept_lock(session, work_item_id: int, user_id: int):
    """The row `lock_item_for(..., keep=True)` kept, taken once: only in the (innermost) transaction that read it,
    which still holds its locks, and only while the session has changed nothing since (a change may be to the
    item or its instance, which the kept row would not show)."""
    kept = session.info.pop(_KEPT_LOCK, None)
    if kept is None or kept[0] is not _innermost(session) or kept[1:3] != (work_item_id, user_id):
        return None
    if session.new or session.dirty or session.deleted:
        return None
    return kept[3]


@orm_event.listens_for(Session, "after_flush")
def _forget_kept_lock(session, _flush_context) -> None:
    """Whatever a flush wrote may be to the kept item or its instance."""
    session.info.pop(_KEPT_LOCK, None)


def require_open(instance: Instance) -> None:
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        raise Conflict("instance.closed", status=instance.status)
    if instance.status == InstanceStatus.SUSPENDED:
        raise Conflict("instance.suspended")


def advance(session, instance: Instance, actor, workflow=None, prepare=None, rebuild=None, events=(),
            completed_item=None, known_runs: dict | None = None) -> None:
    """Run the engine as far as it goes. If a service task or script fails, nothing the engine steps did
    is kept (the first service task opens a savepoint: operations are the only writers while the steps
    run), the instance keeps the state it had before them and goes to `error` (or waits for a retry when
    the diagram asks for retries). `rebuild` gives the workflow as it was before this call (by default:
    deserialised from the instance's stored state).

    The caller's own writes may travel with the step's: `events` (rows from `events.event_row`, written
    after `prepare` ran, so it may still fill their data) and `completed_item` ((work item, user id): the
    item completed by that user). Like the caller's change they are kept when the steps fail. `known_runs`:
    the operations already applied for the instance, when read with its lock (else each service task asks).
    On PostgreSQL all of a step's writes but the instance row's UPDATE go in one statement (step_sql)."""
    stored = instance.state
    workflow = workflow or state.checkout(instance)
    if prepare is not None:
        prepare(workflow)  # the caller's change (a completed form, a caught message): always kept
    writes = StepWrites(events, completed_item)
    step = {"session": session, "instance": instance, "actor": actor, "savepoint": None, "runs": writes.runs,
            "known_runs": known_runs}
    token = current_step.set(step)
    try:
        workflow.do_engine_steps()
    except (SpiffWorkflowException, DomainError) as exc:
        if step["savepoint"] is not None:
            step["savepoint"].rollback()
        writes.runs.clear()  # the operations' runs go with their writes
        # Rebuild the state the caller's change produced (the failed steps are gone with the savepoint).
        before = rebuild() if rebuild is not None else state.load(instance.version, stored)
        if prepare is not None:
            prepare(before)
        _fail(session, instance, actor, before, exc, writes)
        return
    finally:
        current_step.reset(token)
    _finish(session, instance, workflow, writes)
    if step["savepoint"] is not None:
        step["savepoint"].commit()


def _fail(session, instance, actor, workflow, exc, writes=None) -> None:
    task = getattr(exc, "task", None)
    task_name = (task.task_spec.bpmn_id or task.task_spec.name) if task is not None else None
    message = str(exc)
    # The work items etc. as they were before the failed step, and its error.
    _finish(session, instance, workflow, writes, error=(task_name, message[:4000]))
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


class StepWrites:
    """What a step writes beside the instance row: the caller's events and completed item, and the runs of
    the operations its service tasks applied (collected by the script engine, written with the rest)."""

    __slots__ = ("completed_item", "events", "runs")

    def __init__(self, events=(), completed_item=None):
        self.events, self.completed_item, self.runs = list(events), completed_item, []


def _finish(session, instance: Instance, workflow, writes: StepWrites | None = None, error=None) -> None:
    """Write what the step did: work items, timers and message waits in line with the workflow's ready and
    waiting tasks, the step's other writes, and the instance's new state and status (`error`: (task name,
    message) of a failed step) in the one UPDATE of its row the step makes."""
    writes = writes or StepWrites()
    session.info.pop(_KEPT_LOCK, None)  # the step writes the instance's row and its items
    now = utcnow()
    ready = {str(task.id): task for task in ready_user_tasks(workflow)}
    new_items = [_work_item(instance, task, now) for task in ready.values()]
    waiting = {str(task.id): task for task in workflow.event_manager.tasks.values()}
    if waiting or catches_events(instance.version):
        _sync_waits(session, instance, waiting)  # ORM objects: flushed before the step's other writes
    row = {}
    if workflow.is_completed():
        row["status"], row["completed_at"] = InstanceStatus.COMPLETED, now
    elif instance.status not in (InstanceStatus.SUSPENDED, InstanceStatus.TERMINATED):
        row["status"] = InstanceStatus.RUNNING if ready else InstanceStatus.WAITING
    stored = state.dump(workflow)
    row["state"], row["last_progress_at"] = stored, now
    row["error_task"], row["error_message"] = error or (None, None)
    done = writes.completed_item
    completing = row.get("status") == InstanceStatus.COMPLETED
    if fastsql.on_postgresql(session) and not (done is not None and done[0].task_id in ready):
        opened, reads = _write_at_once(session, instance, now, new_items, writes, row, completing)
    else:
        opened, reads = _write_apart(session, instance, now, ready, new_items, writes), None
        for key, value in row.items():
            setattr(instance, key, value)
        session.flush()
    session.info[_OPENED] = (instance.id, opened)
    state.checkin(session, instance, workflow, stored)
    if completing:  # the row is written: receivers (the webhooks) see it completed
        signals.instance_completed.send(None, session=session, instance=instance, reads=reads)


_OPENED = "madam_engine_opened_items"  # session.info: (instance id, ids of the work items its latest step opened)


def opened_items(session, instance_id: int) -> list[int]:
    """The ids of the work items that the session's latest step opened, if that step was the instance's (an
    item still open from before is not among them): where its next action is, without reading for it."""
    instance_of, ids = fastsql.real_session(session).info.get(_OPENED, (None, []))
    return list(ids) if instance_of == instance_id else []


def _write_apart(session, instance: Instance, now, ready: dict, new_items: list, writes: StepWrites) -> None:
    """One statement per kind of write (SQLite; or an item completed whose task is ready again)."""
    if writes.completed_item is not None:
        item, user_id = writes.completed_item
        item.status, item.completed_by_id, item.completed_at = WorkItemStatus.COMPLETED, user_id, now
        item.claimed_by_id = item.claimed_by_id or user_id
    open_items = {} if not instance.state else {  # b"": just started, nothing to read
        item.task_id: item for item in session.scalars(_OPEN_ITEMS, {"instance_id": instance.id})}
    for task_id, item in open_items.items():
        if task_id not in ready:
            item.status = WorkItemStatus.CANCELLED
    new_items = [item for item in new_items if item["task_id"] not in open_items]
    ids = []
    if new_items:
        ids = session.execute(_INSERT_ITEMS, new_items).scalars().all()
        for item_id, item in zip(ids, new_items, strict=True):
            notify_new_item(session, {**item, "id": item_id})
    if writes.events:
        session.execute(insert(InstanceEvent.__table__),
                        [{**event, "data": jsonable(event["data"])} for event in writes.events])
    if writes.runs:
        session.execute(insert(OperationRun.__table__), writes.runs)
    return sorted(ids)


def _write_at_once(session, instance: Instance, now, new_items: list, writes: StepWrites, row: dict,
                   completing: bool) -> tuple[list[int], dict | None]:
    """`row`: the instance's new values; `completing`: they complete it (the statement then makes the reads the
    receivers of `signals.instance_completed` asked for). Returns the ids of the items opened, and those reads."""
    session.flush()  # whatever the caller changed through the ORM goes first, as an autoflush would
    done = writes.completed_item
    params = {"instance_id": instance.id, "region_id": instance.region_id, "now": now, "fan_out": MAX_FAN_OUT}
    params.update(lock_version=instance.lock_version, status=str(row.get("status", instance.status)),
                  state=row["state"], error_task=row["error_task"], error_message=row["error_message"])
    if done is not None:
        params["done_id"], params["done_by"] = done[0].id, done[1]
    for i, item in enumerate(new_items):
        params.update((f"n{i}_{name}", item[name]) for name, _kind in step_sql.NEW_ITEM_COLUMNS)
    for i, event in enumerate(writes.events):
        params.update((f"e{i}_{name}", event[name]) for name, _kind in step_sql.EVENT_COLUMNS if name != "data")
        params[f"e{i}_data"] = _json_text(jsonable(event["data"]))
    for i, run in enumerate(writes.runs):
        params.update((f"r{i}_{name}", run[name]) for name, _kind in step_sql.RUN_COLUMNS if name != "result")
        params[f"r{i}_result"] = _json_text(run["result"])
    wanted = tuple(signals.instance_completed_reads.items()) if completing else ()
    shape = (True, done is not None, len(new_items), len(writes.events), len(writes.runs),
             tuple(expression for _name, expression in wanted) if completing else None)
    lock_version, completed, opened, *values = fastsql.execute(session, step_sql.step_sql(shape), params).fetchone()
    if lock_version is None:  # the row lock makes this impossible; the optimistic check stays all the same
        raise Conflict("instance.changed")
    # The ORM's copy of the row as written (nothing left for its flush to write).
    for key, value in (*row.items(), ("lock_version", lock_version)):
        set_committed_value(instance, key, value)
    if done is not None:
        item, user_id = done
        if not completed:
            raise Conflict("work_item.gone", work_item_id=item.id)
        for key, value in (("status", WorkItemStatus.COMPLETED), ("completed_by_id", user_id), ("completed_at", now),
                           ("claimed_by_id", item.claimed_by_id or user_id)):
            set_committed_value(item, key, value)
    # Work items of this instance loaded in the session may have been cancelled behind the ORM's back.
    # (An expired object has nothing to expire; reading its attributes would load it.)
    for obj in list(session.identity_map.values()):
        if (type(obj) is WorkItem and obj.__dict__.get("instance_id") == instance.id
                and (done is None or obj is not done[0])):
            session.expire(obj, ["status"])
    reads = {name: value for (name, _expression), value in zip(wanted, values, strict=True)} if completing else None
    return opened or [], reads


def _json_text(value) -> str:
    """What the JSON columns would store (SQLAlchemy's JSON type writes json.dumps)."""
    return json.dumps(value)


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
