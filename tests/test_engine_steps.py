"""How a step is stored: live workflow objects reused only for the exact committed row, and a step that fails
after a service task keeps nothing the operation wrote."""

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from engine import cartable, runtime, state
from engine.models import Instance, OperationRun, WorkItem
from tests.engine_support import audit_count, deploy_test_request, region


def _open_item(session, instance):
    return session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open"))


def _ready(workflow):
    return sorted(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True))


def test_a_step_reuses_the_committed_workflow_only_while_the_row_holds_its_state(session, demo):
    deploy_test_request(session, demo["analyst"])
    shiraz = region(session, "shiraz-1")
    first, second, third = (runtime.start_instance(session, demo["clerk"], "test_request", shiraz) for _ in range(3))
    session.commit()
    at_register = session.scalar(select(Instance.state).where(Instance.id == first.id))

    locked = runtime.lock(session, first.id)
    workflow = state.checkout(locked)  # nothing changed since the commit: it is the row's state
    assert state.dump(workflow) == locked.state and _ready(workflow) == ["register"]
    workflow.get_tasks(state=TaskState.READY, manual=True)[0].data["capacity"] = 99  # changed, then…
    session.rollback()  # …the request failed: the changed object is not served again
    served = state.checkout(runtime.lock(session, first.id))
    assert served is not workflow and state.dump(served) == at_register
    session.rollback()

    for instance in (first, second, third):
        cartable.complete(session, demo["clerk"], _open_item(session, instance).id, {"capacity": 0})
        session.commit()  # each now has a live workflow at "approve" in this process
    # Another process moved `second` on (a new state and lock_version): the row decides, not the cache.
    session.execute(update(Instance).where(Instance.id == second.id).values(
        state=at_register, lock_version=Instance.lock_version + 1))
    # A row whose bytes changed under the same lock_version (say, restored from a backup): the row decides.
    session.execute(update(Instance).where(Instance.id == third.id).values(state=at_register))
    session.commit()
    for instance in (second, third):
        served = state.checkout(runtime.lock(session, instance.id))
        assert state.dump(served) == at_register and _ready(served) == ["register"]
    unchanged = runtime.lock(session, first.id)
    assert _ready(state.checkout(unchanged)) == ["approve"]


def test_a_script_failing_after_a_service_task_keeps_nothing_the_operation_wrote(session, demo):
    deploy_test_request(session, demo["analyst"], **{'fee["amount"] &gt; 0': 'fee["missing"] &gt; 0'})
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    item = _open_item(session, instance)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 4})
    assert instance.status == "error" and "missing" in instance.error_message
    assert audit_count(session, "test.fee_computed") == 0  # the fee operation ran, then its write was undone
    assert session.scalar(select(OperationRun.id).where(OperationRun.instance_id == instance.id)) is None
    assert item.status == "completed"  # the expert's work is kept
    stored = state.load(instance.version, instance.state)
    assert [t.task_spec.bpmn_id for t in stored.get_tasks(state=TaskState.READY)] == ["compute_fee"]
