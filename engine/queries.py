"""Reads the cartable and the admin pages share: a query over work items, never over workflow state."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, case, false, func, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased, defer
from sqlalchemy.orm.attributes import set_committed_value

from core.accounts import Assignment, Role
from core.db import utcnow
from core.errors import DomainError
from core.permissions import role_region_ids
from core.regions import Region
from engine import fastsql, runtime, step_sql
from engine.models import Instance, InstanceEvent, ProcessVersion, WorkItem, WorkItemStatus

DUE_SOON = timedelta(hours=4)


def _role_scope(session, user):
    """(role = r AND region IN (the regions under where the user holds r)) for each role: region ids are
    listed, not sub-selected, so the planner can use the open-items index for each branch."""
    reach = role_region_ids(session, user)
    if not reach:
        return false()
    return or_(*(and_(WorkItem.role_code == role, WorkItem.region_id.in_(sorted(ids)))
                 for role, ids in sorted(reach.items())))


def reachable_by(session, user):
    """Items the user may look at: theirs, or for a role they hold in the item's region, whatever the state."""
    return or_(WorkItem.assignee_id == user.id, WorkItem.claimed_by_id == user.id,
               WorkItem.completed_by_id == user.id, _role_scope(session, user))


def item_with_reach(session, user, item_id: int, lock: bool = False) -> tuple[WorkItem, bool] | None:
    """A work item with its instance and version loaded (not the version's large deferred columns), and whether it
    is `reachable_by` the user; None: no such item. On PostgreSQL one prepared statement (the item's page and every
    action on it begin here). `lock` (PostgreSQL): the item and its instance read with their lock, as
    `cartable.complete` locks them, which then takes this read instead of making its own (runtime.lock_item_for's
    `keep`)."""
    session = fastsql.real_session(session)
    if lock and fastsql.on_postgresql(session):
        try:
            instance, item, holds_role, _runs = runtime.lock_item_for(session, item_id, user.id, keep=True)
        except DomainError:
            return None  # no such item
        set_committed_value(item, "instance", instance)
        return item, holds_role or user.id in (item.assignee_id, item.claimed_by_id, item.completed_by_id)
    if not fastsql.on_postgresql(session):
        item = session.get(WorkItem, item_id)
        if item is None:
            return None
        reachable = session.scalar(select(WorkItem.id).where(WorkItem.id == item_id, reachable_by(session, user)))
        item.instance  # noqa: B018 - loaded here, as the statement above loads it
        return item, reachable is not None
    if session.autoflush:
        session.flush()  # as the ORM's get would autoflush before reading
    row = fastsql.execute(session, _ITEM_WITH_REACH, {"item_id": item_id, "user_id": user.id}).fetchone()
    if row is None:
        return None
    item_end = len(step_sql.ITEM_COLUMNS)
    instance_end = item_end + len(step_sql.INSTANCE_COLUMNS)
    version_end = instance_end + len(step_sql.VERSION_COLUMNS)
    item = fastsql.adopt(session, WorkItem, dict(zip(step_sql.ITEM_COLUMNS, row[:item_end], strict=True)))
    instance = fastsql.adopt(session, Instance,
                             dict(zip(step_sql.INSTANCE_COLUMNS, row[item_end:instance_end], strict=True)))
    version = fastsql.adopt(session, ProcessVersion,
                            dict(zip(step_sql.VERSION_COLUMNS, row[instance_end:version_end], strict=True)))
    set_committed_value(instance, "version", version)
    set_committed_value(item, "instance", instance)
    return item, bool(row[version_end])  # NULL: none of her own, and no role of hers


# reachable_by in SQL: the user's own item (referred to, claimed or completed by her), or one for a role she holds
# in the item's region or in a region above it.
_ITEM_WITH_REACH = step_sql.psycopg_placeholders(f"""
SELECT {", ".join(f"w.{name}" for name in step_sql.ITEM_COLUMNS)},
       {", ".join(f"i.{name}" for name in step_sql.INSTANCE_COLUMNS)},
       {", ".join(f"v.{name}" for name in step_sql.VERSION_COLUMNS)},
       (CAST(:user_id AS integer) IN (w.assignee_id, w.claimed_by_id, w.completed_by_id)
        OR EXISTS (SELECT FROM assignments JOIN roles ON assignments.role_id = roles.id
                        JOIN regions ON assignments.region_id = regions.id JOIN regions AS here ON here.id = w.region_id
                   WHERE assignments.user_id = CAST(:user_id AS integer) AND roles.code = w.role_code
                         AND here.path LIKE regions.path || '%'))
FROM work_items AS w JOIN process_instances AS i ON i.id = w.instance_id
     JOIN process_versions AS v ON v.id = i.version_id
WHERE w.id = CAST(:item_id AS bigint)""")  # noqa: S608 - column names from the models only


def offered_to(session, user):
    """The condition for open work items offered to `user`: referred to them, claimed by them, or for a
    role they hold in the item's region (or a region above it) and not yet claimed by someone else."""
    unassigned_for_my_roles = and_(
        WorkItem.assignee_id.is_(None),
        or_(WorkItem.claimed_by_id.is_(None), WorkItem.claimed_by_id == user.id),
        _role_scope(session, user),
    )
    return and_(WorkItem.status == WorkItemStatus.OPEN,
                or_(WorkItem.assignee_id == user.id, WorkItem.claimed_by_id == user.id, unassigned_for_my_roles))


def _reach(user_id):
    """(role code, region id) pairs where work for the user's roles reaches them: each role they hold, in
    the region where they hold it and every region below, computed by the database in the same statement."""
    held, below = aliased(Region), aliased(Region)
    return (select(Role.code.label("role_code"), below.id.label("region_id")).distinct()
            .select_from(Assignment).join(Role, Assignment.role_id == Role.id)
            .join(held, Assignment.region_id == held.id).join(below, below.path.startswith(held.path))
            .where(Assignment.user_id == user_id).cte("reach"))


def _offered_parts(user_id, columns, conditions=(), with_instance=False) -> list:
    """`offered_to` as three disjoint SELECTs, each served by its own partial index: claimed by me; referred
    to me and claimed by nobody else… by me; and unassigned, unclaimed items for a role of mine in its
    region (a join with the reach, read from the index alone). Their union is exactly `offered_to`."""
    reach = _reach(user_id)
    # 'open' written into the SQL, not bound: a prepared statement's generic plan can then use the partial indexes.
    is_open = WorkItem.status == literal_column(f"'{WorkItemStatus.OPEN}'")
    mine = select(*columns).select_from(WorkItem).where(is_open, WorkItem.claimed_by_id == user_id)
    referred = (select(*columns).select_from(WorkItem)
                .where(is_open, WorkItem.assignee_id == user_id,
                       or_(WorkItem.claimed_by_id.is_(None), WorkItem.claimed_by_id != user_id)))
    for_my_roles = (select(*columns).select_from(reach)
                    .join(WorkItem, and_(WorkItem.role_code == reach.c.role_code,
                                         WorkItem.region_id == reach.c.region_id))
                    .where(is_open, WorkItem.assignee_id.is_(None), WorkItem.claimed_by_id.is_(None)))
    parts = [mine, referred, for_my_roles]
    if with_instance:
        parts = [part.join(Instance, WorkItem.instance_id == Instance.id) for part in parts]
    return [part.where(*conditions) for part in parts]


def _is_offered(user_id):
    """WorkItem.id IN (the ids of the items offered to the user), from the three offered parts."""
    offered = union_all(*_offered_parts(user_id, [WorkItem.id.label("id")])).subquery()
    return WorkItem.id.in_(select(offered.c.id))


def count_offered(user_id, conditions=(), with_instance=False):
    mine, referred, for_my_roles = (part.scalar_subquery() for part in _offered_parts(
        user_id, [func.count()], conditions, with_instance))
    return select(mine + referred + for_my_roles)


@dataclass
class InboxFilter:
    process_key: str | None = None
    task_name: str | None = None
    due: str | None = None  # overdue | soon | later
    region_id: int | None = None
    q: str | None = None  # request number (or its tail)
    subscriber_ids: tuple[int, ...] = ()  # …or the subscribers / contracts the words typed in q found
    contract_ids: tuple[int, ...] = ()
    sort: str = "due"  # due | received
    page: int = 1
    page_size: int = 25


def inbox(session, user, flt: InboxFilter):
    """(rows of (WorkItem, Instance, process name), total) for the cartable page. The page's ids come from
    the three offered parts (their union sorted and cut to the page), then the page's rows are read."""
    now = utcnow()
    conditions = []
    needs_instance = bool(flt.process_key or flt.q)
    if flt.process_key:
        conditions.append(Instance.process_key == flt.process_key)
    if flt.task_name:
        conditions.append(WorkItem.task_name == flt.task_name)
    if flt.region_id:
        conditions.append(WorkItem.region_id == flt.region_id)
    if flt.due == "overdue":
        conditions.append(WorkItem.due_at < now)
    elif flt.due == "soon":
        conditions += [WorkItem.due_at >= now, WorkItem.due_at < now + DUE_SOON]
    elif flt.due == "later":
        conditions.append(or_(WorkItem.due_at.is_(None), WorkItem.due_at >= now + DUE_SOON))
    if flt.q:
        conditions.append(or_(Instance.business_key.contains(flt.q.strip(), autoescape=True),
                              Instance.subscriber_id.in_(flt.subscriber_ids or [-1]),
                              Instance.contract_id.in_(flt.contract_ids or [-1])))
    total = session.scalar(count_offered(user.id, conditions, needs_instance))
    if total == 0:
        return [], 0
    key = WorkItem.due_at if flt.sort == "due" else WorkItem.created_at
    offered = union_all(*_offered_parts(user.id, [WorkItem.id, key.label("key")], conditions,
                                        needs_instance)).subquery()
    if flt.sort == "due":
        order, page_order = (offered.c.key.asc().nulls_last(), offered.c.id), (key.asc().nulls_last(), WorkItem.id)
    else:
        order, page_order = (offered.c.key.desc(), offered.c.id.desc()), (key.desc(), WorkItem.id.desc())
    page_ids = (select(offered.c.id).order_by(*order).limit(flt.page_size)
                .offset((flt.page - 1) * flt.page_size))
    stmt = (select(WorkItem, Instance, ProcessVersion.name)
            .join(Instance, WorkItem.instance_id == Instance.id)
            .join(ProcessVersion, Instance.version_id == ProcessVersion.id)
            .where(WorkItem.id.in_(page_ids.scalar_subquery())).order_by(*page_order)
            .options(defer(Instance.state)))  # the page shows no workflow state
    return session.execute(stmt).all(), total


def inbox_count(session, user) -> int:
    """The navigation badge: how many items wait for me (one statement, index-only on PostgreSQL)."""
    return session.scalar(_BADGE, {"user_id": user.id})


_BADGE = count_offered(bindparam("user_id"))


def counts_per_procedure(session, user) -> list[tuple[str, str, int, int]]:
    """(process key, name, open items, overdue items) offered to the user."""
    now = utcnow()
    stmt = (select(Instance.process_key, func.max(ProcessVersion.name), func.count(WorkItem.id),
                   func.sum(case((WorkItem.due_at < now, 1), else_=0)))
            .select_from(WorkItem).join(Instance, WorkItem.instance_id == Instance.id)
            .join(ProcessVersion, Instance.version_id == ProcessVersion.id)
            .where(_is_offered(user.id)).group_by(Instance.process_key).order_by(Instance.process_key))
    return [(key, name, count, int(overdue or 0)) for key, name, count, overdue in session.execute(stmt)]


def step_choices(session, user) -> list[tuple[str, str]]:
    """(task name, title) of the steps among my open items: the step filter's options."""
    stmt = (select(WorkItem.task_name, func.max(WorkItem.title)).where(_is_offered(user.id))
            .group_by(WorkItem.task_name).order_by(func.max(WorkItem.title)))
    return [(name, title) for name, title in session.execute(stmt)]


def overdue_count(session, user) -> int:
    return session.scalar(count_offered(user.id, [WorkItem.due_at < utcnow()]))


def timeline(session, instance_id: int) -> list[InstanceEvent]:
    return list(session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                                .order_by(InstanceEvent.id)))


def completed_steps(session, instance_id: int) -> list[WorkItem]:
    return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                       WorkItem.status == WorkItemStatus.COMPLETED)
                                .order_by(WorkItem.completed_at)))


def my_requests(session, user, page: int = 1, page_size: int = 25):
    stmt = (select(Instance, ProcessVersion.name).join(ProcessVersion, Instance.version_id == ProcessVersion.id)
            .where(Instance.initiator_id == user.id))
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Instance.id).subquery()))
    rows = session.execute(stmt.order_by(Instance.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total
