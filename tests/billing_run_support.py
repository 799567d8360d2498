"""Shared set-up of the billing-run tests: demo electricity contracts with readings in 1404/05."""

from datetime import date

from sqlalchemy import select

from billing import readings
from billing.demo import load_example_tariffs
from core.regions import Region
from subscribers.models import Contract, ServicePoint

PERIOD = "1404/05"  # 2025-07-23 … 2025-08-22
OPENING, CLOSING, ISSUED = date(2025, 6, 20), date(2025, 8, 10), date(2025, 8, 12)


def electricity_contracts(session, region_code="shiraz-1") -> list[Contract]:
    return list(session.scalars(
        select(Contract).join(ServicePoint, ServicePoint.id == Contract.service_point_id)
        .join(Region, Region.id == Contract.region_id)
        .where(ServicePoint.utility == "electricity", Region.code == region_code, Contract.status == "active")
        .order_by(Contract.id)))


def read(session, actor, contract, day, value, opening=False):
    installed = readings.installed_meter(session, contract)
    for register in installed.registers:
        readings.record_reading(session, actor, contract.id, register, day, value, opening=opening,
                                reader_name="قاری آزمون")


def billable_contracts(session, actor, region_code="shiraz-1"):
    """Every active electricity contract of the region read at the start and in 1404/05, except: the first
    has no reading in the month (missing), the second a reading lower than the last (flagged)."""
    load_example_tariffs(session)
    contracts = electricity_contracts(session, region_code)
    for n, contract in enumerate(contracts):
        read(session, actor, contract, OPENING, 5000, opening=True)
        if n == 0:
            continue
        read(session, actor, contract, CLOSING, 4000 if n == 1 else 5000 + 150 + 37 * n)
    session.flush()
    return contracts
