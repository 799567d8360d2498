"""In-app notifications: who hears about a new, referred or returned work item."""

from sqlalchemy import literal, select, update

from core.accounts import Assignment, Role, User
from core.db import utcnow
from core.regions import Region
from engine.models import Notification

MAX_FAN_OUT = 200  # a role held by more people than this is better served by the cartable itself


def holders_of(session, role_code: str, region_id: int) -> list[int]:
    """Active users holding the role in the region or in a region above it."""
    region_path = session.scalar(select(Region.path).where(Region.id == region_id))
    stmt = (select(Assignment.user_id).distinct()
            .join(Role, Assignment.role_id == Role.id).join(Region, Assignment.region_id == Region.id)
            .join(User, Assignment.user_id == User.id)
            .where(Role.code == role_code, User.active.is_(True), literal(region_path).startswith(Region.path))
            .limit(MAX_FAN_OUT))
    return list(session.scalars(stmt))


def notify(session, user_ids, kind: str, item, text: str = "") -> None:
    for user_id in dict.fromkeys(user_ids):
        session.add(Notification(user_id=user_id, kind=kind, work_item_id=item.id, instance_id=item.instance_id,
                                 text=text[:300]))


def notify_new_item(session, item) -> None:
    if item.assignee_id:
        notify(session, [item.assignee_id], "new", item, item.title)
    else:
        notify(session, holders_of(session, item.role_code, item.region_id), "new", item, item.title)


def unread(session, user, limit: int = 20) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                           Notification.read_at.is_(None))
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_read(session, user, work_item_id: int | None = None) -> None:
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if work_item_id is not None:
        stmt = stmt.where(Notification.work_item_id == work_item_id)
    session.execute(stmt.values(read_at=utcnow()))
