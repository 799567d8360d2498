"""Service-task operations on the subscriber registry. Each changes the registry only through its domain
operations (subscribers.*_ops), links the request to the subscriber or contract it concerns, and returns
plain JSON for the diagram's next steps.

A choice an expert made that the registry refuses (a meter not in stock, a national ID already on file)
comes back as `{"ok": False, "problem": "…"}` (also written on the request's timeline) so the diagram
can send the case back; anything else that fails stops the request in error for an admin.
"""

from datetime import date, datetime

from flask import current_app, has_app_context
from sqlalchemy import select

from core.db import utcnow
from core.errors import DomainError
from core.jalali import TEHRAN, as_tehran
from core.messages import message_for
from core.regions import Region
from engine.operations.request_ops import note_on_request
from engine.registry import operation
from subscribers import contract_ops, meter_ops, operations, procedure_ops
from subscribers.enums import MeterStatus, ServicePointStatus
from subscribers.models import Contract, Meter, MeterInstallation, Premise, ServicePoint, Subscriber

# The connection types a request may ask for: code -> the service point's capacity fields.
SERVICES = {
    "electricity-1-25": {"utility": "electricity", "phases": 1, "amperage": 25},
    "electricity-1-32": {"utility": "electricity", "phases": 1, "amperage": 32},
    "electricity-3-25": {"utility": "electricity", "phases": 3, "amperage": 25},
    "electricity-3-32": {"utility": "electricity", "phases": 3, "amperage": 32},
    "water-1/2": {"utility": "water", "pipe_diameter": "1/2"},
    "water-3/4": {"utility": "water", "pipe_diameter": "3/4"},
    "water-1": {"utility": "water", "pipe_diameter": "1"},
    "gas-G4": {"utility": "gas", "gas_meter_size": "G4"},
    "gas-G6": {"utility": "gas", "gas_meter_size": "G6"},
    "gas-G10": {"utility": "gas", "gas_meter_size": "G10"},
}


def today() -> date:
    return as_tehran(utcnow()).date()


def day_of(value) -> date:
    """A form's date ("YYYY-MM-DD") or today."""
    return date.fromisoformat(value) if value else today()


def company_code() -> str:
    return current_app.config.get("MADAM_COMPANY_CODE", "101") if has_app_context() else "101"


def refused(ctx, error: DomainError, **extra) -> dict:
    problem = message_for(error)
    note_on_request(ctx, problem)
    return {"ok": False, "problem": problem, **extra}


def link(ctx, subscriber_id=None, contract_id=None) -> None:
    """The request concerns this subscriber / contract (the cartable shows them; payments find it)."""
    if subscriber_id is not None:
        ctx.instance.subscriber_id = subscriber_id
    if contract_id is not None:
        ctx.instance.contract_id = contract_id


def service_fields(service: str) -> dict:
    if service not in SERVICES:
        raise DomainError("connection.service_unknown", field="service")
    return dict(SERVICES[service])


# --- Subscribers --------------------------------------------------------------------------------------------


def _subscriber_input(ctx, values: dict) -> dict:
    """The form's values as the registry takes them: in the request's region, dates as dates."""
    birth = values.get("birth_date")
    return {**values, "region_id": ctx.instance.region_id,
            "birth_date": date.fromisoformat(birth) if isinstance(birth, str) and birth else birth or None}


@operation("registry.check_subscriber", result={"ok": True, "problem": "", "duplicate": False})
def check_subscriber(ctx, *, values: dict):
    """Whether the identity typed could be registered, without registering: `duplicate` when the national ID
    is already on file, otherwise the first field the registry refuses as `problem`."""
    try:
        checked = operations.subscriber_values(ctx.session, _subscriber_input(ctx, values))
    except DomainError as error:
        return refused(ctx, error, duplicate=False)
    if ctx.session.scalar(select(Subscriber.id).where(Subscriber.national_id == checked["national_id"])):
        return refused(ctx, DomainError("subscriber.national_id_taken", field="national_id"), duplicate=True)
    return {"ok": True, "problem": "", "duplicate": False}


@operation("registry.create_subscriber", result={"subscriber_id": 1201, "national_id": "0012345679"})
def create_subscriber(ctx, *, values: dict):
    """Register the subscriber in the request's region and link the request to them."""
    subscriber = operations.create_subscriber(ctx.session, ctx.actor, _subscriber_input(ctx, values))
    link(ctx, subscriber_id=subscriber.id)
    return {"subscriber_id": subscriber.id, "national_id": subscriber.national_id}


# --- New connection -----------------------------------------------------------------------------------------


@operation("registry.open_connection_request",
           result={"premise_id": 310, "service_point_id": 520, "utility": "electricity"})
def open_connection_request(ctx, *, subscriber_id: int, service: str, address: dict, location=None):
    """The premise and its requested service point for a new connection, in the request's region."""
    subscriber = ctx.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise DomainError("subscriber.not_found", field="subscriber_id")
    capacity = service_fields(service)
    region = ctx.session.get(Region, ctx.instance.region_id)
    if capacity["utility"] not in region.utilities:
        raise DomainError("region.utility_not_served", field="service")
    location = location or {}
    premise = operations.create_premise(ctx.session, ctx.actor, subscriber, {
        **address, "latitude": location.get("lat"), "longitude": location.get("lng"), "region_id": region.id})
    point = operations.add_service_point(ctx.session, ctx.actor, premise, capacity)
    link(ctx, subscriber_id=subscriber.id)
    return {"premise_id": premise.id, "service_point_id": point.id, "utility": point.utility}


@operation("registry.record_location", result={"premise_id": 310, "latitude": "29.61", "longitude": "52.53"})
def record_location(ctx, *, premise_id: int, location: dict):
    """The premise's coordinates as surveyed on site."""
    premise = operations.get_or_404(ctx.session, Premise, premise_id, "premise_id")
    operations.update_premise(ctx.session, ctx.actor, premise,
                              {"latitude": location["lat"], "longitude": location["lng"]})
    return {"premise_id": premise.id, "latitude": str(premise.latitude), "longitude": str(premise.longitude)}


@operation("registry.reserve_contract",
           result={"contract_id": 900, "subscription_no": "0040000031", "bill_id": "3110121"})
def reserve_contract(ctx, *, subscriber_id: int, service_point_id: int, tariff_type: str):
    """Number the new connection's contract (status requested) so its fee can be invoiced and paid."""
    contract = procedure_ops.reserve_contract(ctx.session, ctx.actor, subscriber_id, service_point_id, today(),
                                              {"tariff_type": tariff_type}, company_code())
    link(ctx, contract_id=contract.id)
    return {"contract_id": contract.id, "subscription_no": contract.subscription_no, "bill_id": contract.bill_id}


@operation("registry.install_meter",
           result={"ok": True, "problem": "", "meter_id": 77, "serial": "EL-1403-0001", "installation_id": 91})
def install_meter(ctx, *, service_point_id: int, reading: int, meter_id=None, installed_on=None):
    """Install the meter chosen (or the region's oldest in stock) with its initial reading."""
    point = operations.get_or_404(ctx.session, ServicePoint, service_point_id, "service_point_id")
    if not meter_id:
        region_id = ctx.session.get(Premise, point.premise_id).region_id
        meter = procedure_ops.stock_meter(ctx.session, point.utility, region_id)
        if meter is None:
            return refused(ctx, DomainError("meter.none_in_stock", field="meter_id"))
        meter_id = meter.id
    try:
        with ctx.session.begin_nested():
            installation = meter_ops.install_meter(ctx.session, ctx.actor, int(meter_id), point.id,
                                                   day_of(installed_on), {"single": reading})
    except DomainError as error:
        return refused(ctx, error)
    meter = ctx.session.get(Meter, installation.meter_id)
    return {"ok": True, "problem": "", "meter_id": meter.id, "serial": meter.serial,
            "installation_id": installation.id}


@operation("registry.activate_contract", result={"contract_id": 900, "subscription_no": "0040000031",
                                                 "bill_id": "3110121", "start_date": "2026-11-28"})
def activate_contract(ctx, *, contract_id: int, on=None):
    contract = procedure_ops.activate_contract(ctx.session, ctx.actor, contract_id, day_of(on))
    return {"contract_id": contract.id, "subscription_no": contract.subscription_no, "bill_id": contract.bill_id,
            "start_date": contract.start_date.isoformat()}


@operation("registry.cancel_connection", result={"service_point_id": 520, "contract_id": 900})
def cancel_connection(ctx, *, service_point_id: int, reason: str, contract_id=None):
    """A connection request given up: its service point terminated, its reserved contract (if any) closed."""
    point = operations.get_or_404(ctx.session, ServicePoint, service_point_id, "service_point_id")
    if contract_id:
        procedure_ops.cancel_reserved_contract(ctx.session, ctx.actor, contract_id, today(), reason)
    operations.set_service_point_status(ctx.session, ctx.actor, point, ServicePointStatus.TERMINATED)
    return {"service_point_id": point.id, "contract_id": contract_id}


# --- Contracts and meters -----------------------------------------------------------------------------------


def _installation(session, service_point_id: int) -> MeterInstallation | None:
    return meter_ops.open_installation(session, service_point_id)


@operation("registry.contract_facts", result={
    "contract_id": 900, "subscriber_id": 1201, "service_point_id": 520, "premise_id": 310, "utility": "water",
    "subscription_no": "0040000031", "meter_id": 77, "serial": "WA-1403-0001", "initial_reading": 120})
def contract_facts(ctx, *, contract_id: int):
    """What later steps need to know about the request's contract; links the request to it."""
    return _facts(ctx, operations.get_or_404(ctx.session, Contract, contract_id, "contract_id"))


def _facts(ctx, contract: Contract) -> dict:
    point = ctx.session.get(ServicePoint, contract.service_point_id)
    installation = _installation(ctx.session, point.id)
    link(ctx, subscriber_id=contract.subscriber_id, contract_id=contract.id)
    return {"contract_id": contract.id, "subscriber_id": contract.subscriber_id, "service_point_id": point.id,
            "premise_id": point.premise_id, "utility": point.utility, "subscription_no": contract.subscription_no,
            "meter_id": installation.meter_id if installation else None,
            "serial": installation.meter.serial if installation else "",
            "initial_reading": (installation.initial_readings or {}).get("single") if installation else None}


@operation("registry.find_contract", result={"found": True, "contract_id": 900, "subscriber_id": 1201,
                                             "service_point_id": 520, "meter_id": 77, "serial": "WA-1399-0042"})
def find_contract(ctx, *, subscription_no: str):
    """The active contract with this subscription number, linked to the request when found."""
    contract = ctx.session.scalar(select(Contract).where(Contract.subscription_no == (subscription_no or "").strip(),
                                                         Contract.status == "active"))
    if contract is None:
        return {"found": False, "contract_id": None, "subscriber_id": None, "service_point_id": None,
                "meter_id": None, "serial": ""}
    return {"found": True, **_facts(ctx, contract)}


@operation("registry.replace_meter", result={
    "ok": True, "problem": "", "old_serial": "WA-1399-0042", "new_serial": "WA-1403-0001", "consumption": 1530})
def replace_meter(ctx, *, service_point_id: int, final_reading: int, initial_reading: int, reason: str,
                  new_meter_id=None, on=None, old_meter_status: str = "in_test"):
    """The old meter removed with its final reading, a new one (chosen or from stock) installed with its
    initial reading; returns the old meter's consumption since it was installed, for its settlement."""
    point = operations.get_or_404(ctx.session, ServicePoint, service_point_id, "service_point_id")
    old = _installation(ctx.session, point.id)
    if old is None:
        return refused(ctx, DomainError("meter.not_installed", field="service_point_id"))
    if not new_meter_id:
        meter = procedure_ops.stock_meter(ctx.session, point.utility, ctx.session.get(Premise, point.premise_id)
                                          .region_id)
        if meter is None:
            return refused(ctx, DomainError("meter.none_in_stock", field="new_meter_id"))
        new_meter_id = meter.id
    try:
        with ctx.session.begin_nested():
            new = meter_ops.replace_meter(ctx.session, ctx.actor, point.id, int(new_meter_id), day_of(on),
                                          {"single": final_reading}, {"single": initial_reading}, reason,
                                          old_meter_status or MeterStatus.IN_TEST)
    except DomainError as error:
        return refused(ctx, error)
    consumption = int(final_reading) - int((old.initial_readings or {}).get("single", 0))
    return {"ok": True, "problem": "", "old_serial": old.meter.serial, "new_serial": new.meter.serial,
            "consumption": consumption}


@operation("registry.transfer_contract", result={"contract_id": 901, "predecessor_id": 900,
                                                 "subscription_no": "0040000031"})
def transfer_contract(ctx, *, contract_id: int, new_owner_id: int, on=None):
    """Close the contract and open its successor for the new owner; the request follows the new contract."""
    successor = contract_ops.transfer_contract(ctx.session, ctx.actor, contract_id, new_owner_id, day_of(on))
    link(ctx, subscriber_id=new_owner_id, contract_id=successor.id)
    return {"contract_id": successor.id, "predecessor_id": contract_id, "subscription_no": successor.subscription_no}


@operation("registry.set_service_point_status", result={"service_point_id": 520, "status": "disconnected"})
def set_service_point_status(ctx, *, service_point_id: int, status: str):
    point = operations.get_or_404(ctx.session, ServicePoint, service_point_id, "service_point_id")
    operations.set_service_point_status(ctx.session, ctx.actor, point, status)
    return {"service_point_id": point.id, "status": point.status}


@operation("registry.relocate_meter", result={"ok": True, "problem": "", "premise_id": 310, "serial": "WA-1399-0042",
                                              "latitude": "29.61", "longitude": "52.53"})
def relocate_meter(ctx, *, service_point_id: int, location: dict, reading: int, on=None):
    """The meter moved to its new place: its installation closed at the reading and reopened the same day from
    it (the meter history shows the move) and the premise given the new coordinates."""
    point = operations.get_or_404(ctx.session, ServicePoint, service_point_id, "service_point_id")
    current = _installation(ctx.session, point.id)
    if current is None:
        return refused(ctx, DomainError("meter.not_installed", field="service_point_id"))
    try:
        with ctx.session.begin_nested():
            meter_id = current.meter_id
            meter_ops.replace_meter(ctx.session, ctx.actor, point.id, meter_id, day_of(on), {"single": reading},
                                    {"single": reading}, "جابجایی کنتور", MeterStatus.IN_STOCK)
            premise = ctx.session.get(Premise, point.premise_id)
            operations.update_premise(ctx.session, ctx.actor, premise,
                                      {"latitude": location["lat"], "longitude": location["lng"]})
    except DomainError as error:
        return refused(ctx, error)
    return {"ok": True, "problem": "", "premise_id": premise.id, "serial": current.meter.serial,
            "latitude": str(premise.latitude), "longitude": str(premise.longitude)}


@operation("registry.mark_meter_faulty", result={"meter_id": 77, "serial": "WA-1399-0042", "status": "faulty"})
def mark_meter_faulty(ctx, *, meter_id: int, reason: str):
    meter = procedure_ops.mark_meter_faulty(ctx.session, ctx.actor, meter_id, reason)
    return {"meter_id": meter.id, "serial": meter.serial, "status": meter.status}


def _moment(text):
    """A form's "YYYY-MM-DDTHH:MM" (Tehran time) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=TEHRAN) if text else None


def _outage_points(ctx, contract_ids) -> list[int]:
    """The service points of the contracts named, each within the request's region."""
    ids = [int(i) for i in (contract_ids or []) if i]
    if not ids:
        return []
    region = ctx.session.get(Region, ctx.instance.region_id)
    rows = ctx.session.execute(select(Contract.service_point_id, Region).join(Region, Region.id == Contract.region_id)
                               .where(Contract.id.in_(ids))).all()
    if len(rows) < len(set(ids)):
        raise DomainError("contract.not_found", field="contract_ids")
    if region is not None and not all(region.contains(where) for _point, where in rows):
        raise DomainError("outage.contract_elsewhere", field="contract_ids")
    return [point for point, _where in rows]


@operation("registry.check_outage", result={"ok": True, "problem": "", "service_points": 0})
def check_outage(ctx, *, utility: str, starts_at: str, planned: bool, ends_at=None, contract_ids=None,
                 scope: str = "region"):
    """The outage as the engineer described it, checked before it goes for approval or is recorded: a
    problem goes back to the engineer."""
    try:
        points = _outage_points(ctx, contract_ids)
        if scope == "contracts" and not points:
            raise DomainError("outage.no_target", field="contract_ids")
        operations.check_outage(ctx.session, utility=utility, starts_at=_moment(starts_at), ends_at=_moment(ends_at),
                                planned=planned, region_id=None if points else ctx.instance.region_id,
                                service_point_ids=points)
    except DomainError as error:
        return refused(ctx, error, service_points=0)
    return {"ok": True, "problem": "", "service_points": len(points)}


@operation("registry.record_outage", result={"outage_id": 12, "service_points": 0})
def record_outage(ctx, *, utility: str, starts_at: str, planned: bool, cause: str, ends_at=None,
                  contract_ids=None):
    """An outage of the request's region, or only of the service points of the contracts named."""
    points = _outage_points(ctx, contract_ids)
    outage = operations.record_outage(ctx.session, ctx.actor, utility=utility, starts_at=_moment(starts_at),
                                      ends_at=_moment(ends_at), planned=planned, cause=cause,
                                      region_id=None if points else ctx.instance.region_id, service_point_ids=points)
    return {"outage_id": outage.id, "service_points": len(points)}


@operation("registry.end_outage", result={"ok": True, "problem": "", "outage_id": 12,
                                          "ends_at": "2026-11-28T18:30:00+03:30"})
def end_outage(ctx, *, outage_id: int, ends_at: str):
    """When the supply came back; a moment before the outage began is sent back to whoever typed it."""
    try:
        with ctx.session.begin_nested():
            outage = procedure_ops.end_outage(ctx.session, ctx.actor, outage_id, _moment(ends_at))
    except DomainError as error:
        return refused(ctx, error, outage_id=outage_id, ends_at=None)
    return {"ok": True, "problem": "", "outage_id": outage.id, "ends_at": outage.ends_at.isoformat()}
