"""The demo's requests in flight: every procedure has some, in several roles' cartables, none stopped by an
error, and loading again adds nothing."""

from sqlalchemy import func, select

from billing.models import Bill
from engine.models import Instance, WorkItem, WorkItemStatus
from engine.operations.registry_ops import today
from madam.demo import load_demo_billing_activity
from madam.demo_requests import PROCEDURES, load_demo_requests


def test_every_procedure_has_requests_in_flight_in_several_cartables(session, demo):
    load_demo_billing_activity(session)  # as `madam demo load` does: readings first, then the requests
    started = load_demo_requests(session)
    instances = session.scalars(select(Instance)).all()
    assert started == len(instances) >= 2 * len(PROCEDURES)
    assert {i.process_key for i in instances} == {key for key, _ in PROCEDURES}
    assert [i.business_key for i in instances if i.status in ("error", "completed")] == []
    roles = set(session.scalars(select(WorkItem.role_code).where(WorkItem.status == WorkItemStatus.OPEN)))
    assert roles == {"counter_clerk", "inspector", "meter_technician", "engineer", "finance"}
    assert "new_connection" in {i.process_key for i in instances if i.status == "waiting"}  # a fee awaited
    read = [i for i in instances if i.process_key == "ownership_change" and i.contract_id is not None
            and session.scalar(select(Bill.id).where(Bill.contract_id == i.contract_id,
                                                     Bill.period_end == today()))]
    assert len(read) == 1  # one change of owner is past its final reading: its settlement bill issued
    assert load_demo_requests(session) == 0
    assert session.scalar(select(func.count(Instance.id))) == len(instances)
