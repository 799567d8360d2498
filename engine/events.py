"""The instance event log: append-only, one row per action on an instance."""

from engine.models import InstanceEvent


def record(session, instance, actor, action: str, task_name: str | None = None, work_item=None,
           note: str | None = None, data: dict | None = None) -> InstanceEvent:
    event = InstanceEvent(
        instance_id=instance.id, actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "") or "", action=action, task_name=task_name,
        work_item_id=getattr(work_item, "id", None), note=note, data=_jsonable(data or {}),
    )
    session.add(event)
    return event


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
