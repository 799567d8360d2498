"""Broken meters (مشترکین کنتور خراب): meters marked faulty, the subscriber they served, since when, and the
request that replaces them.

The registry keeps a meter's state, not when it changed: a meter is marked faulty when it is taken off its
service point (subscribers/meter_ops.py), so "since" is that removal's day; for a meter marked faulty while
still installed it is the last audit entry on the meter, when there is one.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, select, true
from sqlalchemy.orm import aliased

from core.audit import AuditEntry
from core.jalali import as_tehran
from core.regions import Region
from engine.models import Instance, WorkItem, WorkItemStatus
from reports.base import CODE, DATE, LABEL, TEXT, Column, Report
from reports.sql import in_region, subscriber_name
from subscribers.enums import MeterStatus
from subscribers.models import Contract, Meter, MeterInstallation, Subscriber

# The procedures whose request replaces (or inspects, then replaces) a meter: the latest on the contract is shown.
REPLACEMENT_PROCESS_KEYS = ("meter_replacement", "meter_inspection")

COLUMNS = [
    Column("serial", _l("Meter serial"), CODE),
    Column("utility", _l("Utility"), LABEL),
    Column("subscription_no", _l("Subscription number"), CODE),
    Column("subscriber", _l("Subscriber"), TEXT),
    Column("region", _l("Region"), TEXT),
    Column("meter_state", _l("Meter"), LABEL),
    Column("faulty_since", _l("Faulty since"), DATE),
    Column("request_no", _l("Replacement request"), CODE),
    Column("request_state", _l("Request state"), LABEL),
    Column("request_step", _l("Request step"), TEXT),
]


def _latest(ctx):
    """(the meter's latest installation, its service point's latest contract, the join conditions), read from
    the few faulty meters through the indexes: LATERAL on PostgreSQL, "no newer row" subqueries elsewhere."""
    installation, contract = MeterInstallation, Contract
    if ctx.dialect == "postgresql":
        last = (select(installation.service_point_id, installation.removed_on)
                .where(installation.meter_id == Meter.id).order_by(installation.id.desc()).limit(1).lateral("last"))
        latest = (select(contract.id, contract.region_id, contract.subscription_no, contract.subscriber_id)
                  .where(contract.service_point_id == last.c.service_point_id).order_by(contract.id.desc())
                  .limit(1).lateral("latest"))
        return last, latest, true(), true()
    newer, later = aliased(MeterInstallation), aliased(Contract)
    last = (select(installation.meter_id, installation.service_point_id, installation.removed_on)
            .where(~exists().where(newer.meter_id == installation.meter_id, newer.id > installation.id))
            .subquery("last"))
    latest = (select(contract.id, contract.region_id, contract.subscription_no, contract.subscriber_id,
                     contract.service_point_id)
              .where(~exists().where(later.service_point_id == contract.service_point_id, later.id > contract.id))
              .subquery("latest"))
    return last, latest, last.c.meter_id == Meter.id, latest.c.service_point_id == last.c.service_point_id


def statement(ctx, flt):
    """The faulty meters in order, with what the order and the scope need; who the subscriber is and the region's name
    are read for the rows shown (`decorate`), not for every faulty meter before the page is cut."""
    last, latest, on_last, on_latest = _latest(ctx)
    region_id = func.coalesce(latest.c.region_id, Meter.region_id)
    stmt = (select(Meter.id.label("meter_id"), Meter.serial, Meter.utility, latest.c.id.label("contract_id"),
                   latest.c.subscription_no, latest.c.subscriber_id, region_id.label("region_id"),
                   case((last.c.removed_on.is_(None), "installed"), else_="removed").label("meter_state"),
                   last.c.removed_on.label("faulty_since"))
            .select_from(Meter).outerjoin(last, on_last).outerjoin(latest, on_latest)
            .where(Meter.status == MeterStatus.FAULTY))
    if flt.date_from:
        stmt = stmt.where(last.c.removed_on >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(last.c.removed_on <= flt.date_to)
    if flt.utility:
        stmt = stmt.where(Meter.utility == flt.utility)
    if flt.region_id:
        stmt = stmt.where(in_region(region_id, flt.region_id))
    return ctx.scope(stmt, region_id).order_by(last.c.removed_on.asc().nulls_first(), Meter.id)


def _latest_requests(session, contract_ids) -> dict:
    """{contract id: (instance, open step titles)} for the latest replacement request of each contract."""
    latest = (select(func.max(Instance.id)).where(Instance.contract_id.in_(contract_ids),
                                                  Instance.process_key.in_(REPLACEMENT_PROCESS_KEYS))
              .group_by(Instance.contract_id))
    instances = list(session.scalars(select(Instance).where(Instance.id.in_(latest))))
    steps: dict = {}
    for instance_id, title in session.execute(select(WorkItem.instance_id, WorkItem.title).where(
            WorkItem.instance_id.in_([i.id for i in instances]), WorkItem.status == WorkItemStatus.OPEN)
            .order_by(WorkItem.id)):
        steps.setdefault(instance_id, []).append(title)
    return {i.contract_id: (i, steps.get(i.id, [])) for i in instances}


def _audited_since(session, meter_ids) -> dict:
    ids = [str(i) for i in meter_ids]
    rows = session.execute(select(AuditEntry.object_id, func.max(AuditEntry.at))
                           .where(AuditEntry.object_type == "Meter", AuditEntry.object_id.in_(ids))
                           .group_by(AuditEntry.object_id))
    return {int(object_id): as_tehran(at).date() for object_id, at in rows}  # the day in Tehran, not UTC


def _names(session, rows) -> tuple[dict, dict]:
    """({subscriber id: name}, {region id: name}) of the given rows."""
    subscriber_ids = {r["subscriber_id"] for r in rows if r["subscriber_id"]}
    subscribers = dict(session.execute(select(Subscriber.id, subscriber_name()).where(
        Subscriber.id.in_(list(subscriber_ids)))).tuples().all()) if subscriber_ids else {}
    regions = dict(session.execute(select(Region.id, Region.name).where(
        Region.id.in_(list({r["region_id"] for r in rows})))).tuples().all())
    return subscribers, regions


def decorate(ctx, flt, rows):
    if not rows:
        return rows
    subscribers, regions = _names(ctx.session, rows)
    requests = _latest_requests(ctx.session, [r["contract_id"] for r in rows if r["contract_id"]])
    audited = _audited_since(ctx.session, [r["meter_id"] for r in rows if r["faulty_since"] is None])
    for row in rows:
        row["subscriber"] = subscribers.get(row["subscriber_id"])
        row["region"] = regions[row["region_id"]]
        if row["faulty_since"] is None:
            row["faulty_since"] = audited.get(row["meter_id"])
        instance, steps = requests.get(row["contract_id"], (None, []))
        row["request_no"] = instance.business_key if instance else ""
        row["request_state"] = instance.status if instance else ""
        row["request_step"] = "، ".join(steps)
    return rows


REPORT = Report(
    key="broken_meters", title=_l("Broken meters"),
    description=_l("Meters marked faulty, the subscriber they served, since when, and the replacement request."),
    columns=COLUMNS, statement=statement, decorate=decorate,
    filters=("date_from", "date_to", "region_id", "utility"),
    notes=(_l("A meter is faulty from the day it was taken off its service point as faulty."),
           _l("The dates filter the day the meter was found faulty.")),
)
