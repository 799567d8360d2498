"""In-app notifications: who hears about a new, referred or returned work item."""

from sqlalchemy import BigInteger, String, bindparam, insert, select, update

from core.accounts import Assignment, Role, User
from core.db import TZDateTime, utcnow
from core.regions import Region
from engine.models import Notification

MAX_FAN_OUT = 200  # a role held by more people than this is better served by the cartable itself


def _holders(role_code, region_id):
    """Active users holding the role in the region or in a region above it."""
    region_path = select(Region.path).where(Region.id == region_id).scalar_subquery()
    return (select(Assignment.user_id).distinct()
            .join(Role, Assignment.role_id == Role.id).join(Region, Assignment.region_id == Region.id)
            .join(User, Assignment.user_id == User.id)
            .where(Role.code == role_code, User.active.is_(True), region_path.startswith(Region.path))
            .limit(MAX_FAN_OUT))


# Built once: constructing a statement costs more client time than running it here.
_HOLDERS = _holders(bindparam("role_code"), bindparam("region_id"))
_NOTIFY_HOLDERS = insert(Notification.__table__).from_select(
    ["user_id", "kind", "work_item_id", "instance_id", "text", "created_at"],
    select(_HOLDERS.subquery().c.user_id, bindparam("kind", type_=String), bindparam("work_item_id", type_=BigInteger),
           bindparam("instance_id", type_=BigInteger), bindparam("text", type_=String),
           bindparam("created_at", type_=TZDateTime())))


def holders_of(session, role_code: str, region_id: int) -> list[int]:
    return list(session.scalars(_HOLDERS, {"role_code": role_code, "region_id": region_id}))


def _field(item, name: str):
    """`item` is a WorkItem, or the row (a dict) of one just inserted with Core."""
    return item[name] if isinstance(item, dict) else getattr(item, name)


def notify(session, user_ids, kind: str, item, text: str = "") -> None:
    """One INSERT for all the notices of an item."""
    rows = [{"user_id": user_id, "kind": kind, "work_item_id": _field(item, "id"),
             "instance_id": _field(item, "instance_id"), "text": (text or "")[:300], "created_at": utcnow()}
            for user_id in dict.fromkeys(user_ids)]
    if rows:
        session.execute(insert(Notification.__table__), rows)


def notify_role(session, role_code: str, kind: str, item, text: str = "") -> None:
    """Tell every holder of the role in the item's region, in one INSERT … SELECT."""
    session.execute(_NOTIFY_HOLDERS, {
        "role_code": role_code, "region_id": _field(item, "region_id"), "kind": kind,
        "work_item_id": _field(item, "id"), "instance_id": _field(item, "instance_id"),
        "text": (text or "")[:300], "created_at": utcnow()})


def notify_new_item(session, item) -> None:
    if _field(item, "assignee_id"):
        notify(session, [_field(item, "assignee_id")], "new", item, _field(item, "title"))
    else:
        notify_role(session, _field(item, "role_code"), "new", item, _field(item, "title"))


def unread(session, user, limit: int = 20) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                           Notification.read_at.is_(None))
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_read(session, user, work_item_id: int | None = None) -> None:
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if work_item_id is not None:
        stmt = stmt.where(Notification.work_item_id == work_item_id)
    session.execute(stmt.values(read_at=utcnow()))
