"""Daily jobs on PostgreSQL (madam.scheduler.run_daily_jobs): the disconnection rule runs once its hour has
come, once a day however many loops race for it, keeps its result for the admin, and a failed run is
recorded, leaves nothing behind and is tried again the next day."""

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import schedule
from core.db import db
from core.jalali import TEHRAN
from engine.models import Instance
from ledger import adjustments
from madam import scheduler
from madam.demo import load_demo
from madam.settings import SettingsError, load_settings
from subscribers.models import Contract
from tests.engine_support import region
from tests.test_procedure_helpers import deploy_procedures

DAY = date(2026, 11, 28)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 5, tzinfo=TEHRAN)


@pytest.fixture
def debtors(app, committed_db):
    load_demo(db.session)
    deploy_procedures(db.session)
    contracts = db.session.scalars(select(Contract).where(Contract.region_id == region(db.session, "shiraz-1").id)
                                   .order_by(Contract.id).limit(2)).all()
    for contract in contracts:
        adjustments.post_fee(db.session, None, contract.id, 8_000_000, "meter_test", "بدهی معوق", date(2026, 10, 1))
    db.session.commit()
    app.config["MADAM_DISCONNECTION_RULE_HOUR"] = 6
    return [c.id for c in contracts]


def disconnections() -> list[int]:
    db.session.rollback()
    return sorted(db.session.scalars(select(Instance.contract_id).where(Instance.process_key == "disconnection")))


def test_the_rule_runs_from_its_hour_once_a_day_and_keeps_its_result(debtors):
    assert scheduler.run_daily_jobs(at(DAY, 5)) == {} and disconnections() == []  # not yet
    assert scheduler.run_daily_jobs(at(DAY, 6)) == {
        "disconnection_rule": {"started": 2, "threshold": 5_000_000}}
    assert disconnections() == debtors
    assert scheduler.run_daily_jobs(at(DAY, 14)) == {}  # the day's run is done
    [run] = schedule.last_runs(db.session)
    assert (run.name, run.last_day, run.result["started"], run.error) == ("disconnection_rule", DAY, 2, "")
    assert run.finished_at >= run.started_at
    # the next day it runs again; the debtors already have their requests
    assert scheduler.run_daily_jobs(at(DAY + timedelta(days=1), 7))["disconnection_rule"]["started"] == 0
    assert disconnections() == debtors


def test_loops_racing_for_the_day_run_it_once(app, debtors):
    barrier, results = threading.Barrier(4), []

    def loop():
        with app.app_context():
            barrier.wait()
            results.append(scheduler.run_daily_jobs(at(DAY, 9)))

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert disconnections() == debtors  # one request per debtor, not four


def test_a_failed_run_is_recorded_rolled_back_and_tried_the_next_day(app, debtors, monkeypatch):
    real = scheduler.DAILY_JOBS["disconnection_rule"]

    def half_then_fail():
        real()  # the requests start…
        raise RuntimeError("ledger unreachable")  # …and the run dies before its commit

    monkeypatch.setitem(scheduler.DAILY_JOBS, "disconnection_rule", half_then_fail)
    assert scheduler.run_daily_jobs(at(DAY, 8)) == {"disconnection_rule": {"error": "ledger unreachable"}}
    assert disconnections() == []  # nothing half-done
    [run] = schedule.last_runs(db.session)
    assert run.last_day == DAY and run.error == "RuntimeError: ledger unreachable"
    assert scheduler.run_daily_jobs(at(DAY, 20)) == {}  # not every five seconds all day
    monkeypatch.setitem(scheduler.DAILY_JOBS, "disconnection_rule", real)
    assert scheduler.run_daily_jobs(at(DAY + timedelta(days=1), 6))["disconnection_rule"]["started"] == 2
    assert disconnections() == debtors and schedule.last_runs(db.session)[0].error == ""


def test_the_queues_page_shows_the_last_run(debtors, client):
    from tests.helpers import login

    scheduler.run_daily_jobs(at(DAY, 6))
    login(client, "admin")
    page = client.get("/admin/queues").get_data(as_text=True)
    assert "قاعده قطع انشعاب" in page and "۰۶:۰۰" in page and "۲ درخواست آغاز شد" in page


def test_the_rule_can_be_switched_off_and_its_hour_is_checked(debtors, app):
    app.config["MADAM_DISCONNECTION_RULE_HOUR"] = None
    assert scheduler.run_daily_jobs(at(DAY, 23)) == {} and disconnections() == []
    assert db.session.scalar(select(func.count()).select_from(schedule.ScheduledRun)) == 0
    assert load_settings({"MADAM_DISCONNECTION_RULE_HOUR": "off"})["MADAM_DISCONNECTION_RULE_HOUR"] is None
    assert load_settings({})["MADAM_DISCONNECTION_RULE_HOUR"] == 6
    with pytest.raises(SettingsError, match="MADAM_DISCONNECTION_RULE_HOUR"):
        load_settings({"MADAM_DISCONNECTION_RULE_HOUR": "25"})
