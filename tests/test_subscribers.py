"""The registry's rules: validators, unique national IDs, meter history, contract transfer, numbering."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.errors import DomainError
from core.identifiers import is_bill_id
from core.regions import Region
from subscribers import contract_ops, meter_ops, numbering, operations
from subscribers import validation as v
from subscribers.documents import check_content
from subscribers.models import Contract, Meter, MeterInstallation, Subscriber

LEGAL_ID = "10100302385"  # a valid شناسه ملی


def region(session, code="shiraz-1") -> Region:
    return session.scalar(select(Region).where(Region.code == code))


def person(session, region_code="shiraz-1", national_id="0499370899", **extra) -> Subscriber:
    return operations.create_subscriber(session, None, {
        "kind": "person", "first_name": "نيما", "last_name": "كاظمي", "national_id": national_id,
        "mobile": "+989121234567", "region_id": region(session, region_code).id, **extra})


def premise_data(session, **extra) -> dict:
    return {"province": "فارس", "city": "شیراز", "street": "خیابان زند", "postal_code": "7134567890",
            "latitude": "29.61", "longitude": "52.53", "region_id": region(session).id, **extra}


def expect_error(code, field, call, *args, **kwargs):
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert (caught.value.code, caught.value.field) == (code, field)


# --- validators -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0499370899", "۰۴۹۹۳۷۰۸۹۹", "0084575948"])
def test_national_id_valid(value):
    assert len(v.national_id(value)) == 10


@pytest.mark.parametrize("value", ["0499370898", "1111111111", "12345", "abc"])
def test_national_id_invalid(value):
    expect_error("national_id.invalid", "national_id", v.national_id, value)


def test_legal_entity_id_valid_and_invalid():
    assert v.legal_entity_id(LEGAL_ID) == LEGAL_ID
    expect_error("legal_id.invalid", "national_id", v.legal_entity_id, "10100302386")
    expect_error("legal_id.invalid", "national_id", v.legal_entity_id, "0499370899")


def test_postal_code_valid_and_invalid():
    assert v.postal_code("۷۱۳۴۵-۶۷۸۹۰") == "7134567890"
    expect_error("postal_code.invalid", "postal_code", v.postal_code, "71345")
    expect_error("field.required", "postal_code", v.postal_code, "")


def test_mobile_valid_and_invalid():
    assert v.mobile("+98 912 123 4567") == "09121234567"
    assert v.mobile("۰۹۱۷۱۲۳۴۵۶۷") == "09171234567"
    expect_error("mobile.invalid", "mobile", v.mobile, "0212345678")


def test_coordinates_inside_iran_only():
    assert v.latitude("29.61") == Decimal("29.610000")
    assert v.longitude("۵۲٫۵۳") == Decimal("52.530000")
    expect_error("coordinates.outside_iran", "latitude", v.latitude, "48.85")  # Paris
    expect_error("coordinates.outside_iran", "longitude", v.longitude, "2.35")
    expect_error("coordinates.outside_iran", "latitude", v.latitude, "north")
    assert v.latitude("") is None


def test_the_messages_are_persian_and_name_the_field(app):
    from core.messages import message_for

    with app.test_request_context("/"):
        assert message_for(DomainError("postal_code.invalid")) == "کد پستی ۱۰ رقم است."
        assert "ایران" in message_for(DomainError("coordinates.outside_iran"))
        assert "شناسه ملی" in message_for(DomainError("legal_id.invalid"))


# --- subscribers --------------------------------------------------------------------------------------

def test_a_subscriber_is_normalised_and_audited(session, demo):
    subscriber = person(session)
    assert (subscriber.first_name, subscriber.last_name, subscriber.mobile) == ("نیما", "کاظمی", "09121234567")
    assert subscriber.search_text == "نیما کاظمی"
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "subscriber.created",
                                                   AuditEntry.object_id == str(subscriber.id)))


def test_a_national_id_belongs_to_one_subscriber(session, demo):
    person(session)
    expect_error("subscriber.national_id_taken", "national_id", person, session, "shiraz-2")


def test_a_legal_entity_needs_an_11_digit_id(session, demo):
    data = {"kind": "legal", "legal_name": "شرکت نمونه", "national_id": "0499370899",
            "region_id": region(session).id}
    expect_error("legal_id.invalid", "national_id", operations.create_subscriber, session, None, data)
    company = operations.create_subscriber(session, None, {**data, "national_id": LEGAL_ID, "economic_code": "411"})
    assert company.display_name == "شرکت نمونه"


def test_a_premise_outside_iran_is_refused(session, demo):
    subscriber = person(session)
    expect_error("coordinates.outside_iran", "latitude", operations.create_premise, session, None, subscriber,
                 premise_data(session, latitude="51.5"))


# --- meters -------------------------------------------------------------------------------------------

def _point(session, subscriber, utility="electricity"):
    premise = operations.create_premise(session, None, subscriber, premise_data(session))
    return operations.add_service_point(session, None, premise, {"utility": utility, "phases": 1, "amperage": 25})


def _meter(session, serial):
    return meter_ops.register_meter(session, None, {"serial": serial, "utility": "electricity", "kind": "digital",
                                                    "region_id": region(session).id})


def test_a_meter_installed_replaced_and_its_history(session, demo):
    point = _point(session, person(session))
    first, second = _meter(session, "ab-1001"), _meter(session, "AB-1002")
    assert first.serial == "AB-1001" and first.status == "in_stock"
    expect_error("meter.serial_taken", "serial", _meter, session, "ab-1001")

    meter_ops.install_meter(session, None, first.id, point.id, date(2024, 1, 1), {"single": 100})
    assert (first.status, point.status) == ("installed", "active")
    expect_error("service_point.has_meter", "service_point_id", meter_ops.install_meter, session, None,
                 second.id, point.id, date(2024, 1, 2), {"single": 0})
    expect_error("reading.less_than_initial", "final_readings.single", meter_ops.replace_meter, session, None,
                 point.id, second.id, date(2024, 6, 1), {"single": 99}, {"single": 0})

    meter_ops.replace_meter(session, None, point.id, second.id, date(2024, 6, 1), {"single": 950}, {"single": 0},
                            reason="کنتور خراب")
    history = meter_ops.meter_history(session, point.id)
    assert [(h.meter_id, h.installed_on, h.removed_on) for h in history] == [
        (first.id, date(2024, 1, 1), date(2024, 6, 1)), (second.id, date(2024, 6, 1), None)]
    assert history[0].final_readings == {"single": 950} and history[0].removal_reason == "کنتور خراب"
    assert (first.status, second.status) == ("in_test", "installed")
    ids = [str(h.id) for h in history]
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("meter.%"),
                                                              AuditEntry.object_id.in_(ids),
                                                              AuditEntry.object_type == "MeterInstallation")).all()
    assert sorted(actions) == ["meter.installed", "meter.installed", "meter.removed"]


def test_time_of_use_meters_need_every_register(session, demo):
    point = _point(session, person(session))
    meter = meter_ops.register_meter(session, None, {"serial": "TOU-1", "utility": "electricity", "kind": "smart",
                                                     "register_set": "tou", "has_reactive": True,
                                                     "region_id": region(session).id})
    expect_error("reading.required", "initial_readings.offpeak", meter_ops.install_meter, session, None, meter.id,
                 point.id, date(2024, 1, 1), {"peak": 1, "mid": 2})
    installation = meter_ops.install_meter(session, None, meter.id, point.id, date(2024, 1, 1),
                                           {"peak": 1, "mid": 2, "offpeak": 3, "reactive": 4})
    assert installation.initial_readings == {"peak": 1, "mid": 2, "offpeak": 3, "reactive": 4}


def test_a_water_meter_does_not_fit_an_electricity_point(session, demo):
    point = _point(session, person(session))
    meter = meter_ops.register_meter(session, None, {"serial": "W-1", "utility": "water", "kind": "mechanical",
                                                     "region_id": region(session).id})
    expect_error("meter.utility_mismatch", "meter_id", meter_ops.install_meter, session, None, meter.id, point.id,
                 date(2024, 1, 1), {"single": 0})


# --- contracts ----------------------------------------------------------------------------------------

def test_contract_numbers_follow_the_region_scheme(session, demo):
    point = _point(session, person(session))
    contract = contract_ops.open_contract(session, None, point.premise.subscriber_id, point.id, date(2024, 1, 1),
                                          {"tariff_type": "residential"}, company_code="123")
    region_id = region(session).id
    assert contract.subscription_no.startswith(f"{region_id:03d}") and len(contract.subscription_no) == 10
    assert contract.bill_id.startswith(contract.file_no + "1232") and is_bill_id(contract.bill_id)
    following = int(contract.subscription_no[3:]) + 1
    assert numbering.next_subscription_number(session, region_id) == f"{region_id:03d}{following:07d}"
    expect_error("contract.service_point_taken", "service_point_id", contract_ops.open_contract, session, None,
                 point.premise.subscriber_id, point.id, date(2024, 1, 1), {"tariff_type": "residential"})


def test_contract_transfer_keeps_the_old_owner_in_history(session, demo):
    seller = person(session)
    buyer = person(session, national_id="0084575948")
    point = _point(session, seller)
    contract = contract_ops.open_contract(session, None, seller.id, point.id, date(2023, 3, 21),
                                          {"tariff_type": "residential"})
    successor = contract_ops.transfer_contract(session, None, contract.id, buyer.id, date(2024, 9, 1))

    assert (contract.status, contract.end_date, contract.close_reason) == ("closed", date(2024, 9, 1), "transferred")
    assert (successor.subscriber_id, successor.status, successor.start_date) == (buyer.id, "active", date(2024, 9, 1))
    assert (successor.subscription_no, successor.bill_id, successor.revision) == (
        contract.subscription_no, contract.bill_id, 2)
    assert successor.predecessor_id == contract.id
    history = contract_ops.contract_history(session, contract.subscription_no)
    assert [(c.subscriber_id, c.status) for c in history] == [(seller.id, "closed"), (buyer.id, "active")]
    expect_error("contract.not_active", "contract_id", contract_ops.transfer_contract, session, None, contract.id,
                 buyer.id, date(2024, 9, 2))
    expect_error("contract.same_owner", "new_owner_id", contract_ops.transfer_contract, session, None, successor.id,
                 buyer.id, date(2024, 9, 2))
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "contract.transferred"))
    assert session.scalar(select(Contract).where(Contract.subscriber_id == seller.id)).id == contract.id


def test_an_outage_needs_a_region_or_service_points(session, demo):
    from datetime import UTC, datetime

    start = datetime(2024, 7, 1, 8, tzinfo=UTC)
    expect_error("outage.no_target", "region_id", operations.record_outage, session, None,
                 utility="electricity", starts_at=start)
    expect_error("outage.ends_before_start", "ends_at", operations.record_outage, session, None,
                 utility="electricity", starts_at=start, ends_at=start, region_id=region(session).id)
    outage = operations.record_outage(session, None, utility="electricity", starts_at=start, planned=True,
                                      cause="تعمیرات شبکه", region_id=region(session).id)
    assert outage.id and outage.planned


def test_documents_are_checked_by_content_and_size():
    assert check_content(b"%PDF-1.7 ...", 100) == "application/pdf"
    assert check_content(b"\x89PNG\r\n\x1a\n....", 100) == "image/png"
    assert check_content(b"\xff\xd8\xff\xe0....", 100) == "image/jpeg"
    with pytest.raises(DomainError, match=r"document\.type_not_allowed"):
        check_content(b"MZ\x90\x00 pretending.pdf", 100)
    with pytest.raises(DomainError, match=r"document\.too_large"):
        check_content(b"%PDF-" + b"x" * 200, 100)


def test_the_demo_registry_loads_once(session, demo):
    from subscribers.demo import load_demo_registry

    count = session.scalar(select(Subscriber.id).order_by(Subscriber.id.desc()).limit(1))
    assert load_demo_registry(session) == 0
    assert session.scalar(select(Subscriber.id).order_by(Subscriber.id.desc()).limit(1)) == count
    assert session.scalar(select(Meter.id).limit(1)) and session.scalar(select(MeterInstallation.id).limit(1))
