"""A demo contract for the billing API's tests (no tests here)."""

from sqlalchemy import select

from core.regions import Region
from subscribers.models import Contract, ServicePoint


def electricity_contract(session, region="shiraz-1") -> Contract:
    return session.scalar(select(Contract).join(ServicePoint).join(Region, Region.id == Contract.region_id)
                          .where(ServicePoint.utility == "electricity", Region.code == region)
                          .order_by(Contract.id).limit(1))
