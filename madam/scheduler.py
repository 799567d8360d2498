"""The timer loop: fires due timers every few seconds, in the worker and in the embedded server.

Each timer fires in its own transaction; on PostgreSQL any number of loops may run side by side
(SKIP LOCKED hands each timer to exactly one of them).
"""

import logging
import threading

from core.audit import Origin, set_origin
from core.db import db
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


def start_timer_loop(app, interval: float = 5.0) -> threading.Event:
    """Start the loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop():
        set_origin(Origin("", "timers"))
        while not stop.wait(interval):
            with app.app_context():
                try:
                    fire_due_timers()
                except Exception:
                    log.exception("timer loop pass failed")

    threading.Thread(target=loop, name="madam-timers", daemon=True).start()
    return stop
