"""Requests in flight for the demo, so that `make run` shows living cartables. Loading twice adds nothing."""

from sqlalchemy import func, select

from core.accounts import User
from core.regions import Region
from engine import cartable, runtime
from engine.catalogue import sync_directory
from engine.models import Instance, WorkItem, WorkItemStatus
from madam.settings import REPO_ROOT

INSPECTION_REQUEST = {"subscription_no": "10452318", "reason": "high_consumption", "mobile": "09171234567",
                      "description": "مشترک از قبض دو ماه اخیر شکایت دارد"}
INSPECTION_VISIT = {"visit_date": "2026-11-20", "reading": 48213, "seal_intact": False, "result": "faulty",
                    "visit_notes": "شیشه کنتور شکسته و شمارنده گیر می‌کند"}


def _user(session, username):
    return session.scalar(select(User).where(User.username == username))


def _open_item(session, instance):
    return session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                 WorkItem.status == WorkItemStatus.OPEN))


def load_demo_requests(session) -> int:
    """Deploy the built-in procedures and, the first time, leave three inspection requests at three steps."""
    sync_directory(session, None, REPO_ROOT / "processes", REPO_ROOT / "forms")
    if session.scalar(select(func.count(Instance.id)).where(Instance.process_key == "meter_inspection")):
        return 0
    clerk, inspector = _user(session, "clerk"), _user(session, "inspector")
    region = session.scalar(select(Region).where(Region.code == "shiraz-1"))
    started = [runtime.start_instance(session, clerk, "meter_inspection", region) for _ in range(3)]
    for instance in started[1:]:  # the second waits for the inspector, the third for the engineer
        cartable.complete(session, clerk, _open_item(session, instance).id, INSPECTION_REQUEST)
    cartable.complete(session, inspector, _open_item(session, started[2]).id, INSPECTION_VISIT)
    return len(started)
