"""Two experts on one task, and a process killed mid-step: real connections, real commits, a real kill."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core.accounts import User
from core.db import db
from core.errors import Conflict
from engine import cartable, runtime
from engine.models import Instance, InstanceEvent, WorkItem
from madam.demo import load_demo
from tests.conftest import TEST_DB_URL
from tests.engine_support import audit_count, deploy_test_request, region

SLOW = {'id="test.compute_fee"': 'id="test.slow"',
        'parameter id="capacity" type="int" value="capacity"': 'parameter id="seconds" type="int" value="delay"',
        '<spiffworkflow:parameter id="rate" type="int" value="25000" />': "",
        'fee["amount"] &gt; 0': 'fee["slept"] &gt; 0'}


@pytest.fixture
def case(app, clean_db):
    """A committed instance waiting at its first user task, on the diagram whose service task sleeps."""
    with app.app_context():
        load_demo(db.session)
        deploy_test_request(db.session, None, **SLOW)
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        instance = runtime.start_instance(db.session, clerk, "test_request", region(db.session, "shiraz-1"))
        item = db.session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
        db.session.commit()
        ids = {"instance": instance.id, "item": item.id, "clerk": clerk.id}
        db.session.remove()
    return ids


def _complete_in_thread(app, case, delay, outcomes, start):
    with app.app_context():
        clerk = db.session.get(User, case["clerk"])
        start.wait()
        try:
            cartable.complete(db.session, clerk, case["item"], {"delay": delay})
            db.session.commit()
            outcomes.append("ok")
        except Conflict as conflict:
            db.session.rollback()
            outcomes.append(conflict.code)
        finally:
            db.session.remove()


def test_two_concurrent_completions_one_wins_the_other_gets_a_conflict(app, case):
    outcomes, start = [], threading.Event()
    first = threading.Thread(target=_complete_in_thread, args=(app, case, 1, outcomes, start))
    second = threading.Thread(target=_complete_in_thread, args=(app, case, 1, outcomes, start))
    first.start()
    start.set()
    time.sleep(0.3)  # the first holds the instance's lock inside its 1 s service task
    second.start()
    begun = time.monotonic()
    second.join(30)
    first.join(30)
    assert sorted(outcomes) == ["ok", "work_item.done"]
    assert time.monotonic() - begun > 0.4  # the second really waited for the first's lock
    with app.app_context():
        completions = db.session.scalars(select(InstanceEvent).where(InstanceEvent.action == "completed")).all()
        assert len(completions) == 1
        assert audit_count(db.session, "test.slow_started") == 1  # the step ran once
        assert db.session.get(Instance, case["instance"]).status == "waiting"
        db.session.remove()


CRASHING_STEP = textwrap.dedent("""
    import sys
    from core.accounts import User
    from core.db import db
    from engine import cartable
    from madam.app import create_app

    app = create_app()
    with app.app_context():
        clerk = db.session.get(User, int(sys.argv[1]))
        print("ready", flush=True)
        cartable.complete(db.session, clerk, int(sys.argv[2]), {"delay": 60})
        db.session.commit()
        print("committed", flush=True)
""")


def test_a_process_killed_mid_step_leaves_the_last_committed_state_and_the_case_continues(app, case, tmp_path):
    env = {**os.environ, "MADAM_DATABASE_URL": TEST_DB_URL, "MADAM_DATA_DIR": str(tmp_path),
           "MADAM_OPERATION_MODULES": "tests.engine_support", "PYTHONPATH": str(Path(__file__).parent.parent)}
    with app.app_context():
        before = db.session.get(Instance, case["instance"])
        state_before, lock_before = before.state, before.lock_version
        db.session.remove()
    worker = subprocess.Popen([sys.executable, "-c", CRASHING_STEP, str(case["clerk"]), str(case["item"])],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # inside the 60 s service task, holding the lock, nothing committed
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    with app.app_context():
        instance = db.session.get(Instance, case["instance"])
        item = db.session.get(WorkItem, case["item"])
        assert (instance.state, instance.lock_version, instance.status) == (state_before, lock_before, "running")
        assert item.status == "open" and audit_count(db.session, "test.slow_started") == 0
        clerk = db.session.get(User, case["clerk"])
        cartable.complete(db.session, clerk, case["item"], {"delay": 0})  # continues from there
        db.session.commit()
        open_items = db.session.scalars(select(WorkItem.task_name).where(WorkItem.status == "open")).all()
        assert open_items == ["approve"] and audit_count(db.session, "test.slow_started") == 1
        db.session.remove()
