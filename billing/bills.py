"""Bills: calculated for a contract from its last billed reading to its new one, issued and posted to
the ledger in one transaction, never changed afterwards; a wrong bill is cancelled (its journal
reversed) and issued again, with a reason."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from billing.calculation import Quote, Usage, quote
from billing.models import Bill, BillStatus, MeterReading, TariffType
from billing.readings import CALCULATION_REGISTER, installed_meter, previous_reading
from billing.tariff import UTILITY_CLIMATE_ZONES
from billing.tariffs import find_tariff_type, tariff_code_for, versions_for_period
from core.audit import audit
from core.db import utcnow
from core.errors import Conflict, DomainError, NotFound
from core.identifiers import make_payment_id
from core.jalali import to_jalali
from core.text import normalize_persian
from ledger.accounts import lock_contract_account
from ledger.bills import balance_brought_forward, post_bill
from ledger.reversal import reverse
from subscribers.models import Contract, MeterInstallation

DEFAULT_DUE_DAYS = 10
# The registry's climate classes (normal, warm1 hottest … warm4) in each utility's tariff words.
# Gas zones run from climate1 (coldest) to climate5 (warmest); water tariffs price zones by coefficient.
CLIMATE_ZONES = {
    "electricity": {"normal": "normal", "warm1": "tropical1", "warm2": "tropical2", "warm3": "tropical3",
                    "warm4": "tropical4"},
    "gas": {"normal": "climate2", "warm1": "climate5", "warm2": "climate5", "warm3": "climate4", "warm4": "climate3"},
    "water": {},
}


@dataclass(frozen=True)
class BillDraft:
    """Everything a bill will say, before it is issued: the preview shows it."""
    contract: Contract
    tariff_type: TariffType
    tariff_code: str
    version_ids: list[int]
    usage: Usage
    readings: dict[str, dict]  # register → {"from", "to", "from_on", "to_on", "consumption", "reading_ids"}
    quote: Quote

    @property
    def period(self) -> str:
        j = to_jalali(self.usage.end)
        return f"{j.year:04d}/{j.month:02d}"


def climate_zone(utility: str, registry_zone: str) -> str:
    zones = UTILITY_CLIMATE_ZONES.get(utility, ())
    if registry_zone in zones:
        return registry_zone
    mapped = CLIMATE_ZONES.get(utility, {}).get(registry_zone)
    return mapped if mapped in zones else (zones[0] if zones else "normal")


def capacity_class(point) -> str:
    if point.utility == "electricity" and point.phases and point.amperage:
        return f"{point.phases}phase_{point.amperage}A"
    if point.utility == "water":
        return point.pipe_diameter or ""
    if point.utility == "gas":
        return point.gas_meter_size or ""
    return ""


def last_billed_day(session, contract: Contract) -> date | None:
    """The day of the last reading billed: by an issued bill, or the opening reading taken over."""
    billed = session.scalar(select(func.max(Bill.period_end)).where(Bill.contract_id == contract.id,
                                                                    Bill.status == BillStatus.ISSUED))
    opening = session.scalar(select(func.max(MeterReading.read_on)).where(MeterReading.contract_id == contract.id,
                                                                          MeterReading.opening.is_(True)))
    return max((day for day in (billed, opening) if day is not None), default=None)


def unbilled_readings(session, contract: Contract, after: date | None) -> list[MeterReading]:
    stmt = select(MeterReading).where(MeterReading.contract_id == contract.id, MeterReading.bill_id.is_(None),
                                      MeterReading.opening.is_(False))
    if after is not None:
        stmt = stmt.where(MeterReading.read_on > after)
    return list(session.scalars(stmt.order_by(MeterReading.read_on, MeterReading.register)))


def replaced_meter_use(session, contract: Contract, installed, after: date | None,
                       until: date) -> dict[str, tuple[int, list[int], date]]:
    """What meters taken off the service point since the last billed reading measured before they left:
    register → (units from the last billed reading, or the installation's, to the final reading; the
    ids of their unbilled readings; the day that count starts)."""
    stmt = select(MeterInstallation).where(
        MeterInstallation.service_point_id == contract.service_point_id, MeterInstallation.removed_on.is_not(None),
        MeterInstallation.removed_on <= until, MeterInstallation.meter_id != installed.meter.id)
    if after is not None:
        stmt = stmt.where(MeterInstallation.removed_on > after)
    use: dict[str, tuple[int, list[int], date]] = {}
    for old in session.scalars(stmt.order_by(MeterInstallation.removed_on)):
        for register, final in (old.final_readings or {}).items():
            if register == "reactive":
                continue
            if register not in installed.registers:
                raise DomainError("billing.meter_registers_changed", registers=", ".join(installed.registers))
            readings_of_old = select(MeterReading).where(
                MeterReading.contract_id == contract.id, MeterReading.meter_id == old.meter_id,
                MeterReading.register == register)
            base = session.scalar(readings_of_old.where(MeterReading.read_on <= (after or old.installed_on))
                                  .order_by(MeterReading.read_on.desc()).limit(1)) if after else None
            start_value = base.value if base else int((old.initial_readings or {}).get(register, 0))
            start_day = base.read_on if base else max(old.installed_on, contract.start_date)
            unbilled = session.scalars(readings_of_old.where(MeterReading.bill_id.is_(None),
                                                             MeterReading.opening.is_(False),
                                                             MeterReading.read_on > start_day)).all()
            units = (int(final) - start_value) * (old.meter.multiplier or 1)
            earlier = use.get(register, (0, [], start_day))
            use[register] = (earlier[0] + max(units, 0), earlier[1] + [r.id for r in unbilled],
                             min(earlier[2], start_day))
    return use


def prepare(session, contract_id: int, *, brought_forward: int | None = None, until: date | None = None) -> BillDraft:
    """The next bill of a contract: from the day after its last billed reading to its latest day (up to
    `until`) on which every register was read. Flagged readings need their override first."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("billing.no_contract")
    point = contract.service_point
    tariff_type = find_tariff_type(session, point.utility, contract.tariff_type)
    if tariff_type is None:
        raise DomainError("billing.tariff_type_unknown", tariff_type=contract.tariff_type)
    installed = installed_meter(session, contract)
    billed_until = last_billed_day(session, contract)
    pending = [r for r in unbilled_readings(session, contract, billed_until)
               if r.meter_id == installed.meter.id and (until is None or r.read_on <= until)]
    days = sorted({r.read_on for r in pending})
    closing = next((day for day in reversed(days)
                    if {r.register for r in pending if r.read_on == day} >= set(installed.registers)), None)
    if closing is None:
        raise DomainError("billing.no_new_reading")
    used = [r for r in pending if r.read_on <= closing]
    unaccepted = [r for r in used if r.needs_override]
    if unaccepted:
        raise DomainError("billing.reading_flagged", registers=", ".join(sorted({r.register for r in unaccepted})))
    first_day = (billed_until or previous_reading(session, contract, installed, installed.registers[0],
                                                  used[0].read_on)[1]) + timedelta(days=1)
    replaced = replaced_meter_use(session, contract, installed, billed_until, closing)
    if replaced and billed_until is None:
        first_day = min(first_day, min(day for _use, _ids, day in replaced.values()) + timedelta(days=1))
    readings = {}
    for register in installed.registers:
        mine = [r for r in used if r.register == register]
        start_value, start_on = previous_reading(session, contract, installed, register, mine[0].read_on)
        old_use, old_ids, _day = replaced.get(register, (0, [], None))
        readings[register] = {"from": start_value, "from_on": start_on.isoformat(), "to": mine[-1].value,
                              "to_on": mine[-1].read_on.isoformat(),
                              "consumption": sum(r.consumption for r in mine) + old_use,
                              "source": mine[-1].source, "reading_ids": [r.id for r in mine] + old_ids}
        if old_use:
            readings[register]["replaced_meter"] = old_use
    zone = climate_zone(point.utility, point.premise.climate_zone)
    code = tariff_code_for(session, tariff_type, zone)
    versions = versions_for_period(session, tariff_type.id, code, first_day, closing)
    if brought_forward is None:
        brought_forward = balance_brought_forward(session, contract.id)
    demand = None
    if any(v.data.get("demand") for v in versions):
        contracted = contract.contracted_demand or 0
        demand = {"contracted": contracted, "measured": contracted}  # no demand register is read yet
    usage = Usage(start=first_day, end=closing,
                  registers={CALCULATION_REGISTER[name]: max(r["consumption"], 0) for name, r in readings.items()},
                  climate_zone=zone, capacity_class=capacity_class(point), demand=demand,
                  discount_category="" if contract.discount_category in ("", "none") else contract.discount_category,
                  brought_forward=brought_forward)
    calculated = quote([(v.effective_from, v.data) for v in versions], usage)
    return BillDraft(contract, tariff_type, code, [v.id for v in versions], usage, readings, calculated)


def issue(session, actor, contract_id: int, *, issued_on: date, due_days: int = DEFAULT_DUE_DAYS,
          replaces: Bill | None = None, until: date | None = None) -> Bill:
    """Issue the contract's next bill and post it to the ledger, in the caller's transaction."""
    account = lock_contract_account(session, contract_id)  # the balance stays as read until commit
    draft = prepare(session, contract_id, brought_forward=account.balance, until=until)
    contract, calculated = draft.contract, draft.quote
    if session.scalar(select(Bill.id).where(Bill.contract_id == contract.id, Bill.period == draft.period,
                                            Bill.status == BillStatus.ISSUED)) is not None:
        raise Conflict("billing.already_billed", period=draft.period)
    sequence = 1 + (session.scalar(select(func.count()).select_from(Bill).where(
        Bill.contract_id == contract.id, Bill.period == draft.period)) or 0)
    j = to_jalali(draft.usage.end)
    payment_id = make_payment_id(calculated.payable, j.year, j.month, contract.bill_id) \
        if calculated.payable >= 1000 else ""
    due_on = issued_on + timedelta(days=due_days)
    posted = post_bill(session, actor, contract.id, bill_id=contract.bill_id, period=draft.period, issued_on=issued_on,
                       due_on=due_on, lines=calculated.ledger_lines(), vat=calculated.vat,
                       levies=dict(calculated.levies), payment_id=payment_id,
                       key=f"billing:{contract.id}:{draft.period}:{sequence}", audited=False)
    if not posted.new:
        raise Conflict("billing.already_billed", period=draft.period)
    bill = Bill(contract_id=contract.id, region_id=contract.region_id, tariff_type_id=draft.tariff_type.id,
                tariff_code=draft.tariff_code, period=draft.period, period_start=draft.usage.start,
                period_end=draft.usage.end, status=BillStatus.ISSUED, bill_id=contract.bill_id, payment_id=payment_id,
                issued_on=issued_on, due_on=due_on, usage=usage_json(draft.usage), readings=draft.readings,
                version_ids=draft.version_ids, quote=calculated.to_json(), charges=calculated.charges,
                vat=calculated.vat, levies=sum(calculated.levies.values()), total=calculated.total,
                brought_forward=calculated.brought_forward, rounding=calculated.rounding, payable=calculated.payable,
                journal_id=posted.journal_id, sequence=sequence, replaces_id=replaces.id if replaces else None,
                issued_by_id=getattr(actor, "id", None))
    session.add(bill)
    session.flush()
    for register in draft.readings.values():
        for reading in session.scalars(select(MeterReading).where(MeterReading.id.in_(register["reading_ids"]))):
            reading.bill_id = bill.id
    session.flush()
    # the one audit row of a bill and its journal: what the journal's own row would say is here too
    audit(session, actor, "billing.bill_issued", bill, contract_id=contract.id, period=draft.period,
          payable=calculated.payable, journal_id=posted.journal_id, bill_id=contract.bill_id, amount=posted.charged)
    return bill


def cancel_and_rebill(session, actor, bill_pk: int, reason: str, *, on: date,
                      corrections: dict[str, int] | None = None, due_days: int = DEFAULT_DUE_DAYS,
                      until: date | None = None) -> Bill:
    """Cancel an issued bill (its journal reversed), correct its closing readings if asked, and issue
    the period again — up to the bill's own closing day, or to `until` when a later reading (a final
    reading on a change of owner) is to close the period instead. Returns the new bill."""
    bill = session.get(Bill, bill_pk, with_for_update=True)
    if bill is None:
        raise NotFound("billing.not_found")
    if bill.status != BillStatus.ISSUED:
        raise Conflict("billing.bill_not_issued")
    reason = normalize_persian(reason or "") or ""
    if len(reason) < 3:
        raise DomainError("billing.reason_required", field="reason")
    reversal = reverse(session, actor, bill.journal_id, reason, on)
    bill.status, bill.cancelled_at, bill.cancel_reason = BillStatus.CANCELLED, utcnow(), reason[:500]
    bill.cancelled_by_id, bill.reversal_journal_id = getattr(actor, "id", None), reversal.journal_id
    session.flush()
    readings = list(session.scalars(select(MeterReading).where(MeterReading.bill_id == bill.id)))
    for reading in readings:
        reading.bill_id = None
    session.flush()
    for register, value in (corrections or {}).items():
        closing = [r for r in readings if r.register == register and r.read_on == bill.period_end]
        if not closing:
            raise DomainError("billing.register_invalid", field=f"correction_{register}", registers=register)
        if closing[0].value != value:
            _correct_reading(session, actor, closing[0], value, reason)
    audit(session, actor, "billing.bill_cancelled", bill, reason=reason, reversal_journal_id=reversal.journal_id)
    return issue(session, actor, bill.contract_id, issued_on=on, due_days=due_days, replaces=bill,
                 until=until or bill.period_end)


def _correct_reading(session, actor, wrong: MeterReading, value: int, reason: str) -> None:
    """Write the right value over a wrong closing reading (the audit log keeps the wrong one); its
    consumption is counted again, and the correction's reason stands as its override."""
    contract = session.get(Contract, wrong.contract_id)
    installed = installed_meter(session, contract)
    if not 0 <= value < 10 ** installed.meter.digits:
        raise DomainError("billing.reading_value_invalid", field=f"correction_{wrong.register}",
                          digits=installed.meter.digits)
    previous, _on = previous_reading(session, contract, installed, wrong.register, wrong.read_on)
    used = value - previous if value >= previous else value + 10 ** installed.meter.digits - previous
    audit(session, actor, "billing.reading_corrected", wrong, was=wrong.value, value=value, reason=reason)
    wrong.value, wrong.consumption = value, used * (installed.meter.multiplier or 1)
    wrong.override_reason, wrong.overridden_by_id = reason[:500], getattr(actor, "id", None)
    session.flush()


def bills_of(session, contract_id: int) -> list[Bill]:
    return list(session.scalars(select(Bill).where(Bill.contract_id == contract_id)
                                .order_by(Bill.period_end.desc(), Bill.id.desc())))


def usage_json(usage: Usage) -> dict:
    return {"start": usage.start.isoformat(), "end": usage.end.isoformat(), "registers": dict(usage.registers),
            "climate_zone": usage.climate_zone, "capacity_class": usage.capacity_class, "demand": usage.demand,
            "discount_category": usage.discount_category, "brought_forward": usage.brought_forward}
