"""Reports: each report on a small world whose rows and totals are known exactly, region scoping, the filters'
messages, CSV and XLSX exports (opened with openpyxl), a background export job run to completion."""

import io
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from billing.models import Bill, MeterReading, TariffType
from billing.run_models import BillingRun, BillingRunContract
from core import account_ops
from core.accounts import Role
from core.audit import audit
from core.identifiers import make_bill_id
from core.jalali import TEHRAN, format_jalali_date, parse_jalali_date
from core.regions import Region, add_region
from engine.models import Instance, ProcessVersion, WorkItem
from ledger.accounts import open_contract_account
from ledger.bills import post_bill
from ledger.payments import PaymentRequest, post_payment
from ledger.reversal import reverse
from ledger.terms import add_jalali_months, create_installment_plan, grant_grace_period
from reports import (
    billing_summary,
    broken_meters,
    collections,
    consumption,
    deadlines,
    debtors,
    open_requests,
    outages,
)
from reports.base import Context, ReportFilter, run_page, with_defaults
from reports.models import ExportJob
from subscribers.meter_ops import remove_meter
from subscribers.models import Contract, Meter, MeterInstallation, Outage, Premise, ServicePoint, Subscriber
from tests.helpers import csrf_token_from, login

SERVICE_DIGIT = {"water": 1, "electricity": 2, "gas": 3}


def _tehran(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TEHRAN).astimezone(UTC)


class World(SimpleNamespace):
    """What the fixture built, and the dates it is built around: T is today in Tehran."""


def _contract(session, w, key, region, utility, tariff_type, name):
    n = len(w.contracts) + 1
    person = Subscriber(kind="person", first_name="مشترک", last_name=name, national_id=f"99{n:08d}",
                        region_id=region.id, search_text=name)
    premise = Premise(subscriber=person, province="فارس", city="شیراز", postal_code=f"71{n:08d}",
                      region_id=region.id)
    point = ServicePoint(premise=premise, utility=utility, status="active")
    meter = Meter(serial=f"RPT{n:05d}", utility=utility, kind="digital", status="installed", region_id=region.id)
    session.add_all([person, premise, point, meter])
    session.flush()
    session.add(MeterInstallation(meter_id=meter.id, service_point_id=point.id, installed_on=date(2023, 3, 21),
                                  initial_readings={"single": 0}))
    file_no = f"{9_000_000 + n}"
    contract = Contract(subscription_no=f"77{n:08d}", file_no=file_no,
                        bill_id=make_bill_id(file_no, 101, SERVICE_DIGIT[utility]), subscriber_id=person.id,
                        service_point_id=point.id, region_id=region.id, tariff_type=tariff_type,
                        start_date=date(2023, 3, 21), status="active")
    session.add(contract)
    session.flush()
    open_contract_account(session, None, contract.id, region.id, contract.bill_id)
    w.contracts[key] = contract
    w.points[key] = point
    w.meters[key] = meter
    return contract


def _bill(session, w, key, amount, issued, due):
    contract = w.contracts[key]
    post_bill(session, None, contract.id, bill_id=contract.bill_id, period=f"p{issued.isoformat()}",
              issued_on=issued, due_on=due, lines={"energy": amount})


def _pay(session, w, key, amount, channel, on, reference):
    result = post_payment(session, None, PaymentRequest(channel, reference, amount, on,
                                                        contract_id=w.contracts[key].id))
    assert result.status == "posted", result
    return result


def _regions(session):
    by_code = {r.code: r for r in session.scalars(select(Region))}
    test_region = add_region(session, "rpt-region", "امور آزمایشی گزارش", "region", by_code["demo"], ["electricity"])
    test_office = add_region(session, "rpt-office", "دفتر آزمایشی گزارش", "office", test_region, ["electricity"])
    return by_code["shiraz-1"], by_code["shiraz-2"], test_region, test_office


def build_world(session) -> World:
    """Contracts A–H with bills, payments, a deadline, a plan, broken meters, outages and requests."""
    today = datetime.now(TEHRAN).date()
    now = datetime.now(UTC).replace(microsecond=0)
    T = today
    w = World(today=T, now=now, contracts={}, points={}, meters={})
    s1, s2, r3, r3_office = _regions(session)
    w.regions = SimpleNamespace(s1=s1, s2=s2, r3=r3, r3_office=r3_office)
    _contract(session, w, "A", s1, "electricity", "residential", "الف")
    _contract(session, w, "B", s2, "gas", "commercial", "ب")
    _contract(session, w, "C", s1, "water", "residential", "پ")
    _contract(session, w, "D", s2, "electricity", "residential", "ت")
    _contract(session, w, "E", s1, "electricity", "residential", "ث")
    _contract(session, w, "F", s2, "electricity", "residential", "ج")
    _contract(session, w, "G", r3, "electricity", "residential", "چ")
    _contract(session, w, "H", r3_office, "electricity", "residential", "ح")

    # Debts: A 2.5M (1M 0–30 days, 1.5M 31–60), B 7M (3M 61–90, 4M over 90), C 0.3M, D settled.
    _bill(session, w, "A", 2_000_000, T - timedelta(days=80), T - timedelta(days=52))
    _bill(session, w, "A", 1_000_000, T - timedelta(days=40), T - timedelta(days=12))
    grant_grace_period(session, None, w.contracts["A"].id, T + timedelta(days=30), T - timedelta(days=31),
                       "مهلت آزمایشی", amount=2_000_000)
    _pay(session, w, "A", 500_000, "bank", T - timedelta(days=20), "RPT-A1")
    _bill(session, w, "B", 4_000_000, T - timedelta(days=170), T - timedelta(days=151))
    _bill(session, w, "B", 3_000_000, T - timedelta(days=100), T - timedelta(days=83))
    w.plan = create_installment_plan(session, None, w.contracts["B"].id, count=3, down_payment_percent=10,
                                     first_due_on=T - timedelta(days=50), today=T - timedelta(days=80),
                                     reason="تقسیط آزمایشی")
    _bill(session, w, "C", 300_000, T - timedelta(days=30), T - timedelta(days=5))
    _bill(session, w, "D", 1_000_000, T - timedelta(days=30), T - timedelta(days=10))
    _pay(session, w, "D", 1_000_000, "pos", T - timedelta(days=20), "RPT-D1")
    _pay(session, w, "E", 200_000, "internet", T - timedelta(days=3), "RPT-E1")
    reversed_payment = _pay(session, w, "F", 700_000, "bank", T - timedelta(days=3), "RPT-F1")
    reverse(session, None, reversed_payment.journal_id, "پرداخت اشتباه", T - timedelta(days=2))

    # Broken meters: E's taken off as faulty ten days ago; F's marked faulty where it stands, today.
    remove_meter(session, None, w.points["E"].id, T - timedelta(days=10), {"single": 100}, "سوخته", "faulty")
    w.meters["F"].status = "faulty"
    audit(session, None, "meter.status_changed", w.meters["F"], status="faulty")

    # Requests: a meter inspection on E's contract; a procedure with steps waiting and done.
    inspection = ProcessVersion(process_key="meter_inspection", version=900, name="بازدید و تست کنتور",
                                content_hash="rpt-inspection", bpmn="", spec={})
    procedure = ProcessVersion(process_key="rpt_procedure", version=1, name="روال آزمایشی", content_hash="rpt-proc",
                               bpmn="", spec={})
    session.add_all([inspection, procedure])
    session.flush()
    hours = lambda n: now - timedelta(hours=n)  # noqa: E731

    def instance(version, key, region, created, status="running", contract=None):
        row = Instance(version_id=version.id, process_key=version.process_key, business_key=key, status=status,
                       region_id=region.id, contract_id=contract, state=b"", created_at=created,
                       last_progress_at=created)
        session.add(row)
        session.flush()
        return row

    def item(inst, name, title, region, created, due=None, completed=None):
        session.add(WorkItem(instance_id=inst.id, task_id=f"{inst.id}-{name}", task_name=name, title=title,
                             role_code="engineer", region_id=region.id, status="completed" if completed else "open",
                             created_at=created, due_at=due, completed_at=completed))

    w.inspection = instance(inspection, "RPT-0001", s1, hours(30), contract=w.contracts["E"].id)
    item(w.inspection, "site_visit", "بازدید از محل", s1, hours(30))
    i1, i2 = instance(procedure, "RPT-1001", s1, hours(20)), instance(procedure, "RPT-1002", s1, hours(10))
    i3 = instance(procedure, "RPT-1003", s2, hours(2))
    i4 = instance(procedure, "RPT-1004", s1, hours(40), status="completed")
    item(i1, "register", "ثبت", s1, hours(20), completed=hours(10))
    item(i1, "review", "بررسی", s1, hours(10), due=hours(1))
    item(i2, "register", "ثبت", s1, hours(10), completed=hours(4))
    item(i2, "review", "بررسی", s1, hours(4), due=now + timedelta(hours=4))
    item(i3, "visit", "بازدید", s2, hours(2))
    item(i4, "review", "بررسی", s1, hours(40), completed=hours(38))

    # Outages in the last 30 days: region-wide in the test region (G and H, not C's water), at named points,
    # one that began before the period, one outside it, one still going.
    def outage(utility, region, starts, ends, planned, points=()):
        row = Outage(utility=utility, region_id=region.id if region else None, starts_at=starts, ends_at=ends,
                     planned=planned, cause="آزمایشی")
        row.service_points = [w.points[k] for k in points]
        session.add(row)

    outage("electricity", r3, _tehran(T - timedelta(days=5), 10), _tehran(T - timedelta(days=5), 13), False)
    outage("electricity", r3, _tehran(T - timedelta(days=3), 8), _tehran(T - timedelta(days=3), 10), True, ["G"])
    outage("electricity", s1, _tehran(T - timedelta(days=31), 22), _tehran(T - timedelta(days=30), 2), True, ["A"])
    outage("electricity", s1, _tehran(T - timedelta(days=60), 8), _tehran(T - timedelta(days=60), 9), True, ["A"])
    outage("electricity", s1, now - timedelta(hours=1), None, False, ["E"])
    session.flush()
    return w


def _tariff_type(session, utility, slug, code, name):
    found = session.scalar(select(TariffType).where(TariffType.utility == utility, TariffType.slug == slug))
    if found is None:
        found = TariffType(utility=utility, slug=slug, code=code, name=name)
        session.add(found)
        session.flush()
    return found


def add_bills(session, w):
    """Bills of two months with their readings, one cancelled and issued again, and a billing run."""
    residential = _tariff_type(session, "electricity", "residential", "1", "خانگی")
    w.tariff_name = residential.name

    def bill(key, period, charges, vat, levies, consumption=None, status="issued", sequence=1):
        contract = w.contracts[key]
        total = charges + vat + levies
        row = Bill(contract_id=contract.id, region_id=contract.region_id, tariff_type_id=residential.id,
                   tariff_code=residential.code, period=period,
                   period_start=w.today - timedelta(days=60), period_end=w.today - timedelta(days=30), status=status,
                   bill_id=contract.bill_id, issued_on=w.today - timedelta(days=5), due_on=w.today + timedelta(days=9),
                   charges=charges, vat=vat, levies=levies, total=total, brought_forward=0, rounding=0, payable=total,
                   sequence=sequence)
        session.add(row)
        session.flush()
        if consumption is not None:
            session.add(MeterReading(contract_id=contract.id, meter_id=w.meters[key].id, region_id=contract.region_id,
                                     register="single", read_on=w.today - timedelta(days=30), value=consumption,
                                     consumption=consumption, bill_id=row.id))
        return row

    bill("A", "1405/07", 1_000_000, 100_000, 20_000, 250)
    a8 = bill("A", "1405/08", 1_200_000, 120_000, 0, 300)
    bill("D", "1405/08", 900_000, 90_000, 0, status="cancelled")
    d8 = bill("D", "1405/08", 800_000, 80_000, 0, 200, sequence=2)
    run = BillingRun(utility="electricity", period="1405/08", period_start=w.today - timedelta(days=60),
                     period_end=w.today - timedelta(days=30), status="finished", issued_on=w.today - timedelta(days=5),
                     total=4)
    session.add(run)
    session.flush()
    session.add_all([
        BillingRunContract(run_id=run.id, contract_id=w.contracts["A"].id, status="billed", bill_pk=a8.id),
        BillingRunContract(run_id=run.id, contract_id=w.contracts["D"].id, status="billed", bill_pk=d8.id),
        BillingRunContract(run_id=run.id, contract_id=w.contracts["E"].id, status="skipped", reason="reading.missing"),
        BillingRunContract(run_id=run.id, contract_id=w.contracts["H"].id, status="pending")])
    session.flush()
    w.run = run


@pytest.fixture
def world(session, demo):
    w = build_world(session)
    add_bills(session, w)
    w.admin = demo["admin"]
    engineer = session.scalar(select(Role).where(Role.code == "engineer"))
    w.reporter = account_ops.create_user(session, None, username="reporter1", full_name="گزارش‌گیر امور یک",
                                         password="madam1403")
    account_ops.assign_role(session, None, w.reporter, engineer, w.regions.s1)
    session.flush()
    return w


def run(session, w, report, user=None, page_size=100, **filters):
    ctx = Context(session, user or w.admin, w.today, w.now)
    flt = with_defaults(ctx, report, ReportFilter(**filters), set(filters))
    return run_page(ctx, report, flt, 1, page_size)


def last_30_days(w) -> dict:
    return {"date_from": w.today - timedelta(days=30), "date_to": w.today}


def names(page, key="subscription_no"):
    return [row[key] for row in page.rows]


def sub(w, *keys):
    return [w.contracts[k].subscription_no for k in keys]


# ---- each report on the world ------------------------------------------------------------------------------

def test_debtors_rows_aging_and_totals(session, world):
    page = run(session, world, debtors.REPORT)
    assert names(page) == sub(world, "B", "A", "C")
    by_no = {row["subscription_no"]: row for row in page.rows}
    a, b, c = (by_no[n] for n in sub(world, "A", "B", "C"))
    assert (a["balance"], a["age_0_30"], a["age_31_60"], a["age_61_90"], a["age_over_90"]) == (
        2_500_000, 1_000_000, 1_500_000, 0, 0)
    assert (b["balance"], b["age_0_30"], b["age_31_60"], b["age_61_90"], b["age_over_90"]) == (
        7_000_000, 0, 0, 3_000_000, 4_000_000)
    assert (c["balance"], c["age_0_30"]) == (300_000, 300_000)
    assert (b["utility"], b["tariff_type"], b["region"]) == ("gas", "commercial", world.regions.s2.name)
    assert page.total == 3
    assert page.totals == {"balance": 9_800_000, "age_0_30": 1_300_000, "age_31_60": 1_500_000,
                           "age_61_90": 3_000_000, "age_over_90": 4_000_000}
    one_a_page = run(session, world, debtors.REPORT, page_size=1)
    assert (one_a_page.total, one_a_page.totals) == (3, page.totals)  # every filtered row's, not the page's
    ctx = Context(session, world.admin, world.today, world.now)
    assert debtors.REPORT.export_totals(ctx, debtors.REPORT, ReportFilter(as_of=world.today), None) == {
        "count": 3, "balance": 9_800_000, "age_0_30": 1_300_000, "age_31_60": 1_500_000, "age_61_90": 3_000_000,
        "age_over_90": 4_000_000}


def test_debtors_filters(session, world):
    assert names(run(session, world, debtors.REPORT, min_amount=500_000)) == sub(world, "B", "A")
    assert names(run(session, world, debtors.REPORT, max_amount=3_000_000)) == sub(world, "A", "C")
    assert names(run(session, world, debtors.REPORT, utility="gas")) == sub(world, "B")
    assert names(run(session, world, debtors.REPORT, tariff_type="residential")) == sub(world, "A", "C")
    assert names(run(session, world, debtors.REPORT, region_id=world.regions.s1.id)) == sub(world, "A", "C")
    # Seen from 50 days on, A's first bill is over 90 days past due and its second 61–90.
    later = run(session, world, debtors.REPORT, as_of=world.today + timedelta(days=50), utility="electricity")
    assert [(r["age_61_90"], r["age_over_90"]) for r in later.rows] == [(1_000_000, 1_500_000)]


def test_debtors_chart_is_the_aging_of_the_open_debt(session, world):
    ctx = Context(session, world.admin, world.today, world.now)
    chart = debtors.REPORT.chart(ctx, ReportFilter(as_of=world.today))
    assert chart["datasets"][0]["data"] == [1_300_000, 1_500_000, 3_000_000, 4_000_000]


def test_debtors_given_a_deadline(session, world):
    page = run(session, world, deadlines.REPORT)
    T = world.today
    plan_last_due = add_jalali_months(T - timedelta(days=50), 2)
    overdue = sum(1 for d in (T - timedelta(days=80), T - timedelta(days=50), add_jalali_months(
        T - timedelta(days=50), 1), plan_last_due) if d < T)
    assert [(r["subscription_no"], r["kind"]) for r in page.rows] == [(sub(world, "B")[0], "plan"),
                                                                       (sub(world, "A")[0], "grace")]
    plan, grace = page.rows
    assert (plan["due_on"], plan["amount"], plan["installments"], plan["paid"], plan["remaining"],
            plan["overdue_installments"], plan["next_due_on"], plan["state"]) == (
        plan_last_due, 7_000_000, 3, 0, 7_000_000, overdue, T - timedelta(days=80), "broken")
    assert (grace["granted_on"], grace["due_on"], grace["amount"], grace["paid"], grace["remaining"],
            grace["next_due_on"], grace["state"], grace["balance"]) == (
        T - timedelta(days=31), T + timedelta(days=30), 2_000_000, 500_000, 1_500_000, T + timedelta(days=30),
        "current", 2_500_000)
    assert (page.total, page.totals) == (2, {"amount": 9_000_000})
    only_grace = run(session, world, deadlines.REPORT, date_from=T + timedelta(days=20))
    assert [r["kind"] for r in only_grace.rows] == ["grace"]


def test_broken_meters(session, world):
    page = run(session, world, broken_meters.REPORT)
    assert [(r["serial"], r["subscription_no"], r["meter_state"], r["faulty_since"]) for r in page.rows] == [
        (world.meters["F"].serial, sub(world, "F")[0], "installed", world.today),
        (world.meters["E"].serial, sub(world, "E")[0], "removed", world.today - timedelta(days=10))]
    e = page.rows[1]
    assert (e["request_no"], e["request_state"], e["request_step"]) == ("RPT-0001", "running", "بازدید از محل")
    # Who and where are read for the rows shown: the second page of one row is E's alone.
    assert [(r["subscriber"], r["region"]) for r in page.rows] == [
        ("مشترک ج", world.regions.s2.name), ("مشترک ث", world.regions.s1.name)]
    ctx = Context(session, world.admin, world.today, world.now)
    second = run_page(ctx, broken_meters.REPORT, ReportFilter(), 2, 1)
    assert (second.total, [(r["serial"], r["subscriber"], r["region"], r["request_no"]) for r in second.rows]) == (
        2, [(world.meters["E"].serial, "مشترک ث", world.regions.s1.name, "RPT-0001")])
    assert page.rows[0]["request_no"] == ""
    dated = run(session, world, broken_meters.REPORT, date_from=world.today - timedelta(days=11),
                date_to=world.today - timedelta(days=9))
    assert [r["serial"] for r in dated.rows] == [world.meters["E"].serial]


def test_outages_per_subscriber(session, world):
    page = run(session, world, outages.REPORT, group="subscriber", **last_30_days(world))
    assert [(r["subscription_no"], r["outages"], r["planned"], r["unplanned"], r["seconds"]) for r in page.rows] == [
        (sub(world, "G")[0], 2, 1, 1, 5 * 3600), (sub(world, "H")[0], 1, 0, 1, 3 * 3600),
        (sub(world, "A")[0], 1, 1, 0, 2 * 3600), (sub(world, "E")[0], 1, 0, 1, 3600)]
    assert page.totals == {"outages": 5, "planned": 2, "unplanned": 3, "seconds": 11 * 3600}
    planned = run(session, world, outages.REPORT, group="subscriber", planned="planned", **last_30_days(world))
    assert names(planned) == sub(world, "A", "G")  # 2 hours each: by contract


def test_outages_per_region_and_chart(session, world):
    page = run(session, world, outages.REPORT, group="region", **last_30_days(world))
    regions = world.regions
    expected = sorted([
        (regions.s1, 2, 1, 1, 7200, 3600, 2, 10800),
        (regions.r3, 2, 1, 1, 7200, 10800, 1, 18000),
        (regions.r3_office, 1, 0, 1, 0, 10800, 1, 10800)], key=lambda e: e[0].path)
    assert [tuple(r.values()) for r in page.rows] == [(e[0].name, *e[1:]) for e in expected]
    ctx = Context(session, world.admin, world.today, world.now)
    chart = outages.REPORT.chart(ctx, with_defaults(ctx, outages.REPORT, ReportFilter(**last_30_days(world)), set()))
    assert chart["labels"] == [e[0].name for e in expected]
    assert chart["datasets"][1]["data"] == [e[5] / 3600 for e in expected]


def test_outages_per_region_counts_region_wide_outages_without_listing_their_contracts(session, world):
    """Region-wide outages overlapping in a region and the office below it, a contract ended between two of them,
    a water contract an electricity outage passes by, a contract both a named and a region-wide outage reached."""
    T, regions = world.today, world.regions
    i = _contract(session, world, "I", regions.r3, "electricity", "residential", "خ")
    i.end_date = T - timedelta(days=4)  # live for the outage five days ago, closed before the one two days ago
    _contract(session, world, "J", regions.r3_office, "water", "residential", "د")
    for utility, region, starts, hours, planned in (("electricity", regions.r3_office, T - timedelta(days=2), 1, True),
                                                    ("water", regions.r3, T - timedelta(days=1), 2, False)):
        session.add(Outage(utility=utility, region_id=region.id, starts_at=_tehran(starts, 14),
                           ends_at=_tehran(starts, 14 + hours), planned=planned, cause="آزمایشی"))
    session.flush()

    def per_region(user=None, **filters):
        page = run(session, world, outages.REPORT, user=user, group="region", **last_30_days(world), **filters)
        return [tuple(r.values()) for r in page.rows]

    s1 = (regions.s1.name, 2, 1, 1, 7200, 3600, 2, 10800)
    # r3: the region-wide outage (G, I) and the named one at G; G counted once. r3's office: two region-wide
    # electricity outages (H), the water one (J); I is in r3 itself and closed before the second.
    r3 = (regions.r3.name, 2, 1, 1, 7200, 10800, 2, 8 * 3600)
    office = (regions.r3_office.name, 3, 1, 2, 3600, 10800 + 7200, 2, 6 * 3600)
    paths = {r.name: r.path for r in (regions.s1, regions.r3, regions.r3_office)}
    expected = sorted([s1, r3, office], key=lambda row: paths[row[0]])
    assert per_region() == expected
    assert per_region(planned="planned") == sorted([
        (regions.s1.name, 1, 1, 0, 7200, 0, 1, 7200), (regions.r3.name, 1, 1, 0, 7200, 0, 1, 7200),
        (regions.r3_office.name, 1, 1, 0, 3600, 0, 1, 3600)], key=lambda row: paths[row[0]])
    assert per_region(utility="electricity")[-1] == (regions.r3_office.name, 2, 1, 1, 3600, 10800, 1, 4 * 3600)
    assert per_region(region_id=regions.r3_office.id) == [office]
    assert per_region(region_id=regions.r3.id) == [r3, office]
    assert per_region(user=world.reporter) == [s1]
    # The same contracts and hours as the per-subscriber rows, which list every pair.
    for filters in ({}, {"planned": "unplanned"}, {"region_id": regions.r3.id}):
        subscribers = run(session, world, outages.REPORT, group="subscriber", **last_30_days(world), **filters).rows
        by_region = {}
        for row in subscribers:
            count, seconds = by_region.get(row["region"], (0, 0))
            by_region[row["region"]] = (count + 1, seconds + row["seconds"])
        assert {row[0]: (row[6], row[7]) for row in per_region(**filters)} == by_region, filters
        # The per-subscriber count and totals are read from the regions' summary, not from these rows: they agree.
        page = run(session, world, outages.REPORT, group="subscriber", page_size=1, **last_30_days(world), **filters)
        assert page.total == len(subscribers), filters
        assert page.totals == {key: sum(r[key] for r in subscribers)
                               for key in ("outages", "planned", "unplanned", "seconds")}, filters
    reached = run(session, world, outages.REPORT, group="subscriber", **last_30_days(world)).rows
    assert set(sub(world, "I", "J")) <= {r["subscription_no"] for r in reached}
    assert [(r["subscriber"], r["region"], r["outages"], r["seconds"]) for r in reached
            if r["subscription_no"] in sub(world, "H", "J")] == [
        ("مشترک ح", regions.r3_office.name, 2, 4 * 3600), ("مشترک د", regions.r3_office.name, 1, 2 * 3600)]


def test_collections_by_channel_and_day(session, world):
    T = world.today
    page = run(session, world, collections.REPORT, **last_30_days(world))
    assert [tuple(r.values()) for r in page.rows] == [
        (T - timedelta(days=20), "bank", 1, 500_000), (T - timedelta(days=20), "pos", 1, 1_000_000),
        (T - timedelta(days=3), "internet", 1, 200_000)]
    assert page.totals == {"payments": 3, "amount": 1_700_000}
    by_pos = run(session, world, collections.REPORT, channel="pos", **last_30_days(world))
    assert [tuple(r.values()) for r in by_pos.rows] == [(T - timedelta(days=20), "pos", 1, 1_000_000)]


def test_open_requests_by_procedure_and_step(session, world):
    page = run(session, world, open_requests.REPORT, process_key="rpt_procedure")
    rows = [(r["procedure"], r["step"], r["open_items"], r["overdue_items"], r["avg_waiting"], r["avg_request_age"],
             r["avg_done"]) for r in page.rows]
    assert rows == [("روال آزمایشی", "بررسی", 2, 1, 7 * 3600, 15 * 3600, 2 * 3600),
                    ("روال آزمایشی", "بازدید", 1, 0, 2 * 3600, 2 * 3600, None)]
    assert page.rows[0]["oldest"] == world.now - timedelta(hours=10)
    assert page.totals == {"open_items": 3, "overdue_items": 1}
    started_today = run(session, world, open_requests.REPORT, process_key="rpt_procedure",
                        date_from=world.today, date_to=world.today)
    assert sum(r["open_items"] for r in started_today.rows) <= 3


def test_consumption_by_month_tariff_type_and_region(session, world):
    s1, s2 = world.regions.s1.name, world.regions.s2.name
    page = run(session, world, consumption.REPORT, region_id=None)
    rows = {(r["period"], r["utility"], r["tariff_type"], r["region"]): (r["bills"], r["consumption"])
            for r in page.rows}
    assert rows == {("1405/08", "electricity", world.tariff_name, s1): (1, 300),
                    ("1405/08", "electricity", world.tariff_name, s2): (1, 200),
                    ("1405/07", "electricity", world.tariff_name, s1): (1, 250)}
    assert [r["period"] for r in page.rows] == ["1405/08", "1405/08", "1405/07"]
    assert page.totals == {"bills": 3, "consumption": 750}
    autumn = run(session, world, consumption.REPORT, date_from=parse_jalali_date("1405/08/01"))
    assert autumn.totals == {"bills": 2, "consumption": 500}


def test_billing_summary_per_run_and_per_period(session, world):
    per_run = run(session, world, billing_summary.REPORT, group="run")
    assert [(r["run"], r["contracts"], r["billed"], r["skipped"], r["pending"], r["charges"], r["vat"], r["levies"],
             r["payable"]) for r in per_run.rows] == [
        (world.run.id, 4, 2, 1, 1, 2_000_000, 200_000, 0, 2_200_000)]
    per_period = run(session, world, billing_summary.REPORT, group="period")
    s1, s2 = world.regions.s1.name, world.regions.s2.name
    rows = {(r["period"], r["region"]): (r["bills"], r["cancelled"], r["charges"], r["vat"], r["levies"],
                                         r["payable"]) for r in per_period.rows}
    assert rows == {("1405/08", s1): (1, 0, 1_200_000, 120_000, 0, 1_320_000),
                    ("1405/08", s2): (1, 1, 800_000, 80_000, 0, 880_000),
                    ("1405/07", s1): (1, 0, 1_000_000, 100_000, 20_000, 1_120_000)}
    assert per_period.totals == {"bills": 3, "cancelled": 1, "charges": 3_000_000, "vat": 300_000, "levies": 20_000,
                                 "rounding": 0, "payable": 3_320_000}


# ---- region scoping ---------------------------------------------------------------------------------------

def test_every_report_shows_only_the_users_regions(session, world):
    reporter = world.reporter
    assert names(run(session, world, debtors.REPORT, user=reporter)) == sub(world, "A", "C")
    assert [r["kind"] for r in run(session, world, deadlines.REPORT, user=reporter).rows] == ["grace"]
    assert [r["serial"] for r in run(session, world, broken_meters.REPORT, user=reporter).rows] == [
        world.meters["E"].serial]
    reached = run(session, world, outages.REPORT, user=reporter, group="subscriber", **last_30_days(world))
    assert names(reached) == sub(world, "A", "E")
    paid = run(session, world, collections.REPORT, user=reporter, **last_30_days(world))
    assert [r["channel"] for r in paid.rows] == ["bank", "internet"]
    steps = run(session, world, open_requests.REPORT, user=reporter, process_key="rpt_procedure")
    assert [(r["step"], r["open_items"]) for r in steps.rows] == [("بررسی", 2)]
    assert run(session, world, consumption.REPORT, user=reporter).totals == {"bills": 2, "consumption": 550}
    assert [(r["contracts"], r["billed"], r["skipped"], r["pending"], r["payable"]) for r in run(
        session, world, billing_summary.REPORT, user=reporter).rows] == [(2, 1, 1, 0, 1_320_000)]


def test_a_region_filter_outside_my_regions_is_refused(client, world):
    login(client, "reporter1")
    response = client.get(f"/reports/debtors?region_id={world.regions.s2.id}")
    assert response.status_code == 422
    assert "امور: یکی از گزینه‌ها را انتخاب کنید." in response.get_data(as_text=True)


# ---- pages ------------------------------------------------------------------------------------------------

def test_report_page_filters_and_totals(client, world):
    login(client, "admin")
    html = client.get("/reports/debtors?min_amount=۵۰۰٬۰۰۰").get_data(as_text=True)
    b, a, c = (f"{n}" for n in sub(world, "B", "A", "C"))
    from core.text import to_persian_digits

    assert html.index(to_persian_digits(b)) < html.index(to_persian_digits(a))
    assert to_persian_digits(c) not in html
    assert "۹٬۵۰۰٬۰۰۰" in html  # the total debt of B and A


def _footer(html: str) -> dict[str, str]:
    """{column key: text} of the totals row ('count': its first cell)."""
    import re

    row = re.search(r'<tr class="fw-bold" data-testid="report-totals">(.*?)</tr>', html, re.S).group(1)
    cells = dict(re.findall(r'<td data-column="(\w+)"[^>]*>(.*?)</td>', row, re.S))
    count = re.search(r'data-testid="report-totals-count">(.*?)</span>', row).group(1)
    return {"count": count, **{key: re.sub(r"<[^>]+>", "", text).strip() for key, text in cells.items()}}


def test_debtors_totals_row_sums_every_filtered_row(client, world):
    login(client, "admin")
    footer = _footer(client.get("/reports/debtors").get_data(as_text=True))
    assert footer["count"] == "جمع ۳ ردیف"
    assert (footer["balance"], footer["age_0_30"], footer["age_31_60"], footer["age_61_90"],
            footer["age_over_90"]) == ("۹٬۸۰۰٬۰۰۰ ریال", "۱٬۳۰۰٬۰۰۰ ریال", "۱٬۵۰۰٬۰۰۰ ریال", "۳٬۰۰۰٬۰۰۰ ریال",
                                       "۴٬۰۰۰٬۰۰۰ ریال")
    assert footer["subscriber"] == footer["region"] == ""
    # Filtered (A and C, in Shiraz 1): A 1M + 1.5M, C 0.3M not yet overdue.
    footer = _footer(client.get(f"/reports/debtors?region_id={world.regions.s1.id}").get_data(as_text=True))
    assert (footer["count"], footer["balance"], footer["age_0_30"], footer["age_31_60"], footer["age_61_90"],
            footer["age_over_90"]) == ("جمع ۲ ردیف", "۲٬۸۰۰٬۰۰۰ ریال", "۱٬۳۰۰٬۰۰۰ ریال", "۱٬۵۰۰٬۰۰۰ ریال",
                                       "۰ ریال", "۰ ریال")
    html = client.get("/reports/debtors?min_amount=500000&size=25&page=1").get_data(as_text=True)
    assert _footer(html)["count"] == "جمع ۲ ردیف" and _footer(html)["age_over_90"] == "۴٬۰۰۰٬۰۰۰ ریال"


def test_many_debtors_leave_the_debt_by_age_to_the_chart(client, world, monkeypatch):
    monkeypatch.setattr(debtors, "PAGE_BUCKET_TOTALS_UP_TO", 2)
    login(client, "admin")
    html = client.get("/reports/debtors").get_data(as_text=True)
    footer = _footer(html)
    assert (footer["count"], footer["balance"]) == ("جمع ۳ ردیف", "۹٬۸۰۰٬۰۰۰ ریال")
    assert footer["age_0_30"] == "…" and html.count("data-total-pending") == 4
    assert client.get("/reports/debtors/chart.json").get_json()["totals"] == {
        "age_0_30": 1_300_000, "age_31_60": 1_500_000, "age_61_90": 3_000_000, "age_over_90": 4_000_000}
    printed = _footer(client.get("/reports/debtors?print=1").get_data(as_text=True))  # a print carries them all
    assert printed["age_over_90"] == "۴٬۰۰۰٬۰۰۰ ریال"
    # Two debtors are few enough again: the page reads their debt by age itself.
    assert _footer(client.get("/reports/debtors?min_amount=500000").get_data(as_text=True))["age_61_90"] == (
        "۳٬۰۰۰٬۰۰۰ ریال")


def test_every_totals_row_sums_its_columns(client, world):
    login(client, "admin")
    period = "&".join(f"{k}={format_jalali_date(v, False)}" for k, v in last_30_days(world).items())
    footer = _footer(client.get(f"/reports/collections?{period}").get_data(as_text=True))
    assert (footer["count"], footer["payments"], footer["amount"]) == ("جمع ۳ ردیف", "۳", "۱٬۷۰۰٬۰۰۰ ریال")
    footer = _footer(client.get(f"/reports/outages?group=subscriber&{period}").get_data(as_text=True))
    assert (footer["count"], footer["outages"], footer["planned"], footer["unplanned"], footer["seconds"]) == (
        "جمع ۴ ردیف", "۵", "۲", "۳", "۱۱.۰")
    footer = _footer(client.get("/reports/deadlines").get_data(as_text=True))
    assert (footer["count"], footer["amount"], footer["paid"]) == ("جمع ۲ ردیف", "۹٬۰۰۰٬۰۰۰ ریال", "")


def test_a_bad_date_is_named_in_persian(client, world):
    login(client, "admin")
    response = client.get("/reports/collections?date_from=1403/13/01")
    assert response.status_code == 422
    assert "از: تاریخ را به شمسی وارد کنید" in response.get_data(as_text=True)


def test_every_report_page_and_print_view_renders(client, world):
    login(client, "admin")
    for key in ("debtors", "deadlines", "broken_meters", "outages", "collections", "open_requests", "consumption",
                "billing_summary"):
        assert client.get(f"/reports/{key}").status_code == 200, key
        printed = client.get(f"/reports/{key}?print=1")
        assert printed.status_code == 200 and "data-print" in printed.get_data(as_text=True), key
    assert client.get("/reports/outages?group=region").status_code == 200
    assert client.get("/reports/billing_summary?group=period").status_code == 200
    assert client.get("/reports/").status_code == 200


def test_the_chart_answers_json(client, world):
    login(client, "admin")
    period = {k: format_jalali_date(v, False) for k, v in last_30_days(world).items()}
    chart = client.get("/reports/collections/chart.json", query_string=period).get_json()
    T = world.today
    assert chart["labels"] == [format_jalali_date(T - timedelta(days=20), False),
                               format_jalali_date(T - timedelta(days=3), False)]
    assert {d["label"]: d["data"] for d in chart["datasets"]} == {
        "بانک": [500_000, 0], "اینترنت": [0, 200_000], "کارتخوان": [1_000_000, 0]}


def test_reports_need_the_permission(client, world):
    login(client, "clerk")
    assert client.get("/reports/debtors").status_code == 403


# ---- exports ----------------------------------------------------------------------------------------------

def _export(client, url, fmt, data):
    page = client.get(url)
    return client.post(f"{url.split('?')[0]}/export",
                       data={**data, "format": fmt, "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_xlsx_export_holds_the_rows_and_totals(client, world):
    login(client, "admin")
    response = _export(client, "/reports/debtors", "xlsx", {"min_amount": "500000"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("شماره اشتراک", "مشترک", "امور", "خدمت", "نوع تعرفه", "بدهی", "۰ تا ۳۰ روز",
                       "۳۱ تا ۶۰ روز", "۶۱ تا ۹۰ روز", "بیش از ۹۰ روز")
    b, a = sub(world, "B", "A")
    assert rows[1] == (b, "مشترک ب", world.regions.s2.name, "گاز", "تجاری", 7_000_000, 0, 0, 3_000_000, 4_000_000)
    assert rows[2] == (a, "مشترک الف", world.regions.s1.name, "برق", "خانگی", 2_500_000, 1_000_000, 1_500_000, 0,
                       0)
    assert rows[3] == ("جمع", None, None, None, None, 9_500_000, 1_000_000, 1_500_000, 3_000_000, 4_000_000)
    assert len(rows) == 4
    assert sheet.sheet_view.rightToLeft


def test_csv_export(client, world):
    login(client, "admin")
    period = {k: format_jalali_date(v, False) for k, v in last_30_days(world).items()}
    response = _export(client, "/reports/collections", "csv", {"channel": "bank", **period})
    text = response.data.decode("utf-8-sig").splitlines()
    assert text == ["روز,روش پرداخت,تعداد پرداخت,مبلغ",
                    f"{format_jalali_date(world.today - timedelta(days=20), False)},بانک,1,500000",
                    "جمع,,1,500000"]


def test_a_big_export_runs_as_a_job_with_a_download_for_its_user_only(app, client, world, tmp_path):
    app.config["MADAM_REPORTS_EXPORT_ROW_LIMIT"] = 1
    try:
        login(client, "admin")
        response = _export(client, "/reports/debtors", "xlsx", {})
        assert response.status_code == 302
        job_page = client.get(response.location)
        html = job_page.get_data(as_text=True)
        assert 'data-status="done"' in html
        download = client.get(response.location + "/download")
        assert download.status_code == 200
        rows = list(load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))
        assert [r[0] for r in rows[1:]] == [*sub(world, "B", "A", "C"), "جمع"]
        client.post("/logout", data={"csrf_token": csrf_token_from(job_page.get_data(as_text=True))})
        login(client, "reporter1")
        assert client.get(response.location + "/download").status_code == 404
        assert client.get(response.location).status_code == 404
    finally:
        app.config.pop("MADAM_REPORTS_EXPORT_ROW_LIMIT")


def test_an_export_job_runs_on_an_rq_worker_to_completion(app, session, world, tmp_path):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from core.jobs import JobBackend
    from reports import exports
    from tests.conftest import TEST_REDIS_URL

    connection = Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    try:
        backend = JobBackend(TEST_REDIS_URL)
        job = exports.request_export(session, world.admin, outages.REPORT,
                                     ReportFilter(group="subscriber", **last_30_days(world)), "csv", 4, "fa")
        session.commit()
        queued = backend.enqueue(exports.run_export_job, job.id, str(tmp_path), queue="reports")
        job.queue_job_id = queued.id
        session.commit()
        assert exports.live_progress(job, backend) == ("queued", 0)
        SimpleWorker([Queue("reports", connection=connection)], connection=connection).work(burst=True)
        assert queued.get_status(refresh=True) == "finished"
        session.refresh(job)
        assert (job.status, job.done_rows) == ("done", 4)
        lines = (tmp_path / job.filename).read_text(encoding="utf-8-sig").splitlines()
        assert [line.split(",")[0] for line in lines[1:]] == [*sub(world, "G", "H", "A", "E"), "جمع"]
        assert exports.file_of(job, str(tmp_path)) == tmp_path / job.filename
        assert session.get(ExportJob, job.id).finished_at is not None
    finally:
        connection.flushdb()
