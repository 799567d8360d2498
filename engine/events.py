"""The instance event log: append-only, one row per action on an instance."""

from sqlalchemy import insert

from core.db import utcnow
from engine.models import InstanceEvent

_INSERT = insert(InstanceEvent.__table__).returning(InstanceEvent.__table__.c.id)


def event_row(instance, actor, action: str, task_name: str | None = None, work_item=None,
              note: str | None = None, data: dict | None = None) -> dict:
    """The row of one event, to be written by `record` now or with the step's other writes (`advance`'s
    `events`: the same transaction, one round trip for all of them)."""
    return {
        "instance_id": instance.id, "at": utcnow(), "actor_id": getattr(actor, "id", None),
        "actor_name": getattr(actor, "username", "") or "", "action": action, "task_name": task_name,
        "work_item_id": getattr(work_item, "id", None), "note": note, "data": data if data is not None else {},
    }


def record(session, instance, actor, action: str, task_name: str | None = None, work_item=None,
           note: str | None = None, data: dict | None = None) -> int:
    """Append one event (a plain INSERT, in the caller's transaction); returns its id. The instance row
    must exist already (it is flushed by whoever created it)."""
    row = event_row(instance, actor, action, task_name, work_item, note, data)
    row["data"] = jsonable(row["data"])
    return session.execute(_INSERT, row).scalar_one()


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)

