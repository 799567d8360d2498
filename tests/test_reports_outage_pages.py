"""Outages per subscriber: a page read the cheap way (`outages.first_rows`: a region's region-wide hours once, the
contracts that differ read exactly) holds exactly the rows, figures and order of the full statement's page, on
random worlds of overlapping region-wide and named outages, ended contracts, two utilities, ties and filters."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from core import account_ops
from core.accounts import Role
from core.jalali import TEHRAN
from reports import outages
from reports.base import Context, ReportFilter, run_page, with_defaults
from subscribers.models import Outage, outage_service_points
from tests.test_reports import World, _contract, _regions, _tehran


def _random_world(session, demo, seed: int) -> World:
    rng = random.Random(seed)
    s1, s2, region, office = _regions(session)
    w = World(contracts={}, points={}, meters={}, regions=(s1, s2, region, office), admin=demo["admin"])
    w.today = datetime.now(TEHRAN).date()
    w.now = datetime.now(UTC).replace(microsecond=0)
    for n in range(36):
        place = rng.choice(w.regions)
        utility = "water" if rng.random() < 0.2 else "electricity"
        contract = _contract(session, w, f"c{n}", place, utility, "residential", f"ن{n}")
        if rng.random() < 0.2:  # closed some days ago: reached only by what began before
            contract.end_date = w.today - timedelta(days=rng.randrange(0, 40))
    keys = list(w.contracts)
    for _ in range(rng.randrange(4, 12)):
        starts = _tehran(w.today - timedelta(days=rng.randrange(0, 45)), rng.randrange(0, 24))
        ends = None if rng.random() < 0.1 else starts + timedelta(minutes=rng.choice((30, 60, 90, 120, 600)))
        outage = Outage(utility="water" if rng.random() < 0.2 else "electricity", region_id=rng.choice(w.regions).id,
                        starts_at=starts, ends_at=ends, planned=rng.random() < 0.5, cause="آزمایشی")
        session.add(outage)
        session.flush()
        if rng.random() < 0.5:  # named points, else the whole region
            for key in rng.sample(keys, rng.randrange(1, 6)):
                session.execute(outage_service_points.insert().values(outage_id=outage.id,
                                                                      service_point_id=w.points[key].id))
    session.flush()
    return w


def _both(session, user, w, page, page_size, **filters):
    ctx = Context(session, user, w.today, w.now)
    flt = with_defaults(ctx, outages.REPORT, ReportFilter(group="subscriber", **filters), {"group", *filters})
    full = outages.statement(ctx, flt).limit(page_size).offset((page - 1) * page_size)
    expected = [dict(r) for r in session.execute(full).mappings()]
    return outages.first_rows(ctx, flt, page_size, (page - 1) * page_size), expected


@pytest.mark.parametrize("seed", range(6))
def test_a_page_read_the_cheap_way_equals_the_statements_page(session, demo, seed):
    w = _random_world(session, demo, seed)
    s1, _s2, region, _office = w.regions
    reporter = account_ops.create_user(session, None, username=f"outage-reporter{seed}", full_name="گزارش‌گیر",
                                       password="madam1403")
    account_ops.assign_role(session, None, reporter, session.query(Role).filter_by(code="engineer").one(), region)
    period = {"date_from": w.today - timedelta(days=30), "date_to": w.today}
    cases = [({}, w.admin), (period, w.admin), ({**period, "planned": "planned"}, w.admin),
             ({**period, "planned": "unplanned"}, w.admin), ({**period, "utility": "water"}, w.admin),
             ({**period, "region_id": region.id}, w.admin), ({**period, "region_id": s1.id}, w.admin),
             (period, reporter), ({"date_from": w.today - timedelta(days=3), "date_to": w.today}, w.admin)]
    compared = 0
    for filters, user in cases:
        for page_size in (1, 4, 100):
            for page in (1, 2):
                cheap, expected = _both(session, user, w, page, page_size, **filters)
                assert cheap == expected, (seed, filters, user.username, page, page_size)
                compared += len(expected)
    assert compared > 0  # the worlds do reach someone
    # The page the report shows is the cheap one, decorated.
    ctx = Context(session, w.admin, w.today, w.now)
    flt = with_defaults(ctx, outages.REPORT, ReportFilter(group="subscriber", **period), {"group", *period})
    shown = run_page(ctx, outages.REPORT, flt, 1, 5)
    assert [r["contract_id"] for r in shown.rows] == [r["contract_id"] for r in _both(session, w.admin, w, 1, 5,
                                                                                       **period)[1]]
    assert all(r["subscription_no"] and r["region"] for r in shown.rows)


def test_a_contract_ended_yesterday_is_not_reached_by_an_outage_that_began_after_tehrans_midnight(session, demo):
    """00:30 in Tehran is still the day before in UTC: the outage's day is Tehran's, for liveness as for the rows."""
    _s1, _s2, region, _office = _regions(session)
    w = World(contracts={}, points={}, meters={}, today=datetime.now(TEHRAN).date(),
              now=datetime.now(UTC).replace(microsecond=0))
    ended = _contract(session, w, "ended", region, "electricity", "residential", "پایان")
    live = _contract(session, w, "live", region, "electricity", "residential", "جاری")
    day = w.today - timedelta(days=5)
    ended.end_date = day
    after_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time().replace(minute=30), TEHRAN)
    before_midnight = datetime.combine(day, datetime.min.time().replace(hour=23, minute=0), TEHRAN)
    for starts in (after_midnight, before_midnight):
        session.add(Outage(utility="electricity", region_id=region.id, starts_at=starts.astimezone(UTC),
                           ends_at=starts.astimezone(UTC) + timedelta(minutes=20), planned=False, cause="آزمایشی"))
    session.flush()
    filters = {"date_from": w.today - timedelta(days=10), "date_to": w.today, "region_id": region.id}
    cheap, full = _both(session, demo["admin"], w, 1, 10, **filters)
    assert cheap == full
    assert {r["contract_id"]: (r["outages"], r["seconds"]) for r in full} == {
        live.id: (2, 40 * 60), ended.id: (1, 20 * 60)}  # the ended contract: only the outage of its last day
