"""Due timers, fired by the worker: timer events of the diagrams and retries of failed service tasks."""

from sqlalchemy import select

from core.db import is_postgresql, utcnow
from engine.events import record
from engine.models import InstanceStatus, Timer, TimerStatus
from engine.runtime import advance, lock


def due_timer_ids(session, now=None, limit: int = 100) -> list[int]:
    now = now or utcnow()
    stmt = (select(Timer.id).where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
            .order_by(Timer.due_at).limit(limit))
    return list(session.scalars(stmt))


def fire(session, timer_id: int, now=None) -> bool:
    """Fire one due timer; False when another worker has it or it is no longer due. Caller commits."""
    now = now or utcnow()
    stmt = select(Timer).where(Timer.id == timer_id, Timer.status == TimerStatus.PENDING)
    if is_postgresql(session):
        stmt = stmt.with_for_update(skip_locked=True)  # two workers never fire the same timer
    timer = session.scalar(stmt)
    if timer is None or timer.due_at > now:
        return False
    instance = lock(session, timer.instance_id)
    if instance.status == InstanceStatus.SUSPENDED:
        return False  # fires after resume
    timer.status, timer.fired_at = TimerStatus.FIRED, now
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED):
        timer.status = TimerStatus.CANCELLED
        return False
    record(session, instance, None, "timer_fired" if timer.kind == "timer" else "retried", timer.task_name,
           data={"due_at": timer.due_at.isoformat(), "late_seconds": round((now - timer.due_at).total_seconds())})
    advance(session, instance, None, prepare=_refresh_timers if timer.kind == "timer" else None)
    return True


def _refresh_timers(workflow):
    workflow.refresh_timers()


def next_due(session):
    return session.scalar(select(Timer.due_at).where(Timer.status == TimerStatus.PENDING)
                          .order_by(Timer.due_at).limit(1))

