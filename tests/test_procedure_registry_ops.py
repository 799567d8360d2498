"""The registry operations the procedures added (subscribers/procedure_ops.py): their refusals."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.errors import DomainError
from core.jalali import TEHRAN
from ledger.queries import account_of
from subscribers import operations, procedure_ops
from subscribers.models import Contract, Subscriber
from tests.engine_support import region
from tests.test_procedure_helpers import stock_meters


@pytest.fixture
def requested_point(session, demo):
    shiraz = region(session, "shiraz-1")
    owner = session.scalar(select(Subscriber).where(Subscriber.region_id == shiraz.id).order_by(Subscriber.id))
    premise = operations.create_premise(session, None, owner, {
        "province": "فارس", "city": "شیراز", "street": "خیابان حافظ", "postal_code": "7134500000",
        "region_id": shiraz.id})
    point = operations.add_service_point(session, None, premise, {"utility": "water", "pipe_diameter": "1/2"})
    return owner, point


def test_a_reserved_contract_is_numbered_with_an_account_but_starts_only_with_its_meter(session, requested_point):
    owner, point = requested_point
    contract = procedure_ops.reserve_contract(session, None, owner.id, point.id, date(2026, 11, 1),
                                              {"tariff_type": "residential"})
    assert contract.status == "requested" and contract.subscription_no and contract.bill_id
    assert account_of(session, contract.id).bill_id == contract.bill_id
    with pytest.raises(DomainError, match=r"contract\.service_point_taken"):
        procedure_ops.reserve_contract(session, None, owner.id, point.id, date(2026, 11, 1),
                                       {"tariff_type": "residential"})
    with pytest.raises(DomainError, match=r"contract\.no_meter"):
        procedure_ops.activate_contract(session, None, contract.id, date(2026, 11, 5))
    cancelled = procedure_ops.cancel_reserved_contract(session, None, contract.id, date(2026, 10, 1), "انصراف")
    assert (cancelled.status, cancelled.close_reason, cancelled.end_date) == ("closed", "terminated",
                                                                              date(2026, 11, 1))
    with pytest.raises(DomainError, match=r"contract\.not_reserved"):
        procedure_ops.activate_contract(session, None, contract.id, date(2026, 11, 5))


def test_only_a_requested_service_point_gets_a_reserved_contract(session, demo):
    active = session.scalar(select(Contract).order_by(Contract.id))
    with pytest.raises(DomainError, match=r"service_point\.not_requested"):
        procedure_ops.reserve_contract(session, None, active.subscriber_id, active.service_point_id,
                                       date(2026, 11, 1), {"tariff_type": "residential"})


def test_stock_meters_are_found_in_the_region_or_above_it_oldest_first(session, demo):
    office = region(session, "shiraz-1-maali")
    assert procedure_ops.stock_meter(session, "gas", office.id) is None
    company_meter, = stock_meters(session, "gas", "demo", ["ST-G-0001"])
    region_meter, = stock_meters(session, "gas", "shiraz-1", ["ST-G-0002"])
    assert procedure_ops.stock_meter(session, "gas", office.id) == company_meter
    assert procedure_ops.stock_meter(session, "gas", region(session, "shiraz-2").id) == company_meter
    assert procedure_ops.stock_meter(session, "water", office.id) is None
    assert region_meter.status == "in_stock"


def test_a_faulty_meter_stays_faulty_and_a_retired_one_is_refused(session, demo):
    meter, = stock_meters(session, "electricity", "shiraz-1", ["ST-E-0009"])
    assert procedure_ops.mark_meter_faulty(session, None, meter.id, "خطای ۵٪").status == "faulty"
    assert procedure_ops.mark_meter_faulty(session, None, meter.id, "دوباره").status == "faulty"
    meter.status = "retired"
    with pytest.raises(DomainError, match=r"meter\.retired"):
        procedure_ops.mark_meter_faulty(session, None, meter.id, "خطا")


def test_an_outage_ends_after_it_began(session, demo):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=TEHRAN)
    outage = operations.record_outage(session, None, utility="electricity", starts_at=start, cause="تعمیرات",
                                      planned=True, region_id=region(session, "shiraz-1").id)
    with pytest.raises(DomainError, match=r"outage\.ends_before_start"):
        procedure_ops.end_outage(session, None, outage.id, start - timedelta(minutes=5))
    assert procedure_ops.end_outage(session, None, outage.id, start + timedelta(hours=2)).ends_at == \
        start + timedelta(hours=2)
