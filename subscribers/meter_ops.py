"""Meters: registered into stock, installed on a service point, removed, replaced.

A removal never deletes: it closes the installation row with the day and the final readings, and the
meter goes back to stock (or to test, or is marked faulty). The history of a service point is its
installation rows in order.
"""

from datetime import date

from sqlalchemy import select

from core.audit import audit
from core.errors import DomainError
from core.jalali import tehran_today
from core.utilities import Utility
from subscribers import validation as v
from subscribers.enums import (
    REACTIVE_REGISTER,
    SINGLE_REGISTERS,
    TOU_REGISTERS,
    MeterKind,
    MeterStatus,
    RegisterSet,
    ServicePointStatus,
)
from subscribers.models import Meter, MeterInstallation, ServicePoint
from subscribers.operations import region_or_error

REMOVED_TO = (MeterStatus.IN_STOCK, MeterStatus.IN_TEST, MeterStatus.FAULTY, MeterStatus.RETIRED)


def registers_of(meter: Meter) -> tuple[str, ...]:
    base = TOU_REGISTERS if meter.register_set == RegisterSet.TOU else SINGLE_REGISTERS
    return (*base, REACTIVE_REGISTER) if meter.has_reactive else base


def meter_values(session, data: dict) -> dict:
    serial = (v.required_text(data.get("serial"), "serial", 32)).upper().replace(" ", "")
    year = v.positive_int(data.get("manufacture_year"), "manufacture_year")
    if year is not None and not 1950 <= year <= tehran_today().year:
        raise DomainError("number.invalid", field="manufacture_year")
    digits = v.positive_int(data.get("digits"), "digits") or 6
    if not 4 <= digits <= 10:
        raise DomainError("number.invalid", field="digits")
    return {
        "serial": serial,
        "utility": v.choice(data.get("utility"), list(Utility), "utility"),
        "manufacturer": v.optional_text(data.get("manufacturer"), 100),
        "model": v.optional_text(data.get("model"), 100),
        "kind": v.choice(data.get("kind"), list(MeterKind), "kind"),
        "register_set": v.choice(data.get("register_set") or "single", list(RegisterSet), "register_set"),
        "has_reactive": bool(data.get("has_reactive")),
        "digits": digits,
        "multiplier": v.positive_int(data.get("multiplier"), "multiplier") or 1,
        "manufacture_year": year,
        "region_id": region_or_error(session, data.get("region_id")).id,
    }


def register_meter(session, actor, data: dict) -> Meter:
    """A new meter enters the region's stock."""
    values = meter_values(session, data)
    if session.scalar(select(Meter.id).where(Meter.serial == values["serial"])) is not None:
        raise DomainError("meter.serial_taken", field="serial")
    meter = Meter(status=MeterStatus.IN_STOCK, **values)
    session.add(meter)
    session.flush()
    audit(session, actor, "meter.registered", meter, serial=meter.serial)
    return meter


def open_installation(session, service_point_id: int) -> MeterInstallation | None:
    return session.scalar(select(MeterInstallation).where(MeterInstallation.service_point_id == service_point_id,
                                                          MeterInstallation.removed_on.is_(None)))


def install_meter(session, actor, meter_id: int, service_point_id: int, on: date, readings: dict
                  ) -> MeterInstallation:
    meter = session.get(Meter, meter_id, with_for_update=True, populate_existing=True)
    point = session.get(ServicePoint, service_point_id, with_for_update=True, populate_existing=True)
    if meter is None:
        raise DomainError("meter.not_found", field="meter_id")
    if point is None:
        raise DomainError("service_point.not_found", field="service_point_id")
    if meter.status != MeterStatus.IN_STOCK:
        raise DomainError("meter.not_in_stock", field="meter_id", serial=meter.serial)
    if meter.utility != point.utility:
        raise DomainError("meter.utility_mismatch", field="meter_id")
    if point.status == ServicePointStatus.TERMINATED:
        raise DomainError("service_point.terminated", field="service_point_id")
    if open_installation(session, point.id) is not None:
        raise DomainError("service_point.has_meter", field="service_point_id")
    if on is None:
        raise DomainError("field.required", field="installed_on")
    installation = MeterInstallation(meter_id=meter.id, service_point_id=point.id, installed_on=on,
                                     initial_readings=v.readings(readings, registers_of(meter), "initial_readings"),
                                     installed_by_id=getattr(actor, "id", None))
    meter.status = MeterStatus.INSTALLED
    if point.status == ServicePointStatus.REQUESTED:
        point.status = ServicePointStatus.ACTIVE
    session.add(installation)
    session.flush()
    audit(session, actor, "meter.installed", installation, meter=meter.serial, service_point_id=point.id,
          readings=installation.initial_readings)
    return installation


def remove_meter(session, actor, service_point_id: int, on: date, readings: dict, reason: str = "",
                 meter_status: str = MeterStatus.IN_STOCK) -> MeterInstallation:
    installation = open_installation(session, service_point_id)
    if installation is None:
        raise DomainError("meter.not_installed", field="service_point_id")
    meter = session.get(Meter, installation.meter_id, with_for_update=True, populate_existing=True)
    final = v.readings(readings, registers_of(meter), "final_readings")
    for register, value in final.items():
        if value < installation.initial_readings.get(register, 0):
            raise DomainError("reading.less_than_initial", field=f"final_readings.{register}")
    if on is None:
        raise DomainError("field.required", field="removed_on")
    if on < installation.installed_on:
        raise DomainError("date.before_installation", field="removed_on")
    installation.removed_on = on
    installation.final_readings = final
    installation.removal_reason = v.optional_text(reason, 200)
    installation.removed_by_id = getattr(actor, "id", None)
    meter.status = v.choice(str(meter_status), [str(s) for s in REMOVED_TO], "meter_status")
    session.flush()
    audit(session, actor, "meter.removed", installation, meter=meter.serial, service_point_id=service_point_id,
          readings=final, reason=installation.removal_reason)
    return installation


def replace_meter(session, actor, service_point_id: int, new_meter_id: int, on: date, final_readings: dict,
                  initial_readings: dict, reason: str = "", old_meter_status: str = MeterStatus.IN_TEST
                  ) -> MeterInstallation:
    """Remove the meter on the service point and install another the same day."""
    remove_meter(session, actor, service_point_id, on, final_readings, reason, old_meter_status)
    return install_meter(session, actor, new_meter_id, service_point_id, on, initial_readings)


def meter_history(session, service_point_id: int) -> list[MeterInstallation]:
    return list(session.scalars(select(MeterInstallation).where(MeterInstallation.service_point_id == service_point_id)
                                .order_by(MeterInstallation.installed_on, MeterInstallation.id)))
