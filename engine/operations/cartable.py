"""Operations on the cartable itself, for diagrams: escalate a late task to a supervisor role."""

from sqlalchemy import select

from engine.events import record
from engine.models import WorkItem, WorkItemStatus
from engine.registry import operation


@operation("cartable.escalate", result={"escalated": 1, "to_role": "engineer"})
def escalate(ctx, *, task: str, role: str):
    """Refer the open work item of `task` to everyone holding `role`, without cancelling it."""
    items = ctx.session.scalars(select(WorkItem).where(
        WorkItem.instance_id == ctx.instance.id, WorkItem.task_name == task,
        WorkItem.status == WorkItemStatus.OPEN)).all()
    for item in items:
        item.role_code, item.assignee_id, item.claimed_by_id, item.claimed_at = role, None, None, None
        record(ctx.session, ctx.instance, None, "escalated", task, item, data={"to_role": role})
    ctx.session.flush()
    return {"escalated": len(items), "to_role": role}
