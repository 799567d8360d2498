"""Helpers the procedure tests share: deploy the built-in procedures, work a request's open task, make its
timers due, read its timeline. (No tests here.)"""

import time

from sqlalchemy import select

from core.db import utcnow
from engine import cartable, timers
from engine.catalogue import deploy, referenced_forms, sync_directory
from engine.models import InstanceEvent, Timer, TimerStatus, WorkItem, WorkItemStatus
from madam.settings import REPO_ROOT
from subscribers import meter_ops
from tests.engine_support import region

PROCESSES, FORMS = REPO_ROOT / "processes", REPO_ROOT / "forms"


def deploy_procedures(session):
    sync_directory(session, None, PROCESSES, FORMS)


def deploy_with_short_timers(session, process_key: str, durations: dict[str, int]):
    """The built-in diagram with the given timer durations ({"P7D": 1, …}) shortened to that many seconds,
    as a newer version, so a test can wait for its timers."""
    import json

    bpmn = (PROCESSES / f"{process_key}.bpmn").read_text(encoding="utf-8")
    for duration, seconds in durations.items():
        bpmn = bpmn.replace(f'"{duration}"</bpmn:timeDuration>', f'"PT{seconds}S"</bpmn:timeDuration>')
    forms = {key: json.loads((FORMS / f"{key}.json").read_text(encoding="utf-8")) for key in referenced_forms(bpmn)}
    version, _created = deploy(session, None, bpmn, forms, source=f"tests/{process_key}_short_timers.bpmn")
    return version


def open_items(session, instance) -> list[WorkItem]:
    return list(session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                       WorkItem.status == WorkItemStatus.OPEN).order_by(WorkItem.id)))


def open_task(session, instance) -> WorkItem:
    [item] = open_items(session, instance)
    return item


def work(session, user, instance, task_name: str, data: dict):
    """The open task `task_name` done by `user` with the form's data (typed values as the form gives them)."""
    item = open_task(session, instance)
    assert item.task_name == task_name, (item.task_name, instance.error_message)
    cartable.claim(session, user, item.id)
    cartable.complete(session, user, item.id, data)
    assert instance.status != "error", instance.error_message
    return instance


def timeline_notes(session, instance) -> list[str]:
    return [e.note for e in session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance.id)
                                            .order_by(InstanceEvent.id)) if e.note]


def fire_due_timers(session, instance, task_name: str) -> None:
    """Wait for the instance's pending timer `task_name` (shortened to a second) and fire it."""
    [timer] = session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.task_name == task_name,
                                                  Timer.status == TimerStatus.PENDING)).all()
    time.sleep(max(0.0, (timer.due_at - utcnow()).total_seconds()) + 0.05)
    assert timers.fire(session, timer.id)


def stock_meters(session, utility: str, region_code: str, serials: list[str]):
    place = region(session, region_code)
    return [meter_ops.register_meter(session, None, {"serial": serial, "utility": utility, "kind": "digital",
                                                     "manufacturer": "کنتورسازی ایران", "manufacture_year": 2024,
                                                     "region_id": place.id}) for serial in serials]
