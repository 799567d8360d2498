"""Subscribers, premises, service points and outages: every change, validated and audited.

Operations take the session and the acting user explicitly, flush, and never commit: the edge (a
page, an API call, a service task, the CLI) commits once. Permission checks belong to the edge,
which knows who is asking and in which region; these functions know the rules of the data.
Meters live in subscribers/meter_ops.py, contracts in subscribers/contract_ops.py.
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from core.audit import audit
from core.db import utcnow
from core.errors import DomainError, NotFound
from core.regions import Region
from core.utilities import Utility
from subscribers import validation as v
from subscribers.enums import (
    GAS_METER_SIZES,
    WATER_PIPE_DIAMETERS,
    BuildingUse,
    ClimateZone,
    ServicePointStatus,
    SubscriberKind,
)
from subscribers.models import Outage, Premise, ServicePoint, Subscriber
from subscribers.search import premise_search_text, subscriber_search_text

UNPLANNED_CLOCK_SLACK = timedelta(minutes=10)  # a field clock a little ahead is not an error
SUBSCRIBER_FIELDS = ("kind", "first_name", "last_name", "father_name", "birth_date", "legal_name", "economic_code",
                     "registration_no", "national_id", "mobile", "phone", "email", "region_id")
PREMISE_FIELDS = ("province", "city", "district", "street", "alley", "plaque", "unit", "postal_code", "latitude",
                  "longitude", "region_id", "climate_zone", "building_use")


def get_or_404(session, model, object_id, field: str = "id"):
    obj = session.get(model, object_id) if object_id is not None else None
    if obj is None:
        raise NotFound(f"{model.__tablename__}.not_found", field=field)
    return obj


def region_or_error(session, region_id, field: str = "region_id") -> Region:
    region = session.get(Region, region_id) if region_id not in (None, "") else None
    if region is None:
        raise DomainError("region.invalid", field=field)
    return region


def subscriber_values(session, data: dict) -> dict:
    """The stored form of a subscriber's fields, or a DomainError naming the first bad one."""
    kind = v.choice(data.get("kind") or "person", list(SubscriberKind), "kind")
    values = {"kind": kind, "region_id": region_or_error(session, data.get("region_id")).id,
              "mobile": v.mobile(data.get("mobile")), "phone": v.phone(data.get("phone")),
              "email": v.email(data.get("email"))}
    if kind == SubscriberKind.PERSON:
        values |= {
            "first_name": v.required_text(data.get("first_name"), "first_name", 100),
            "last_name": v.required_text(data.get("last_name"), "last_name", 100),
            "father_name": v.optional_text(data.get("father_name"), 100),
            "birth_date": v.past_date(data.get("birth_date"), "birth_date"),
            "national_id": v.national_id(data.get("national_id")),
            "legal_name": "", "economic_code": "", "registration_no": "",
        }
    else:
        values |= {
            "legal_name": v.required_text(data.get("legal_name"), "legal_name", 200),
            "national_id": v.legal_entity_id(data.get("national_id")),
            "economic_code": v.digits_code(data.get("economic_code"), "economic_code", 14),
            "registration_no": v.digits_code(data.get("registration_no"), "registration_no", 20),
            "first_name": "", "last_name": "", "father_name": "", "birth_date": None,
        }
    return values


def _check_national_id_free(session, national_id: str, subscriber_id: int | None = None) -> None:
    taken = session.scalar(select(Subscriber.id).where(Subscriber.national_id == national_id))
    if taken is not None and taken != subscriber_id:
        raise DomainError("subscriber.national_id_taken", field="national_id")


def _changes(obj, values: dict) -> dict:
    changed = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changed[name] = [old, new]
            setattr(obj, name, new)
    return changed


def create_subscriber(session, actor, data: dict) -> Subscriber:
    values = subscriber_values(session, data)
    _check_national_id_free(session, values["national_id"])
    subscriber = Subscriber(**values)
    subscriber.search_text = subscriber_search_text(subscriber)
    session.add(subscriber)
    session.flush()
    audit(session, actor, "subscriber.created", subscriber, national_id=subscriber.national_id,
          name=subscriber.display_name)
    return subscriber


def update_subscriber(session, actor, subscriber: Subscriber, data: dict) -> Subscriber:
    values = subscriber_values(session, {**{f: getattr(subscriber, f) for f in SUBSCRIBER_FIELDS}, **data})
    _check_national_id_free(session, values["national_id"], subscriber.id)
    changed = _changes(subscriber, values)
    if changed:
        subscriber.search_text = subscriber_search_text(subscriber)
        session.flush()
        audit(session, actor, "subscriber.updated", subscriber, changes=changed)
    return subscriber


def premise_values(session, data: dict) -> dict:
    return {
        "province": v.required_text(data.get("province"), "province", 64),
        "city": v.required_text(data.get("city"), "city", 64),
        "district": v.optional_text(data.get("district"), 64),
        "street": v.required_text(data.get("street"), "street", 128),
        "alley": v.optional_text(data.get("alley"), 128),
        "plaque": v.optional_text(data.get("plaque"), 16),
        "unit": v.optional_text(data.get("unit"), 16),
        "postal_code": v.postal_code(data.get("postal_code")),
        "latitude": v.latitude(data.get("latitude")),
        "longitude": v.longitude(data.get("longitude")),
        "region_id": region_or_error(session, data.get("region_id")).id,
        "climate_zone": v.choice(data.get("climate_zone") or "normal", list(ClimateZone), "climate_zone"),
        "building_use": v.choice(data.get("building_use") or "residential", list(BuildingUse), "building_use"),
    }


def create_premise(session, actor, subscriber: Subscriber | None, data: dict) -> Premise:
    premise = Premise(subscriber_id=subscriber.id if subscriber else None, **premise_values(session, data))
    premise.search_text = premise_search_text(premise)
    session.add(premise)
    session.flush()
    audit(session, actor, "premise.created", premise, subscriber_id=premise.subscriber_id,
          postal_code=premise.postal_code)
    return premise


def update_premise(session, actor, premise: Premise, data: dict) -> Premise:
    values = premise_values(session, {**{f: getattr(premise, f) for f in PREMISE_FIELDS}, **data})
    changed = _changes(premise, values)
    if changed:
        premise.search_text = premise_search_text(premise)
        session.flush()
        audit(session, actor, "premise.updated", premise, changes=changed)
    return premise


def service_point_values(data: dict) -> dict:
    utility = v.choice(data.get("utility"), list(Utility), "utility")
    values = {"utility": utility, "phases": None, "amperage": None, "pipe_diameter": "", "gas_meter_size": ""}
    if utility == Utility.ELECTRICITY:
        values["phases"] = int(v.choice(str(data.get("phases") or ""), ("1", "3"), "phases"))
        values["amperage"] = v.positive_int(data.get("amperage"), "amperage", required=True)
    elif utility == Utility.WATER:
        values["pipe_diameter"] = v.choice(data.get("pipe_diameter"), WATER_PIPE_DIAMETERS, "pipe_diameter")
    else:
        values["gas_meter_size"] = v.choice(data.get("gas_meter_size"), GAS_METER_SIZES, "gas_meter_size")
    return values


def add_service_point(session, actor, premise: Premise, data: dict) -> ServicePoint:
    point = ServicePoint(premise_id=premise.id, status=ServicePointStatus.REQUESTED, **service_point_values(data))
    session.add(point)
    session.flush()
    audit(session, actor, "service_point.created", point, premise_id=premise.id, utility=point.utility)
    return point


def set_service_point_status(session, actor, point: ServicePoint, status: str) -> ServicePoint:
    status = v.choice(status, list(ServicePointStatus), "status")
    if point.status != status:
        audit(session, actor, "service_point.status_changed", point, old=point.status, new=status)
        point.status = status
        session.flush()
    return point


def check_outage(session, *, utility: str, starts_at: datetime | None, ends_at: datetime | None = None,
                 planned: bool = False, region_id: int | None = None, service_point_ids: list[int] | tuple = (),
                 now: datetime | None = None) -> tuple[str, Region | None, list[ServicePoint]]:
    """What an outage says, checked before anything is written: -> (utility, region, service points).
    An unplanned outage has already begun; the service points named are of the outage's utility."""
    utility = v.choice(utility, list(Utility), "utility")
    if starts_at is None:
        raise DomainError("field.required", field="starts_at")
    if ends_at is not None and ends_at <= starts_at:
        raise DomainError("outage.ends_before_start", field="ends_at")
    if not planned and starts_at > (now or utcnow()) + UNPLANNED_CLOCK_SLACK:
        raise DomainError("outage.unplanned_in_future", field="starts_at")
    region = region_or_error(session, region_id) if region_id not in (None, "") else None
    points = [get_or_404(session, ServicePoint, pid, "service_point_ids") for pid in service_point_ids]
    if region is None and not points:
        raise DomainError("outage.no_target", field="region_id")
    if any(point.utility != utility for point in points):
        raise DomainError("outage.point_other_utility", field="service_point_ids", utility=utility)
    return utility, region, points


def record_outage(session, actor, *, utility: str, starts_at: datetime, ends_at: datetime | None = None,
                  planned: bool = False, cause: str = "", region_id: int | None = None,
                  service_point_ids: list[int] | tuple = ()) -> Outage:
    """An outage of a region, or of named service points (at least one of the two)."""
    utility, region, points = check_outage(session, utility=utility, starts_at=starts_at, ends_at=ends_at,
                                           planned=planned, region_id=region_id, service_point_ids=service_point_ids)
    outage = Outage(utility=utility, starts_at=starts_at, ends_at=ends_at, planned=bool(planned),
                    cause=v.optional_text(cause, 200), region_id=region.id if region else None,
                    recorded_by_id=getattr(actor, "id", None), service_points=points)
    session.add(outage)
    session.flush()
    audit(session, actor, "outage.recorded", outage, region_id=outage.region_id, planned=outage.planned,
          service_points=[p.id for p in points])
    return outage
