"""Open requests by procedure and step: how many wait at each step, how many are overdue, how long they have
waited, and how long the step took when it was done.

Read from the work items (the cartable's rows), never from the workflows' state. The dates filter the
requests by the day they were started; the averages are over those requests.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, and_, case, cast, func, select

from engine.models import OPEN_STATUSES, Instance, ProcessVersion, WorkItem, WorkItemStatus
from reports.base import DATETIME, HOURS, INT, TEXT, Column, Report
from reports.sql import day_bounds, in_region, seconds_between

COLUMNS = [
    Column("procedure", _l("Procedure"), TEXT),
    Column("step", _l("Step"), TEXT),
    Column("open_items", _l("Waiting here"), INT, total=True),
    Column("overdue_items", _l("Overdue"), INT, total=True),
    Column("oldest", _l("Waiting since"), DATETIME),
    Column("avg_waiting", _l("Average wait so far"), HOURS),
    Column("avg_request_age", _l("Average age of the request"), HOURS),
    Column("avg_done", _l("Average time the step took"), HOURS),
]


def _requests(ctx, flt, stmt):
    start, end = day_bounds(flt.date_from, flt.date_to)
    if start:
        stmt = stmt.where(Instance.created_at >= start)
    if end:
        stmt = stmt.where(Instance.created_at < end)
    if flt.process_key:
        stmt = stmt.where(Instance.process_key == flt.process_key)
    if flt.region_id:
        stmt = stmt.where(in_region(WorkItem.region_id, flt.region_id))
    return ctx.scope(stmt, WorkItem.region_id)


def statement(ctx, flt):
    dialect, now = ctx.dialect, ctx.now
    done = _requests(ctx, flt, select(Instance.process_key, WorkItem.task_name, func.avg(
        seconds_between(dialect, WorkItem.created_at, WorkItem.completed_at)).label("avg_done"))
        .join(Instance, Instance.id == WorkItem.instance_id)
        .where(WorkItem.status == WorkItemStatus.COMPLETED)
        .group_by(Instance.process_key, WorkItem.task_name)).subquery()
    waiting = _requests(ctx, flt, select(
        Instance.process_key, WorkItem.task_name, func.max(ProcessVersion.name).label("procedure"),
        func.max(WorkItem.title).label("step"), func.count().label("open_items"),
        func.sum(case((WorkItem.due_at < now, 1), else_=0)).label("overdue_items"),
        func.min(WorkItem.created_at).label("oldest"),
        func.avg(seconds_between(dialect, WorkItem.created_at, now)).label("avg_waiting"),
        func.avg(seconds_between(dialect, Instance.created_at, now)).label("avg_request_age"))
        .join(Instance, Instance.id == WorkItem.instance_id)
        .join(ProcessVersion, ProcessVersion.id == Instance.version_id)
        .where(WorkItem.status == WorkItemStatus.OPEN, Instance.status.in_(OPEN_STATUSES))
        .group_by(Instance.process_key, WorkItem.task_name)).subquery()
    return (select(waiting.c.procedure, waiting.c.step, waiting.c.open_items, waiting.c.overdue_items,
                   waiting.c.oldest, cast(waiting.c.avg_waiting, BigInteger).label("avg_waiting"),
                   cast(waiting.c.avg_request_age, BigInteger).label("avg_request_age"),
                   cast(done.c.avg_done, BigInteger).label("avg_done"))
            .select_from(waiting)
            .outerjoin(done, and_(done.c.process_key == waiting.c.process_key,
                                  done.c.task_name == waiting.c.task_name))
            .order_by(waiting.c.procedure, waiting.c.open_items.desc(), waiting.c.step))


def chart(ctx, flt):
    rows = ctx.session.execute(statement(ctx, flt)).mappings().all()
    return {"type": "bar", "unit": "count", "stacked": True, "horizontal": True,
            "labels": [f"{r['procedure']} — {r['step']}" for r in rows],
            "datasets": [{"label": str(_l("On time")), "data": [r["open_items"] - r["overdue_items"] for r in rows]},
                         {"label": str(_l("Overdue")), "data": [r["overdue_items"] for r in rows]}]}


REPORT = Report(
    key="open_requests", title=_l("Open requests by procedure and step"),
    description=_l("Where open requests wait, how many are overdue, and how long each step takes."),
    materialize=lambda flt: True,
    columns=COLUMNS, statement=statement, chart=chart,
    filters=("date_from", "date_to", "region_id", "process_key"),
    notes=(_l("The dates filter the requests by the day they were started."),),
)
