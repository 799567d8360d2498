"""The sandbox: a draft runs in memory with sample data and sample service results; nothing is written to the
instances, work items or timers of the database."""

import json

from sqlalchemy import func, select

from engine import drafts, simulation
from engine.models import Instance, OperationRun, ProcessDraft, Timer, WorkItem
from engine.registry import OPERATIONS, operation
from tests.engine_support import audit_count, deploy_test_request, read_bpmn, read_forms
from tests.helpers import csrf_token_from, login


def test_a_run_steps_through_user_tasks_gateways_messages_and_timers():
    bpmn, forms = read_bpmn("test_request.bpmn"), read_forms("test_register", "test_approve")
    assert simulation.sample_results(bpmn)["compute_fee"] == {"amount": None}  # the shape the operation returns
    state = simulation.start(bpmn, samples={"compute_fee": {"amount": 75000}})
    view = simulation.view(state, bpmn)
    assert [t["element"] for t in view["ready"]] == ["register"] and view["passed"] == ["start"]
    state, errors = simulation.complete(state, forms, view["ready"][0]["id"], {"capacity": "0"})
    assert "capacity" in errors  # the form's own rules (min 1) apply to sample data
    state, errors = simulation.complete(state, forms, view["ready"][0]["id"], {"capacity": "3"})
    view = simulation.view(json.loads(json.dumps(state)), bpmn)  # the state is plain JSON
    assert errors == {} and view["waiting"][0]["element"] == "wait_fee"
    assert {"compute_fee", "needs_fee"} <= set(view["passed"])
    assert "f_pay" in view["taken"] and "f_free" not in view["taken"]
    service = next(e for e in view["log"] if e["kind"] == "service")
    assert json.loads(service["message"]) == {"operation": "test.compute_fee", "params": {"capacity": 3, "rate": 25000},
                                              "result": {"amount": 75000}}
    state = simulation.trigger(state, view["waiting"][0]["id"], {"paid": True})
    view = simulation.view(state, bpmn)
    assert [t["element"] for t in view["ready"]] == ["approve"] and view["waiting"][0]["kind"] == "timer"
    state = simulation.trigger(state, view["waiting"][0]["id"])  # the SLA timer, fired now
    view = simulation.view(state, bpmn)
    assert {"f_late", "f_escalated"} <= set(view["taken"]) and "escalate" in view["passed"]
    state, _errors = simulation.complete(state, forms, view["ready"][0]["id"], {"approved": "on"})
    view = simulation.view(state, bpmn)
    assert view["completed"] and view["data"]["outcome"] == "approved"


def test_a_failing_step_is_pinned_to_its_element():
    bpmn, forms = read_bpmn("test_request.bpmn"), read_forms("test_register", "test_approve")
    state = simulation.start(bpmn)  # the fee's shape has no amount: the gateway's condition fails
    first = simulation.view(state, bpmn)["ready"][0]["id"]
    state, _errors = simulation.complete(state, forms, first, {"capacity": "3"})
    view = simulation.view(state, bpmn)
    assert view["error"]["element"] == "needs_fee" and "NoneType" in view["error"]["message"]


def test_the_sandbox_pages_write_nothing_but_the_draft(client, session, demo):
    version = deploy_test_request(session, demo["analyst"])
    draft = drafts.from_version(session, demo["analyst"], version.id)
    session.commit()
    counts = [session.scalar(select(func.count()).select_from(m)) for m in (Instance, WorkItem, Timer, OperationRun)]
    fees = audit_count(session, "test.fee_computed")
    login(client, "analyst")
    page = client.get(f"/processes/drafts/{draft.id}/simulate").get_data(as_text=True)
    token = csrf_token_from(page)
    assert "compute_fee" in page  # the sample results, ready to edit
    client.post(f"/processes/drafts/{draft.id}/simulate/start",
                data={"csrf_token": token, "samples": json.dumps({"compute_fee": {"amount": 0}})})
    page = client.get(f"/processes/drafts/{draft.id}/simulate").get_data(as_text=True)
    assert 'data-element="register"' in page and "ثبت درخواست" in page
    session.expire_all()
    task_id = simulation.view(session.get(ProcessDraft, draft.id).simulation, draft.bpmn)["ready"][0]["id"]
    client.post(f"/processes/drafts/{draft.id}/simulate/tasks/{task_id}", data={"csrf_token": token, "capacity": "2"})
    session.expire_all()
    view = simulation.view(session.get(ProcessDraft, draft.id).simulation, draft.bpmn)
    assert [t["element"] for t in view["ready"]] == ["approve"] and "f_free" in view["taken"]  # no fee: free path
    assert [session.scalar(select(func.count()).select_from(m))
            for m in (Instance, WorkItem, Timer, OperationRun)] == counts
    assert audit_count(session, "test.fee_computed") == fees  # the real operation never ran


@operation("test.declared_result", result={"subscriber_id": 42, "status": "active"})
def _declared(ctx, *, name):
    raise AssertionError("the sandbox never runs an operation")


DECLARED = read_bpmn("test_request.bpmn").replace("test.compute_fee", "test.declared_result")


def test_an_operation_s_declared_result_stands_in_for_it_in_the_sandbox():
    assert simulation.result_shape("test.declared_result") == {"subscriber_id": 42, "status": "active"}
    assert simulation.result_shape("cartable.escalate") == OPERATIONS["cartable.escalate"].result  # declared too
    assert simulation.sample_results(DECLARED)["compute_fee"] == {"subscriber_id": 42, "status": "active"}
    forms = read_forms("test_register", "test_approve")
    state = simulation.start(DECLARED)
    state, _errors = simulation.complete(state, forms, simulation.view(state, DECLARED)["ready"][0]["id"],
                                         {"capacity": "3"})
    service = next(e for e in simulation.view(state, DECLARED)["log"] if e["kind"] == "service")
    assert json.loads(service["message"])["result"] == {"subscriber_id": 42, "status": "active"}


def test_the_properties_panel_is_given_each_operation_s_result(client, session, demo):
    draft = drafts.blank(session, demo["analyst"], "declared", "نمونه")
    session.commit()
    login(client, "analyst")
    page = client.get(f"/processes/drafts/{draft.id}").get_data(as_text=True)
    catalogue = json.loads(page.split('id="modeler-catalogue">', 1)[1].split("</script>", 1)[0])
    operations = {op["name"]: op for op in catalogue["operations"]}
    assert operations["test.declared_result"]["result"] == {"subscriber_id": 42, "status": "active"}
    assert operations["test.declared_result"]["declared"] is True
    assert operations["test.compute_fee"] == {**operations["test.compute_fee"], "result": {"amount": None},
                                              "declared": False}


def test_every_built_in_operation_declares_what_it_returns():
    import engine.operations  # noqa: F401  (registers the built-in operations)

    built_in = [op for op in OPERATIONS.values() if op.func.__module__.startswith("engine.operations.")]
    assert built_in and [op.name for op in built_in if not isinstance(op.result, dict)] == []
