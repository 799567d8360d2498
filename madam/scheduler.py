"""The timer loop: fires due timers every few seconds, in the worker and in the embedded server, and runs
the daily jobs once their hour (Tehran time) has come.

Each timer fires in its own transaction; on PostgreSQL any number of loops may run side by side
(SKIP LOCKED hands each timer to exactly one of them). A daily job runs in the transaction that claims its
day (core.schedule), so it runs once a day however many loops there are, and a run that died is run again.
"""

import logging
import threading
from datetime import datetime

from flask import current_app

from core import schedule
from core.audit import Origin, set_origin
from core.db import db
from core.jalali import TEHRAN
from engine import timers

log = logging.getLogger(__name__)


def fire_due_timers(limit: int = 100) -> int:
    fired = 0
    for timer_id in timers.due_timer_ids(db.session, limit=limit):
        try:
            if timers.fire(db.session, timer_id):
                fired += 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("timer %s could not fire; it stays pending", timer_id)
    db.session.remove()
    return fired


def start_disconnections() -> dict:
    """The disconnection rule: a request for every contract whose overdue debt (no grace) is above the
    threshold and has none open."""
    from engine.operations.disconnection_rule import start_due_disconnections

    started = start_due_disconnections(db.session, threshold=current_app.config["MADAM_DISCONNECTION_THRESHOLD"])
    return {"started": len(started), "threshold": current_app.config["MADAM_DISCONNECTION_THRESHOLD"]}


DAILY_JOBS = {"disconnection_rule": start_disconnections}  # their hours: core.schedule.DAILY_JOB_HOURS


def run_daily_jobs(now: datetime | None = None) -> dict[str, dict]:
    """Run each daily job whose hour has come and whose day no loop has claimed yet; -> {name: result}."""
    now = (now or datetime.now(TEHRAN)).astimezone(TEHRAN)
    ran = {}
    for name, job in DAILY_JOBS.items():
        hour = current_app.config.get(schedule.DAILY_JOB_HOURS[name])
        if hour is None or now.hour < hour:
            continue
        try:
            if not schedule.claim(db.session, name, now.date()):
                db.session.rollback()
                continue
            result = job()
            schedule.finish(db.session, name, day=now.date(), result=result)
            db.session.commit()
            ran[name] = result
        except Exception as error:
            db.session.rollback()
            log.exception("daily job %s failed; it is tried again tomorrow", name)
            schedule.claim(db.session, name, now.date())
            schedule.finish(db.session, name, day=now.date(), error=f"{type(error).__name__}: {error}")
            db.session.commit()
            ran[name] = {"error": str(error)}
    db.session.remove()
    return ran


def start_timer_loop(app, interval: float = 5.0) -> threading.Event:
    """Start the loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop():
        set_origin(Origin("", "timers"))
        while not stop.wait(interval):
            with app.app_context():
                try:
                    fire_due_timers()
                    run_daily_jobs()
                except Exception:
                    log.exception("timer loop pass failed")

    threading.Thread(target=loop, name="madam-timers", daemon=True).start()
    return stop
