"""Timers fire without any worker or Redis: the embedded server's timer loop, committing for real."""

import time

from sqlalchemy import select

from core.accounts import User
from core.db import db
from engine import cartable, runtime
from engine.models import Timer, WorkItem
from madam.demo import load_demo
from madam.scheduler import start_timer_loop
from tests.engine_support import deploy_test_request, region


def test_the_timer_loop_fires_a_due_boundary_timer_and_escalates(app, clean_db):
    with app.app_context():
        load_demo(db.session)
        deploy_test_request(db.session, None, **{'"PT2H"': '"PT1S"'})
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        instance = runtime.start_instance(db.session, clerk, "test_request", region(db.session, "shiraz-1"))
        item = db.session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
        cartable.complete(db.session, clerk, item.id, {"capacity": 0})
        db.session.commit()
        db.session.remove()
    stop = start_timer_loop(app, interval=0.2)
    try:
        deadline = time.monotonic() + 15
        escalated = None
        while time.monotonic() < deadline and escalated is None:
            time.sleep(0.2)
            with app.app_context():
                escalated = db.session.scalar(select(WorkItem).where(WorkItem.role_code == "admin",
                                                                     WorkItem.status == "open"))
                db.session.remove()
    finally:
        stop.set()
    assert escalated is not None and escalated.task_name == "approve"
    with app.app_context():
        timer = db.session.scalar(select(Timer).where(Timer.task_name == "approve_late"))
        assert timer.status == "fired" and (timer.fired_at - timer.due_at).total_seconds() < 5
        db.session.remove()
