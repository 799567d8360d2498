"""Outages (مشترکین دارای خاموشی): the subscribers an outage reached in a period, how often and for how long,
per subscriber or per region, planned and unplanned apart.

An outage names its service points, or else reaches every contract of its utility in its region and the
regions below. Its duration is counted inside the period only; one still going counts until now.
"""

from collections import defaultdict
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, and_, case, cast, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from core.regions import Region
from core.utilities import Utility
from reports.base import CODE, HOURS, INT, TEXT, Column, Report, _sum_columns, jalali_month_start
from reports.sql import day_bounds, greatest, in_region, least, seconds_between, subscriber_name, tehran_date
from subscribers.models import Contract, Outage, ServicePoint, Subscriber, outage_service_points

PER_SUBSCRIBER, PER_REGION = "subscriber", "region"

SUBSCRIBER_COLUMNS = [
    Column("subscription_no", _l("Subscription number"), CODE),
    Column("subscriber", _l("Subscriber"), TEXT),
    Column("region", _l("Region"), TEXT),
    Column("outages", _l("Outages"), INT, total=True),
    Column("planned", _l("Planned"), INT, total=True),
    Column("unplanned", _l("Unplanned"), INT, total=True),
    Column("seconds", _l("Hours without service"), HOURS, total=True),
]
REGION_COLUMNS = [
    Column("region", _l("Region"), TEXT),
    Column("outages", _l("Outages"), INT, total=True),
    Column("planned", _l("Planned"), INT, total=True),
    Column("unplanned", _l("Unplanned"), INT, total=True),
    Column("planned_seconds", _l("Planned hours"), HOURS, total=True),
    Column("unplanned_seconds", _l("Unplanned hours"), HOURS, total=True),
    Column("subscribers", _l("Subscribers affected"), INT, total=True),
    Column("subscriber_seconds", _l("Subscriber-hours"), HOURS, total=True),
]


def _outages(ctx, flt):
    """Outages overlapping the period, with the seconds of each inside it."""
    start, end = day_bounds(flt.date_from, flt.date_to)
    ends = func.coalesce(Outage.ends_at, ctx.now)
    clipped_start = greatest(ctx.dialect, Outage.starts_at, start) if start else Outage.starts_at
    clipped_end = least(ctx.dialect, ends, end) if end else ends
    named = exists().where(outage_service_points.c.outage_id == Outage.id)
    stmt = select(Outage.id, Outage.utility, Outage.region_id, Outage.planned, Outage.starts_at,
                  cast(seconds_between(ctx.dialect, clipped_start, clipped_end), BigInteger).label("seconds"),
                  named.label("named"))
    if start:
        stmt = stmt.where(ends > start)
    if end:
        stmt = stmt.where(Outage.starts_at < end)
    if flt.utility:
        stmt = stmt.where(Outage.utility == flt.utility)
    if flt.planned:
        stmt = stmt.where(Outage.planned.is_(flt.planned == "planned"))
    return stmt.subquery("o")


def _of_utility(utility):
    """The contract's service point is of `utility` (a column): not one of the other utilities' points, read through
    their index as constants — a company serves one utility as a rule, so there are none to read — rather than by
    joining every contract to its service point."""
    others = [and_(utility == u.value, Contract.service_point_id.not_in(select(ServicePoint.id).where(
        ServicePoint.utility.in_([o.value for o in Utility if o != u])))) for u in Utility]
    unknown = and_(utility.not_in([u.value for u in Utility]), exists().where(
        ServicePoint.id == Contract.service_point_id, ServicePoint.utility == utility))
    return or_(*others, unknown)


def _live(ctx, outages):
    return or_(Contract.end_date.is_(None), Contract.end_date >= tehran_date(ctx.dialect, outages.c.starts_at))


def _pair(outages):
    # Each pair carries its outage's figures, so that nothing joins the outages again per pair.
    return (outages.c.id.label("outage_id"), Contract.id.label("contract_id"), Contract.region_id, outages.c.planned,
            outages.c.seconds)


def _by_point(ctx, flt, outages, *columns):
    """Pairs of a named outage and a contract at one of its points (`columns` beside them), in the user's regions."""
    stmt = (select(*_pair(outages), *columns)
            .join(outage_service_points, outage_service_points.c.outage_id == outages.c.id)
            .join(Contract, Contract.service_point_id == outage_service_points.c.service_point_id)
            .where(outages.c.named, _live(ctx, outages)))
    if flt.region_id:
        stmt = stmt.where(in_region(Contract.region_id, flt.region_id))
    return ctx.scope(stmt, Contract.region_id)


def _reached(ctx, flt, outages):
    """(outage id, contract id, its region) of every contract each outage reached, in the user's regions."""
    outage_region, below = aliased(Region), aliased(Region)
    by_region = (select(*_pair(outages))
                 .join(outage_region, outage_region.id == outages.c.region_id)
                 .join(below, below.path.startswith(outage_region.path))
                 .join(Contract, Contract.region_id == below.id)
                 .where(~outages.c.named, _live(ctx, outages), _of_utility(outages.c.utility)))
    if flt.region_id:
        by_region = by_region.where(in_region(Contract.region_id, flt.region_id))
    by_region = ctx.scope(by_region, Contract.region_id)
    return union_all(_by_point(ctx, flt, outages), by_region).subquery("reached")


def _flag(rows, planned: bool):
    return case((rows.c.planned.is_(planned), 1), else_=0)


def _per_subscriber(ctx, flt):
    """Per contract reached, from the most hours without service down; the subscriber and the region are read for the
    rows shown (`decorate`), not for every contract before the page is cut."""
    outages = _outages(ctx, flt)
    reached = _reached(ctx, flt, outages)
    per_contract = (select(reached.c.contract_id, func.count().label("outages"),
                           func.sum(_flag(reached, True)).label("planned"),
                           func.sum(_flag(reached, False)).label("unplanned"),
                           func.sum(reached.c.seconds).label("seconds"))
                    .group_by(reached.c.contract_id).subquery())
    return (select(per_contract.c.contract_id, per_contract.c.outages, per_contract.c.planned,
                   per_contract.c.unplanned, cast(per_contract.c.seconds, BigInteger).label("seconds"))
            .order_by(per_contract.c.seconds.desc(), per_contract.c.contract_id))


def _of(utility: str):
    """The contract's service point is of `utility` (a value): as `_of_utility`, for one utility."""
    if utility in {u.value for u in Utility}:
        return Contract.service_point_id.not_in(select(ServicePoint.id).where(
            ServicePoint.utility.in_([u.value for u in Utility if u.value != utility])))
    return exists().where(ServicePoint.id == Contract.service_point_id, ServicePoint.utility == utility)


def _as_date(day):
    return date.fromisoformat(day) if isinstance(day, str) else day  # SQLite's date() is text


def _rows_of(pairs) -> dict:
    return {"outages": len(pairs), "planned": sum(1 for p in pairs if p.planned),
            "unplanned": sum(1 for p in pairs if not p.planned), "seconds": int(sum(p.seconds for p in pairs))}


def first_rows(ctx, flt, limit: int, offset: int) -> list[dict] | None:
    """The per-subscriber rows of one page, as `statement` orders them, without grouping every contract a
    region-wide outage reached (a third of a million at a million subscribers): every contract of a utility in a
    region it covered gets the same hours from it. So a contract's row is its region's region-wide figures plus
    those of the named outages at its point. The rows are read exactly only for the contracts that differ from their
    region's — those at a named outage's point, and those that ended while the outages went on — and, from each
    region in order of its hours, for the first `offset + limit` of the rest by number."""
    if flt.group == PER_REGION:
        return None
    wanted = offset + limit
    outages = _outages(ctx, flt)
    covered = ctx.session.execute(_covered(ctx, flt, outages)).all()
    named = defaultdict(list)  # contract id -> its named pairs
    special = {}  # contract id -> (region, utility, end date) of a contract whose row is read exactly
    for pair in ctx.session.execute(_by_point(ctx, flt, outages, ServicePoint.utility, Contract.end_date)
                                    .join(ServicePoint, ServicePoint.id == Contract.service_point_id)):
        named[pair.contract_id].append(pair)
        special[pair.contract_id] = (pair.region_id, pair.utility, pair.end_date)
    groups = defaultdict(list)  # (region, utility) -> the region-wide outages that covered it
    for row in covered:
        groups[(row.region_id, row.utility)].append(row)
    if covered:
        first_day = min(_as_date(row.day) for row in covered)
        ended = (select(Contract.id, Contract.region_id, ServicePoint.utility, Contract.end_date)
                 .join(ServicePoint, ServicePoint.id == Contract.service_point_id)
                 .where(Contract.end_date >= first_day, Contract.region_id.in_({r for r, _u in groups})))
        special.update({c.id: (c.region_id, c.utility, c.end_date) for c in ctx.session.execute(ended)})

    rows = []
    for contract_id, (region_id, utility, end_date) in special.items():
        pairs = [*named.get(contract_id, ()), *(o for o in groups.get((region_id, utility), ())
                                                if end_date is None or end_date >= _as_date(o.day))]
        if pairs:
            rows.append({"contract_id": contract_id, **_rows_of(pairs)})
    special_in = defaultdict(int)
    for region_id, _utility, _end in special.values():
        special_in[region_id] += 1
    by_hours = sorted(((_rows_of(pairs), key) for key, pairs in groups.items()), key=lambda g: -g[0]["seconds"])
    taken = 0
    for n, (figures, (region_id, utility)) in enumerate(by_hours):
        if taken >= wanted and figures["seconds"] < by_hours[n - 1][0]["seconds"]:
            break  # this region's contracts all come after the ones already taken
        ids = ctx.session.scalars(
            select(Contract.id).where(Contract.region_id == region_id, Contract.end_date.is_(None), _of(utility))
            .order_by(Contract.id).limit(wanted + special_in[region_id])).all()
        regular = [i for i in ids if i not in special][:wanted]
        rows.extend({"contract_id": i, **figures} for i in regular)
        taken += len(regular)
    rows.sort(key=lambda r: (-r["seconds"], r["contract_id"]))
    return rows[offset:offset + limit]


def decorate(ctx, flt, rows):
    if flt.group == PER_REGION or not rows:
        return rows
    found = {contract_id: (number, name, region) for contract_id, number, name, region in ctx.session.execute(
        select(Contract.id, Contract.subscription_no, subscriber_name(), Region.name)
        .join(Subscriber, Subscriber.id == Contract.subscriber_id).join(Region, Region.id == Contract.region_id)
        .where(Contract.id.in_([r["contract_id"] for r in rows])))}
    for row in rows:
        row["subscription_no"], row["subscriber"], row["region"] = found[row["contract_id"]]
    return rows


def _contracts_reached(region_id, utility, day):
    """How many contracts of `utility` in the region were live on `day`: those live there, less those of the other
    utilities — a company serves one utility as a rule, so the second count reads no rows (through its index) where
    joining every contract to its service point would read them all."""
    live = or_(Contract.end_date.is_(None), Contract.end_date >= day)
    everyone = select(func.count()).select_from(Contract).where(Contract.region_id == region_id, live)

    def others(utilities):
        return (select(func.count()).select_from(ServicePoint)
                .join(Contract, Contract.service_point_id == ServicePoint.id)
                .where(utilities, Contract.region_id == region_id, live).scalar_subquery())

    # The other utilities named as constants, so the planner sees how few service points they have.
    of_others = case(*((utility == u.value, others(ServicePoint.utility.in_([o.value for o in Utility if o != u])))
                       for u in Utility), else_=others(ServicePoint.utility != utility))
    return everyone.scalar_subquery() - of_others


def _covered(ctx, flt, outages):
    """(region-wide outage, a region it covered: its own or one below, its utility, the day it began, its figures),
    in the user's regions."""
    outage_region, below = aliased(Region), aliased(Region)
    covered = (select(outages.c.id.label("outage_id"), below.id.label("region_id"), outages.c.utility,
                      tehran_date(ctx.dialect, outages.c.starts_at).label("day"), outages.c.planned, outages.c.seconds)
               .join(outage_region, outage_region.id == outages.c.region_id)
               .join(below, below.path.startswith(outage_region.path))
               .where(~outages.c.named))
    if flt.region_id:
        covered = covered.where(in_region(below.id, flt.region_id))
    return ctx.scope(covered, below.id)


def _summary(ctx, flt):
    """(outages, per outage and region the contracts it reached there, per region the contracts reached): the
    summaries' parts, without listing the pairs a region-wide outage makes with each contract it reached:
    such an outage is counted per region below its own (how many contracts it reached there), and the contracts
    reached in a region are those region-wide outages reached — of a utility, every contract live on the earliest
    day one of them began — plus those only named outages reached."""
    outages = _outages(ctx, flt)
    covered = _covered(ctx, flt, outages).cte("covered")
    named = _by_point(ctx, flt, outages, Contract.service_point_id, Contract.end_date).cte("named")

    wide = select(covered.c.outage_id, covered.c.region_id, _contracts_reached(
        covered.c.region_id, covered.c.utility, covered.c.day).label("pairs")).subquery("wide")
    by_outage = union_all(  # (outage, region, contracts it reached there)
        select(wide.c.outage_id, wide.c.region_id, wide.c.pairs).where(wide.c.pairs > 0),
        select(named.c.outage_id, named.c.region_id, func.count().label("pairs"))
        .group_by(named.c.outage_id, named.c.region_id)).subquery("by_outage")
    earliest = (select(covered.c.region_id, covered.c.utility, func.min(covered.c.day).label("day"))
                .group_by(covered.c.region_id, covered.c.utility).subquery("earliest"))
    # Whether a region-wide outage reached a contract a named one did (its service point read only then).
    by_wide = (select(covered.c.region_id).join(ServicePoint, and_(ServicePoint.id == named.c.service_point_id,
                                                                   ServicePoint.utility == covered.c.utility))
               .where(covered.c.region_id == named.c.region_id,
                      or_(named.c.end_date.is_(None), named.c.end_date >= covered.c.day)).exists())
    reached = union_all(  # (region, distinct contracts): region-wide, then only named
        select(earliest.c.region_id, _contracts_reached(earliest.c.region_id, earliest.c.utility, earliest.c.day)
               .label("contracts")),
        select(named.c.region_id, func.count(func.distinct(named.c.contract_id)).label("contracts"))
        .where(~by_wide).group_by(named.c.region_id)).subquery("reached")
    people = (select(reached.c.region_id, func.sum(reached.c.contracts).label("subscribers"))
              .group_by(reached.c.region_id).subquery())
    return outages, by_outage, people


def _per_region(ctx, flt):
    outages, by_outage, people = _summary(ctx, flt)
    planned_seconds = case((outages.c.planned.is_(True), outages.c.seconds), else_=literal(0))
    unplanned_seconds = case((outages.c.planned.is_(False), outages.c.seconds), else_=literal(0))
    events = (select(by_outage.c.region_id, func.count().label("outages"),
                     func.sum(_flag(outages, True)).label("planned"),
                     func.sum(_flag(outages, False)).label("unplanned"),
                     func.sum(planned_seconds).label("planned_seconds"),
                     func.sum(unplanned_seconds).label("unplanned_seconds"),
                     func.sum(by_outage.c.pairs * outages.c.seconds).label("subscriber_seconds"))
              .join(outages, outages.c.id == by_outage.c.outage_id).group_by(by_outage.c.region_id).subquery())
    return (select(Region.name.label("region"), events.c.outages, events.c.planned, events.c.unplanned,
                   cast(events.c.planned_seconds, BigInteger).label("planned_seconds"),
                   cast(events.c.unplanned_seconds, BigInteger).label("unplanned_seconds"),
                   cast(people.c.subscribers, BigInteger).label("subscribers"),
                   cast(events.c.subscriber_seconds, BigInteger).label("subscriber_seconds"))
            .select_from(events).join(people, people.c.region_id == events.c.region_id)
            .join(Region, Region.id == events.c.region_id).order_by(Region.path))


def totals(ctx, report, flt, stmt):
    """Per subscriber, the count and the sums from the summary's parts: a contract is in one region, so the count is
    the regions' distinct contracts, and each sum runs over (outage, contract) pairs counted per region."""
    if flt.group == PER_REGION:
        return _sum_columns(ctx, report, flt, stmt)
    outages, by_outage, people = _summary(ctx, flt)
    pairs = by_outage.c.pairs
    sums = ctx.session.execute(select(
        func.coalesce(func.sum(pairs), 0), func.coalesce(func.sum(case((outages.c.planned.is_(True), pairs),
                                                                       else_=literal(0))), 0),
        func.coalesce(func.sum(case((outages.c.planned.is_(False), pairs), else_=literal(0))), 0),
        func.coalesce(func.sum(pairs * outages.c.seconds), 0))
        .select_from(by_outage).join(outages, outages.c.id == by_outage.c.outage_id)).one()
    count = ctx.session.scalar(select(func.coalesce(func.sum(people.c.subscribers), 0)))
    return {"count": int(count), **{key: int(value) for key, value in zip(
        ("outages", "planned", "unplanned", "seconds"), sums, strict=True)}}


def statement(ctx, flt):
    return _per_region(ctx, flt) if flt.group == PER_REGION else _per_subscriber(ctx, flt)


def chart(ctx, flt):
    rows = ctx.session.execute(_per_region(ctx, flt)).mappings().all()
    return {"type": "bar", "unit": "hours", "stacked": True, "labels": [r["region"] for r in rows],
            "datasets": [{"label": str(_l("Planned hours")), "data": [r["planned_seconds"] / 3600 for r in rows]},
                         {"label": str(_l("Unplanned hours")),
                          "data": [r["unplanned_seconds"] / 3600 for r in rows]}]}


def defaults(ctx):
    return {"date_from": jalali_month_start(ctx.today), "date_to": ctx.today}


REPORT = Report(
    key="outages", title=_l("Outages"),
    description=_l("Subscribers reached by outages in a period: how often and how long, planned and unplanned."),
    columns=SUBSCRIBER_COLUMNS, columns_by_group={PER_REGION: REGION_COLUMNS},
    statement=statement, first_rows=first_rows, decorate=decorate, totals=totals, chart=chart, defaults=defaults,
    filters=("date_from", "date_to", "region_id", "utility", "planned", "group"),
    groups=((PER_REGION, _l("Per region")), (PER_SUBSCRIBER, _l("Per subscriber"))),
    materialize=lambda flt: flt.group == PER_REGION,
    notes=(_l("An outage that names no service points reaches every contract of its utility in its region."),
           _l("Durations are counted inside the period; an outage still going counts until now.")),
)
