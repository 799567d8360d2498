"""Meter readings: recorded per register with their validation flags, overridden with a reason,
estimated for a broken meter, and uploaded in bulk from CSV with a report per line."""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from billing.models import Bill, BillStatus, MeterReading, ReadingSource
from billing.readings_check import check_reading, estimate_consumption
from core.audit import audit
from core.errors import DomainError, NotFound
from core.jalali import InvalidJalaliDate, parse_jalali_date
from core.text import digits_only, normalize_persian, to_ascii_digits
from subscribers.models import Contract, Meter, MeterInstallation

SOURCES = tuple(ReadingSource)
# The registry names a meter's registers; the calculation names what they measure.
CALCULATION_REGISTER = {"single": "total", "peak": "peak", "mid": "mid", "offpeak": "offpeak",
                        "friday_peak": "friday_peak"}
HISTORY_DAYS = 365


@dataclass(frozen=True)
class Installed:
    meter: Meter
    installation: MeterInstallation

    @property
    def registers(self) -> tuple[str, ...]:
        return ("peak", "mid", "offpeak") if self.meter.register_set == "tou" else ("single",)


def installed_meter(session, contract: Contract) -> Installed:
    """The meter now on the contract's service point."""
    installation = session.scalar(select(MeterInstallation).where(
        MeterInstallation.service_point_id == contract.service_point_id, MeterInstallation.removed_on.is_(None)))
    if installation is None:
        raise DomainError("billing.no_meter", contract=contract.subscription_no)
    return Installed(installation.meter, installation)


def previous_reading(session, contract: Contract, installed: Installed, register: str,
                     before: date) -> tuple[int, date]:
    """(value, day) of the register's last reading before `before`, else the installation's reading."""
    row = session.execute(select(MeterReading.value, MeterReading.read_on).where(
        MeterReading.contract_id == contract.id, MeterReading.meter_id == installed.meter.id,
        MeterReading.register == register, MeterReading.read_on < before)
        .order_by(MeterReading.read_on.desc(), MeterReading.id.desc()).limit(1)).first()
    if row is not None:
        return int(row.value), row.read_on
    initial = installed.installation.initial_readings or {}
    start = max(installed.installation.installed_on, contract.start_date)
    return int(initial.get(register, initial.get("single", 0)) or 0), start


def consumption_history(session, contract_id: int, register: str, before: date) -> list[tuple[date, date, int]]:
    """(from, to, consumption) of the register's readings in the year before `before`, oldest first;
    `from` is the day after the reading before it."""
    rows = session.execute(select(MeterReading.read_on, MeterReading.consumption).where(
        MeterReading.contract_id == contract_id, MeterReading.register == register,
        MeterReading.read_on < before, MeterReading.read_on >= before - timedelta(days=HISTORY_DAYS))
        .order_by(MeterReading.read_on)).all()
    earlier = session.scalar(select(MeterReading.read_on).where(
        MeterReading.contract_id == contract_id, MeterReading.register == register,
        MeterReading.read_on < (rows[0].read_on if rows else before)).order_by(MeterReading.read_on.desc()).limit(1))
    history, start = [], earlier
    for read_on, consumption in rows:
        if start is not None:
            history.append((start + timedelta(days=1), read_on, int(consumption)))
        start = read_on
    return history


def record_reading(session, actor, contract_id: int, register: str, read_on: date, value: int, *,
                   source: str = ReadingSource.READ, reader_name: str = "", opening: bool = False) -> MeterReading:
    """A reading of one register, checked against the one before it and the last year's consumption."""
    contract = _contract(session, contract_id)
    installed = installed_meter(session, contract)
    if register not in installed.registers:
        raise DomainError("billing.register_invalid", field="register", registers=", ".join(installed.registers))
    if source not in SOURCES:
        raise DomainError("billing.source_invalid", field="source")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= 10 ** installed.meter.digits:
        raise DomainError("billing.reading_value_invalid", field="value", digits=installed.meter.digits)
    if read_on is None:
        raise DomainError("field.required", field="read_on")
    if session.scalar(select(MeterReading.id).where(
            MeterReading.contract_id == contract.id, MeterReading.register == register,
            MeterReading.read_on == read_on)) is not None:
        raise DomainError("billing.reading_exists", field="read_on")
    if _billed_after(session, contract.id, read_on):
        raise DomainError("billing.reading_before_billed", field="read_on")
    previous, previous_on = previous_reading(session, contract, installed, register, read_on)
    digits, multiplier = installed.meter.digits, installed.meter.multiplier or 1
    # meter units per 30 days, as the check compares them
    history = [c // multiplier * 30 // ((e - s).days + 1)
               for s, e, c in consumption_history(session, contract.id, register, read_on)]
    flags = check_reading(previous, value, digits=digits, read_on=read_on, previous_on=previous_on, history=history)
    consumption = value - previous
    if "rollover" in flags:
        consumption = value + 10 ** digits - previous
    reading = MeterReading(
        contract_id=contract.id, meter_id=installed.meter.id, region_id=contract.region_id, register=register,
        read_on=read_on, value=value, consumption=consumption * multiplier, source=source,
        reader_name=(normalize_persian(reader_name or "") or "")[:100], flags=[] if opening else list(flags),
        opening=opening,
        recorded_by_id=getattr(actor, "id", None))
    session.add(reading)
    session.flush()
    audit(session, actor, "billing.reading_recorded", reading, contract_id=contract.id, register=register,
          value=value, flags=list(flags))
    return reading


def override(session, actor, reading_id: int, reason: str) -> MeterReading:
    """Accept a flagged reading for billing, saying why it is right."""
    reading = session.get(MeterReading, reading_id)
    if reading is None:
        raise NotFound("billing.not_found")
    reason = normalize_persian(reason or "") or ""
    if len(reason) < 3:
        raise DomainError("billing.reason_required", field="reason")
    if reading.bill_id is not None:
        raise DomainError("billing.reading_billed")
    reading.override_reason, reading.overridden_by_id = reason[:500], getattr(actor, "id", None)
    session.flush()
    audit(session, actor, "billing.reading_overridden", reading, reason=reason, flags=reading.flags)
    return reading


def estimate(session, actor, contract_id: int, read_on: date, reason: str = "") -> list[MeterReading]:
    """Estimated readings for every register of a broken meter: the previous value plus the average
    daily consumption of the last year times the days since."""
    contract = _contract(session, contract_id)
    installed = installed_meter(session, contract)
    made = []
    for register in installed.registers:
        previous, previous_on = previous_reading(session, contract, installed, register, read_on)
        history = consumption_history(session, contract.id, register, read_on)
        if not history:
            raise DomainError("billing.no_history_to_estimate", field="read_on")
        multiplier = installed.meter.multiplier or 1
        units = estimate_consumption([(s, e, c // multiplier) for s, e, c in history],
                                     previous_on + timedelta(days=1), read_on)
        value = (previous + units) % 10 ** installed.meter.digits
        reading = record_reading(session, actor, contract.id, register, read_on, value,
                                 source=ReadingSource.ESTIMATED, reader_name=reason)
        made.append(reading)
    return made


@dataclass
class LineReport:
    line: int
    ok: bool
    message_code: str = ""
    params: dict | None = None
    reading: MeterReading | None = None


CSV_COLUMNS = ("serial", "register", "date", "value", "source", "reader")


def import_csv(session, actor, content: str, region_ids: set[int] | None = None) -> list[LineReport]:
    """Readings from CSV lines `serial,register,date,value[,source[,reader]]` (date in Jalali; a
    first line naming the columns is skipped). Each line is saved or refused on its own: a bad line
    never stops the others. `region_ids` limits which contracts' meters may be read."""
    reports = []
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    for number, row in enumerate(rows, start=1):
        cells = [normalize_persian(c) or "" for c in row]
        if not any(cells) or (number == 1 and cells and cells[0].lower() in ("serial", "سریال", "شماره کنتور")):
            continue
        savepoint = session.begin_nested()
        try:
            reading = _import_line(session, actor, cells, region_ids)
        except DomainError as error:
            savepoint.rollback()
            reports.append(LineReport(number, False, error.code, error.params))
        else:
            savepoint.commit()
            reports.append(LineReport(number, True, reading=reading))
    return reports


def _import_line(session, actor, cells: list[str], region_ids: set[int] | None) -> MeterReading:
    if len(cells) < 4:
        raise DomainError("billing.csv_line_malformed")
    serial, register, day, value = cells[:4]
    source = (cells[4] if len(cells) > 4 and cells[4] else ReadingSource.READ).lower()
    reader = cells[5] if len(cells) > 5 else ""
    meter_id = session.scalar(select(Meter.id).where(Meter.serial == serial.upper()))
    contract = None
    if meter_id is not None:
        contract = session.scalar(select(Contract).join(MeterInstallation, MeterInstallation.service_point_id
                                                        == Contract.service_point_id)
                                  .where(MeterInstallation.meter_id == meter_id,
                                         MeterInstallation.removed_on.is_(None), Contract.status == "active"))
    if contract is None or (region_ids is not None and contract.region_id not in region_ids):
        raise DomainError("billing.csv_meter_unknown", serial=serial)
    try:
        read_on = parse_jalali_date(day)
    except InvalidJalaliDate as exc:
        raise DomainError("billing.csv_date_invalid", value=day) from exc
    digits = digits_only(value)
    if not digits or digits != to_ascii_digits(value).replace(",", "").strip():
        raise DomainError("billing.reading_value_invalid", digits="")
    return record_reading(session, actor, contract.id, register.lower() or "single", read_on, int(digits),
                          source=source, reader_name=reader)


def carry_over(session, actor, predecessor_id: int, successor_id: int) -> list[MeterReading]:
    """The successor of a transferred contract starts from its predecessor's last reading of each register
    of the meter in place (an opening reading: billed already, under the old owner), so its first bill
    covers only the new owner's use."""
    successor = _contract(session, successor_id)
    installed = installed_meter(session, successor)
    carried = []
    for register in installed.registers:
        last = session.scalar(select(MeterReading).where(
            MeterReading.contract_id == predecessor_id, MeterReading.meter_id == installed.meter.id,
            MeterReading.register == register).order_by(MeterReading.read_on.desc(), MeterReading.id.desc()).limit(1))
        if last is None:
            continue  # the successor starts from the installation's reading, as its predecessor did
        reading = MeterReading(
            contract_id=successor.id, meter_id=installed.meter.id, region_id=successor.region_id, register=register,
            read_on=last.read_on, value=last.value, consumption=0, source=last.source, reader_name=last.reader_name,
            flags=[], opening=True, recorded_by_id=getattr(actor, "id", None))
        session.add(reading)
        carried.append(reading)
    session.flush()
    if carried:
        audit(session, actor, "billing.readings_carried_over", successor, predecessor_id=predecessor_id,
              readings={r.register: r.value for r in carried}, read_on=carried[0].read_on.isoformat())
    return carried


def readings_of(session, contract_id: int, limit: int = 60) -> list[MeterReading]:
    return list(session.scalars(select(MeterReading).where(MeterReading.contract_id == contract_id)
                                .order_by(MeterReading.read_on.desc(), MeterReading.register).limit(limit)))


def _contract(session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("billing.no_contract")
    return contract


def _billed_after(session, contract_id: int, day: date) -> bool:
    """Whether an issued bill already covers `day` or later: readings may not be slipped under it."""
    return session.scalar(select(Bill.id).where(Bill.contract_id == contract_id, Bill.status == BillStatus.ISSUED,
                                                Bill.period_end >= day).limit(1)) is not None
