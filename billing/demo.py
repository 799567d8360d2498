"""Billing's demo data: the example tariffs of billing/examples published (their amounts are examples,
to be replaced by the official booklet), readings for the demo contracts, and a few issued bills so
the ledger tab shows them. Loading twice changes nothing."""

import json
import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from billing import bills, tariffs
from billing.models import MeterReading, ReadingSource, TariffVersion
from subscribers.models import Contract, Meter, MeterInstallation, ServicePoint

EXAMPLES = Path(__file__).parent / "examples"
# Units per 60 days a household uses, by utility: the demo's readings wander around these.
TYPICAL_USE = {"electricity": (250, 650), "water": (20, 45), "gas": (120, 420)}
BILLED_CONTRACTS = 3  # how many demo contracts get an issued bill
READER = "مأمور قرائت نمونه"


def example_tariffs() -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES.glob("*.json"))]


def load_example_tariffs(session, actor=None) -> int:
    """Publish every example tariff not already there; returns how many were published."""
    tariffs.ensure_tariff_types(session)
    published = 0
    for data in example_tariffs():
        tariff_type = tariffs.find_tariff_type(session, data["utility"], str(data["tariff_type"]))
        effective_from = date.fromisoformat(data["effective_from"])
        if tariff_type is None or session.scalar(select(TariffVersion.id).where(
                TariffVersion.tariff_type_id == tariff_type.id, TariffVersion.code == data["code"],
                TariffVersion.effective_from == effective_from)) is not None:
            continue
        draft = tariffs.create_draft(session, actor, tariff_type.id, data["code"], effective_from,
                                     name=data.get("name", ""), data=data)
        tariffs.publish(session, actor, draft.id)
        published += 1
    return published


def load_demo_billing(session, today: date, actor=None) -> None:
    """Example tariffs, then three readings per demo contract (the opening one taken over, two
    months ago, a few days ago) and a bill for the first period of a few of them."""
    load_example_tariffs(session, actor)
    if session.scalar(select(MeterReading.id).limit(1)) is not None:
        return
    rng = random.Random(1404)  # noqa: S311  (believable demo data, not secrets)
    days = (today - timedelta(days=125), today - timedelta(days=65), today - timedelta(days=5))
    rows = session.execute(
        select(Contract.id, Contract.region_id, MeterInstallation.meter_id, ServicePoint.utility, Meter.register_set)
        .join(ServicePoint, ServicePoint.id == Contract.service_point_id)
        .join(MeterInstallation, (MeterInstallation.service_point_id == ServicePoint.id)
              & MeterInstallation.removed_on.is_(None))
        .join(Meter, Meter.id == MeterInstallation.meter_id)
        .where(Contract.status == "active").order_by(Contract.id)).all()
    readings = []
    for contract_id, region_id, meter_id, utility, register_set in rows:
        low, high = TYPICAL_USE.get(utility, (100, 300))
        value = rng.randrange(1000, 20000)
        registers = ("peak", "mid", "offpeak") if register_set == "tou" else ("single",)
        for n, day in enumerate(days):
            used = 0 if n == 0 else rng.randrange(low, high)
            value += used
            for register in registers:
                readings.append(MeterReading(
                    contract_id=contract_id, meter_id=meter_id, region_id=region_id,
                    register=register, read_on=day, value=value // len(registers), consumption=used // len(registers),
                    source=ReadingSource.READ, reader_name=READER, flags=[], opening=n == 0))
    session.add_all(readings)
    session.flush()
    # One electricity contract per region gets its first period billed; the latest readings are left to preview.
    billed_regions = set()
    for contract_id, region_id, _meter_id, utility, _registers in rows:
        if utility == "electricity" and region_id not in billed_regions and len(billed_regions) < BILLED_CONTRACTS:
            bills.issue(session, actor, contract_id, issued_on=days[1] + timedelta(days=2), until=days[1])
            billed_regions.add(region_id)
    session.flush()
