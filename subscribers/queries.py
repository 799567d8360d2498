"""Reads that the pages, the API and reports share."""

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from subscribers.models import (
    Contract,
    Document,
    Meter,
    MeterInstallation,
    Outage,
    Premise,
    ServicePoint,
    Subscriber,
    outage_service_points,
)
from subscribers.search import Hit


@dataclass
class PointView:
    point: ServicePoint
    installations: list = field(default_factory=list)  # (installation, meter), oldest first

    @property
    def current_meter(self):
        open_ = [meter for inst, meter in self.installations if inst.removed_on is None]
        return open_[0] if open_ else None


@dataclass
class Profile:
    subscriber: Subscriber
    premises: list  # (premise, [PointView])
    contracts: list  # Contract, newest first, including closed ones and those since transferred away
    documents: list
    outages: list
    request_ids: list


def subscriber_contracts(session, subscriber_id: int) -> list[Contract]:
    return list(session.scalars(select(Contract).where(Contract.subscriber_id == subscriber_id)
                                .order_by(Contract.status, Contract.start_date.desc(), Contract.id.desc())))


def subscriber_premises(session, subscriber_id: int, contracts: list[Contract]) -> list[Premise]:
    """Premises the subscriber registered, and those of their contracts (past or present)."""
    point_ids = {c.service_point_id for c in contracts}
    via_contracts = select(ServicePoint.premise_id).where(ServicePoint.id.in_(point_ids))
    stmt = select(Premise).where(or_(Premise.subscriber_id == subscriber_id, Premise.id.in_(via_contracts)))
    return list(session.scalars(stmt.order_by(Premise.id)))


def point_views(session, premise: Premise) -> list[PointView]:
    views = []
    for point in premise.service_points:
        rows = session.execute(
            select(MeterInstallation, Meter).join(Meter, Meter.id == MeterInstallation.meter_id)
            .where(MeterInstallation.service_point_id == point.id)
            .order_by(MeterInstallation.installed_on, MeterInstallation.id)
        ).all()
        views.append(PointView(point, [tuple(r) for r in rows]))
    return views


def outages_for(session, premises: list[Premise], limit: int = 20) -> list[Outage]:
    point_ids = [p.id for premise in premises for p in premise.service_points]
    region_ids = {premise.region_id for premise in premises}
    at_points = select(outage_service_points.c.outage_id).where(outage_service_points.c.service_point_id.in_(point_ids))
    stmt = select(Outage).where(or_(Outage.region_id.in_(region_ids), Outage.id.in_(at_points)))
    return list(session.scalars(stmt.order_by(Outage.starts_at.desc()).limit(limit)))


def profile(session, subscriber: Subscriber) -> Profile:
    contracts = subscriber_contracts(session, subscriber.id)
    premises = subscriber_premises(session, subscriber.id, contracts)
    documents = list(session.scalars(select(Document).where(Document.subscriber_id == subscriber.id)
                                     .order_by(Document.uploaded_at.desc())))
    request_ids = sorted({d.request_id for d in documents if d.request_id is not None})
    return Profile(subscriber, [(p, point_views(session, p)) for p in premises], contracts, documents,
                   outages_for(session, premises), request_ids)


def subscribers_by_id(session, ids) -> dict[int, Subscriber]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(Subscriber).where(Subscriber.id.in_(ids)))}


def hit_rows(session, hits: list[Hit]) -> list[tuple[Hit, Subscriber | None]]:
    people = subscribers_by_id(session, [h.subscriber_id for h in hits])
    return [(hit, people.get(hit.subscriber_id)) for hit in hits]


def scoped_list(session, model, region_ids: list[int] | None, page: int = 1, page_size: int = 50):
    """One page of a table, newest first, limited to the given regions (None: all)."""
    stmt = select(model)
    if region_ids is not None:
        stmt = stmt.where(model.region_id.in_(region_ids))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(model.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return rows, total
