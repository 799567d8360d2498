"""Tariff types and versions (a published version never changes), meter readings with their flags,
estimates and the CSV upload."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from billing import readings, tariffs
from billing.demo import example_tariffs, load_demo_billing, load_example_tariffs
from billing.models import Bill, FrozenRecord, MeterReading, TariffType, TariffVersion, VersionStatus
from billing.tariff import TariffInvalid
from core.errors import Conflict, DomainError
from core.regions import Region
from subscribers.models import Contract, Meter, MeterInstallation, ServicePoint


def residential(session, utility="electricity") -> TariffType:
    return tariffs.find_tariff_type(session, utility, "1")


def test_the_standard_tariff_types_are_there_with_codes_and_persian_names(session):
    assert tariffs.tariff_type_choices(session, "electricity") == [
        ("1", "خانگی"), ("2", "عمومی"), ("3", "کشاورزی"), ("4", "صنعتی"), ("5", "تجاری و سایر مصارف")]
    assert ("1", "خانگی") in tariffs.tariff_type_choices(session, "gas")
    everything = tariffs.tariff_type_choices(session, None)
    assert ("1", "آب — خانگی") in everything and ("4", "برق — صنعتی") in everything
    # contracts may name their type by the registry's word or by the code
    assert tariffs.find_tariff_type(session, "electricity", "commercial").code == "5"


def test_adding_and_renaming_a_tariff_type(session, demo):
    added = tariffs.add_tariff_type(session, demo["billing"], "water", "6", "green_space", "فضای سبز")
    assert ("6", "فضای سبز") in tariffs.tariff_type_choices(session, "water")
    with pytest.raises(Conflict):
        tariffs.add_tariff_type(session, demo["billing"], "water", "6", "other", "دیگر")
    with pytest.raises(DomainError) as raised:
        tariffs.add_tariff_type(session, demo["billing"], "water", "x7", "x", "نام")
    assert raised.value.field == "code"
    tariffs.rename_tariff_type(session, demo["billing"], added.id, "آبیاری فضای سبز", active=False)
    assert ("6", "آبیاری فضای سبز") not in tariffs.tariff_type_choices(session, "water")


def _example(code: str) -> dict:
    return next(e for e in example_tariffs() if e["code"] == code)


def test_a_draft_is_edited_then_publishing_freezes_it_and_a_new_version_leaves_it_as_it_was(session, demo):
    actor, kind = demo["billing"], residential(session)
    first = tariffs.create_draft(session, actor, kind.id, "E1-test", date(2025, 3, 21), data=_example("E1-normal"))
    tariffs.publish(session, actor, first.id)
    frozen = dict(first.data)
    second = tariffs.create_draft(session, actor, kind.id, "E1-test", date(2026, 3, 21))
    assert second.data["blocks"] == frozen["blocks"]  # a copy of the latest published version to edit
    raised_blocks = [{**block, "rate": block["rate"] * 2} for block in frozen["blocks"]]
    tariffs.save_draft(session, actor, second.id, effective_from=date(2026, 3, 21), name="۱۴۰۵",
                       data={**second.data, "blocks": raised_blocks})
    tariffs.publish(session, actor, second.id)
    session.expire_all()
    assert session.get(TariffVersion, first.id).data == frozen
    assert session.get(TariffVersion, second.id).data["blocks"] == raised_blocks
    versions = tariffs.versions_for_period(session, kind.id, "E1-test", date(2026, 3, 1), date(2026, 4, 30))
    assert [v.id for v in versions] == [first.id, second.id]
    # a published version refuses every change: editing, saving as a draft, deleting, raw SQL
    with pytest.raises(Conflict):
        tariffs.save_draft(session, actor, first.id, effective_from=date(2025, 3, 21), name="", data=frozen)
    with pytest.raises(FrozenRecord):
        with session.begin_nested():
            session.get(TariffVersion, first.id).data = {**frozen, "blocks": raised_blocks}
            session.flush()
    session.expire_all()
    with pytest.raises(FrozenRecord):
        with session.begin_nested():
            session.delete(session.get(TariffVersion, first.id))
            session.flush()
    session.expire_all()
    with pytest.raises(DBAPIError, match="is published"):
        with session.begin_nested():
            session.execute(update(TariffVersion).where(TariffVersion.id == first.id).values(name="x"))
    assert session.get(TariffVersion, first.id).data == frozen


def test_a_version_must_start_after_the_published_ones_and_be_valid(session, demo):
    actor, kind = demo["billing"], residential(session)
    first = tariffs.create_draft(session, actor, kind.id, "E1-test", date(2025, 3, 21), data=_example("E1-normal"))
    tariffs.publish(session, actor, first.id)
    early = tariffs.create_draft(session, actor, kind.id, "E1-test", date(2025, 3, 1))
    with pytest.raises(Conflict) as raised:
        tariffs.publish(session, actor, early.id)
    assert raised.value.code == "billing.version_not_after_latest"
    with pytest.raises(TariffInvalid) as invalid:
        tariffs.save_draft(session, actor, early.id, effective_from=date(2026, 1, 1), name="",
                           data={**early.data, "blocks": [{"upto": 100, "rate": -5}]})
    fields = {error["field"] for error in invalid.value.errors}
    assert any(f.startswith("blocks[0]") for f in fields)
    assert session.get(TariffVersion, early.id).effective_from == date(2025, 3, 1)  # nothing half-saved
    assert session.get(TariffVersion, early.id).status == VersionStatus.DRAFT


def test_the_demo_publishes_the_example_tariffs_once(session, demo):
    assert load_example_tariffs(session) == 0  # the demo loaded them
    published = session.scalars(select(TariffVersion).where(TariffVersion.status == VersionStatus.PUBLISHED)).all()
    assert len(published) == len(example_tariffs()) and all(v.is_example for v in published)
    kind = residential(session)
    assert tariffs.tariff_code_for(session, kind, "tropical4") == "E1-tropical"
    assert tariffs.tariff_code_for(session, kind, "normal") == "E1-normal"


# --- readings ---------------------------------------------------------------------------------

def contract_in(session, region="shiraz-1", utility="electricity") -> Contract:
    return session.scalar(select(Contract).join(ServicePoint).join(Region, Region.id == Contract.region_id)
                          .where(ServicePoint.utility == utility, Region.code == region)
                          .order_by(Contract.id).limit(1))


def meter_of(session, contract) -> Meter:
    return session.scalar(select(Meter).join(MeterInstallation).where(
        MeterInstallation.service_point_id == contract.service_point_id, MeterInstallation.removed_on.is_(None)))


def _monthly(session, actor, contract, start: date, values: list[int]):
    for n, value in enumerate(values):
        readings.record_reading(session, actor, contract.id, "single", start + timedelta(days=30 * n), value)


def test_reading_flags_zero_high_low_rollover_negative_and_impossible_dates(session, demo):
    actor, contract = demo["billing"], contract_in(session)
    digits = meter_of(session, contract).digits
    _monthly(session, actor, contract, date(2024, 1, 1), [100, 200, 300, 400, 500])  # 100 a month
    same = readings.record_reading(session, actor, contract.id, "single", date(2024, 5, 30), 500)
    assert same.flags == ["zero"]
    high = readings.record_reading(session, actor, contract.id, "single", date(2024, 6, 29), 1500)
    assert high.flags == ["high"] and high.consumption == 1000
    low = readings.record_reading(session, actor, contract.id, "single", date(2024, 7, 29), 1510)
    assert low.flags == ["low"]
    earlier = readings.record_reading(session, actor, contract.id, "single", date(2024, 7, 1), 1505)
    assert "date_before_previous" not in earlier.flags  # before the last one but after the one before it
    future = readings.record_reading(session, actor, contract.id, "single", date.today() + timedelta(days=3), 1600)
    assert "date_in_future" in future.flags
    # a register near its end wraps around: a rollover, counted past 10**digits
    other = contract_in(session, "shiraz-2")
    top = 10 ** digits
    _monthly(session, actor, other, date(2024, 1, 1), [top - 400, top - 300, top - 200, top - 100])
    wrapped = readings.record_reading(session, actor, other.id, "single", date(2024, 5, 1), 0)
    assert wrapped.flags == ["rollover"] and wrapped.consumption == 100
    readings.record_reading(session, actor, other.id, "single", date(2024, 6, 1), 100)
    backwards = readings.record_reading(session, actor, other.id, "single", date(2024, 7, 1), 40)
    assert backwards.flags == ["negative"] and backwards.consumption == -60
    with pytest.raises(DomainError) as raised:
        readings.record_reading(session, actor, other.id, "single", date(2024, 7, 1), 5)
    assert raised.value.code == "billing.reading_exists"
    with pytest.raises(DomainError) as raised:
        readings.record_reading(session, actor, other.id, "peak", date(2024, 8, 1), 5)
    assert raised.value.field == "register"


def test_a_broken_meter_is_estimated_from_its_average_daily_use(session, demo):
    actor, contract = demo["billing"], contract_in(session)
    _monthly(session, actor, contract, date(2024, 1, 1), [1000, 1300, 1600, 1900])  # 10 a day
    estimated = readings.estimate(session, actor, contract.id, date(2024, 5, 20), reason="کنتور خراب")
    assert len(estimated) == 1 and estimated[0].source == "estimated"
    assert estimated[0].consumption == 10 * ((date(2024, 5, 20) - date(2024, 3, 31)).days)
    fresh = contract_in(session, "marvdasht")
    with pytest.raises(DomainError) as raised:
        readings.estimate(session, actor, fresh.id, date(2024, 5, 20))
    assert raised.value.code == "billing.no_history_to_estimate"


def test_a_csv_upload_saves_the_good_lines_and_reports_each_bad_one(session, demo):
    actor = demo["billing"]
    one, two = contract_in(session), contract_in(session, "shiraz-2")
    far = contract_in(session, "marvdasht")
    m1, m2, m3 = (meter_of(session, c).serial for c in (one, two, far))
    content = "\n".join([
        "serial,register,date,value,source,reader",
        f"{m1},single,۱۴۰۳/۰۲/۰۱,۱۲۰,read,علی",
        "NOPE123,single,1403/02/01,10,read,",
        f"{m2},single,1403/13/40,10,read,",
        f"{m2},single,1403/02/01,abc,read,",
        f"{m2},single,1403/02/01,250,customer,",
        f"{m3},single,1403/02/01,70,read,",  # outside the uploader's regions
        f"{m1},single",
    ])
    allowed = {one.region_id, two.region_id}
    report = readings.import_csv(session, actor, content, region_ids=allowed)
    assert [(r.line, r.ok, r.message_code) for r in report] == [
        (2, True, ""), (3, False, "billing.csv_meter_unknown"), (4, False, "billing.csv_date_invalid"),
        (5, False, "billing.reading_value_invalid"), (6, True, ""), (7, False, "billing.csv_meter_unknown"),
        (8, False, "billing.csv_line_malformed")]
    saved = session.scalars(select(MeterReading).order_by(MeterReading.id)).all()
    assert [(r.contract_id, r.value, r.source, r.reader_name) for r in saved] == [
        (one.id, 120, "read", "علی"), (two.id, 250, "customer", "")]


def test_the_demo_loads_readings_and_a_few_issued_bills_once(session, demo):
    today = date(2025, 12, 1)
    load_demo_billing(session, today)
    count = session.scalar(select(func.count()).select_from(MeterReading))
    bills = session.scalars(select(Bill)).all()
    assert count > 0 and 1 <= len(bills) <= 6
    assert all(b.payable % 1000 == 0 and b.journal_id for b in bills)
    load_demo_billing(session, today)
    assert session.scalar(select(func.count()).select_from(MeterReading)) == count
    assert session.scalar(select(func.count()).select_from(Bill)) == len(bills)
    session.execute(text("SELECT 1"))
