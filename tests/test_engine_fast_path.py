"""The step path's own statements on PostgreSQL (engine.fastsql, engine.step_sql): the start in one statement,
the lock that reads a work item with its instance and the instance's operation runs, the ORM objects filled
from those rows, and operations declared to write nothing (no savepoint for them)."""

import json
import zlib
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core.accounts import User
from core.db import db
from core.errors import Conflict, DomainError, PermissionDenied
from engine import cartable, fastsql, queries, runtime, state, step_sql
from engine.models import BusinessKeySequence, Instance, OperationRun, WorkItem
from madam.demo import load_demo
from tests.engine_support import audit_count, deploy_test_request, region


def _open_items(session, instance):
    return session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open")
                           .order_by(WorkItem.id)).all()


def test_business_keys_run_on_from_the_years_first_and_an_unknown_process_numbers_nothing(session, demo):
    deploy_test_request(session, demo["analyst"])
    session.execute(BusinessKeySequence.__table__.delete())  # no counter yet this year: the long way creates it
    shiraz = region(session, "shiraz-1")
    first = runtime.start_instance(session, demo["clerk"], "test_request", shiraz, subscriber_id=5)
    second = runtime.start_instance(session, demo["clerk"], "test_request", shiraz, contract_id=6)
    year = first.business_key.split("-")[0]
    assert (first.business_key, second.business_key) == (f"{year}-000001", f"{year}-000002")
    assert (second.status, second.subscriber_id, second.contract_id, second.version.process_key) == (
        "running", None, 6, "test_request")
    assert [item.task_name for item in _open_items(session, second)] == ["register"]
    session.execute(update(BusinessKeySequence).values(last=999999))
    assert runtime.start_instance(session, demo["clerk"], "test_request", shiraz).business_key == f"{year}-1000000"
    with pytest.raises(DomainError) as refused:
        runtime.start_instance(session, demo["clerk"], "no_such_process", shiraz)
    assert refused.value.code == "process.unknown"
    assert session.scalar(select(BusinessKeySequence.last)) == 1000000  # the refused start took no number


def test_an_operation_already_applied_for_its_task_is_not_applied_again(session, demo):
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    workflow = state.load(instance.version, instance.state)
    [fee_task] = [task for task in workflow.get_tasks() if task.task_spec.bpmn_id == "compute_fee"]
    session.add(OperationRun(instance_id=instance.id, task_id=str(fee_task.id), operation="test.compute_fee",
                             result={"amount": 0}))
    session.flush()
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 4})  # would cost 100 000 rials: a payment
    assert audit_count(session, "test.fee_computed") == 0  # not applied again…
    assert [i.task_name for i in _open_items(session, instance)] == ["approve"]  # …its recorded result was used
    assert session.scalar(select(OperationRun.id).where(OperationRun.instance_id == instance.id).offset(1)) is None


def _savepoints_while(session, action) -> int:
    sent = []

    def count(_conn, _cursor, statement, *_args):
        sent.append(statement)

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(bind, "before_cursor_execute", count)
    return sum(statement.startswith("SAVEPOINT") for statement in sent)


@pytest.mark.parametrize(("operation", "savepoints"), [("test.compute_fee", 1), ("test.pure_fee", 0)])
def test_a_step_opens_a_savepoint_only_for_an_operation_that_may_write(session, demo, operation, savepoints):
    deploy_test_request(session, demo["analyst"], **{'id="test.compute_fee"': f'id="{operation}"'})
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    sent = _savepoints_while(session, lambda: cartable.complete(session, demo["clerk"], item.id, {"capacity": 0}))
    assert sent == savepoints
    assert instance.status == "running" and [i.task_name for i in _open_items(session, instance)] == ["approve"]
    assert session.scalar(select(OperationRun.result).where(OperationRun.instance_id == instance.id)) == {"amount": 0}


def test_an_operation_declared_to_write_nothing_that_writes_fails_its_task_and_its_write_is_dropped(session, demo):
    deploy_test_request(session, demo["analyst"], **{'id="test.compute_fee"': 'id="test.pure_but_writes"'})
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    assert (instance.status, instance.error_task) == ("error", "compute_fee")
    assert "declared to write nothing but changed AuditEntry" in instance.error_message
    session.flush()
    assert audit_count(session, "test.undeclared_write") == 0
    assert item.status == "completed"  # the expert's work is kept


def test_a_stale_live_workflow_of_this_process_is_not_used_after_another_connection_moved_the_case(app, clean_db):
    with app.app_context():
        load_demo(db.session)
        deploy_test_request(db.session, None)
        users = {u.username: u for u in db.session.scalars(select(User))}
        instance = runtime.start_instance(db.session, users["clerk"], "test_request", region(db.session, "shiraz-1"))
        [register] = _open_items(db.session, instance)
        db.session.commit()
        cartable.complete(db.session, users["clerk"], register.id, {"capacity": 0})
        db.session.commit()  # this process now keeps the live workflow at "approve"
        [approve] = _open_items(db.session, instance)
        approve_id, engineer_id = approve.id, users["engineer"].id
        version = instance.lock_version
        assert approve.status == "open" and instance.status == "running"
        stale = state._LIVE[instance.id]

        # Another connection (standing for another process) completes "approve"; this process's entry stays.
        other = Session(db.engine)
        try:
            cartable.complete(other, other.get(User, engineer_id), approve_id, {"approved": True})
            other.commit()
        finally:
            other.close()
        state._LIVE[instance.id] = stale

        # The objects this session holds are refreshed from the locked rows, and the row's state is used.
        locked, item, _holds_role, runs = runtime.lock_item_for(db.session, approve_id, engineer_id)
        assert locked is instance and item is approve  # the same objects, with the rows' values
        assert (instance.status, instance.lock_version, approve.status) == ("completed", version + 1, "completed")
        assert set(runs) == {(task_id, name) for task_id, name in db.session.execute(
            select(OperationRun.task_id, OperationRun.operation).where(OperationRun.instance_id == instance.id))}
        served = state.checkout(locked)
        assert served is not stale[3] and served.is_completed()
        assert state.dump(served) == db.session.scalar(select(Instance.state).where(Instance.id == instance.id))
        db.session.rollback()
        with pytest.raises(Conflict) as refused:
            cartable.complete(db.session, db.session.get(User, engineer_id), approve_id, {"approved": False})
        assert refused.value.code == "instance.closed"  # the case was completed by the other connection
        db.session.rollback()
        db.session.remove()


def test_an_action_after_the_server_dropped_the_connections_fails_once_then_the_next_completes(app, clean_db):
    """No ping before a checkout (madam.settings): after a restart of the server, the step's own statement finds
    its connection dead, the pool replaces every connection it held, and the expert's retry completes the task."""
    with app.app_context():
        load_demo(db.session)
        deploy_test_request(db.session, None)
        clerk = db.session.scalar(select(User).where(User.username == "clerk"))
        instance = runtime.start_instance(db.session, clerk, "test_request", region(db.session, "shiraz-1"))
        [register] = _open_items(db.session, instance)
        register_id, clerk_id = register.id, clerk.id
        db.session.commit()
        spare = db.engine.connect()  # a second connection idle in the pool, dropped by the restart too
        spare.close()
        expert = db.session.get(User, clerk_id)  # the request has loaded its user: the step's lock comes next
        with psycopg.connect(app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")  # as a restart would
        with pytest.raises(OperationalError) as raised:
            cartable.complete(db.session, expert, register_id, {"capacity": 0})
        assert raised.value.connection_invalidated
        db.session.rollback()
        cartable.complete(db.session, db.session.get(User, clerk_id), register_id, {"capacity": 0})
        db.session.commit()
        assert db.session.get(WorkItem, register_id).status == "completed"
        db.session.remove()


def _spiff_dump_json(workflow) -> dict:
    """The workflow as SpiffWorkflow's own converter makes it (the registry's generic dispatch for every task)."""
    from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter

    dct = WorkflowConverter.to_dict(state._CONVERTER, workflow)
    dct["subprocesses"] = state._CONVERTER.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = state._REGISTRY.convert(workflow.bpmn_events)
    dct["serializer_version"] = state.SERIALIZER.VERSION
    return json.loads(json.dumps(dct, ensure_ascii=False))


def test_a_dump_holds_what_spiffworkflows_own_converter_makes_of_the_workflow(session, demo):
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"),
                                      data={"applicant": "محمد رضایی", "when": None})
    workflows = [state.load(instance.version, instance.state)]
    [item] = _open_items(session, instance)
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 4, "note": "یادداشت"})
    workflows.append(state.load(instance.version, instance.state))
    # A task's internal data goes through the registry (a datetime becomes its typed dict), its data as a delta.
    task = workflows[-1].get_tasks()[-1]
    task.internal_data["since"] = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
    task.data.pop("applicant", None)
    for workflow in workflows:
        dumped = state.dump(workflow)
        assert json.loads(zlib.decompress(dumped)) == _spiff_dump_json(workflow)
        assert state.dump(state.load(instance.version, dumped)) == dumped  # loads back to the same state


def _lock_reads(monkeypatch) -> list:
    """The work items the step path reads with their lock (step_sql.LOCK_ITEM_FOR_USER), as they are read."""
    reads, execute = [], fastsql.execute

    def counting(session, sql, params=None):
        if sql == step_sql.LOCK_ITEM_FOR_USER:
            reads.append(params["work_item_id"])
        return execute(session, sql, params)

    monkeypatch.setattr(fastsql, "execute", counting)
    return reads


def test_an_item_read_with_its_lock_is_completed_without_reading_it_again(session, demo, monkeypatch):
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    reads = _lock_reads(monkeypatch)
    found, reachable = queries.item_with_reach(session, demo["clerk"], item.id, lock=True)
    assert found is item and found.instance is instance and reachable
    cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    assert reads == [item.id]
    assert item.status == "completed" and [i.task_name for i in _open_items(session, instance)] == ["approve"]
    assert queries.item_with_reach(session, demo["engineer"], item.id, lock=True)[1] is False  # not his role


def test_a_locked_read_is_not_taken_after_a_change_or_by_someone_else(session, demo, monkeypatch):
    deploy_test_request(session, demo["analyst"])
    instance = runtime.start_instance(session, demo["clerk"], "test_request", region(session, "shiraz-1"))
    [item] = _open_items(session, instance)
    reads = _lock_reads(monkeypatch)
    queries.item_with_reach(session, demo["clerk"], item.id, lock=True)
    item.assignee_id = demo["engineer"].id  # referred to the engineer meanwhile, in this same transaction
    session.flush()
    with pytest.raises(PermissionDenied, match=r"^work_item\.not_yours$"):
        cartable.complete(session, demo["clerk"], item.id, {"capacity": 0})
    assert reads == [item.id, item.id]  # read again: the kept row did not show the referral

    item.assignee_id = None
    session.flush()
    queries.item_with_reach(session, demo["clerk"], item.id, lock=True)
    with pytest.raises(PermissionDenied, match=r"^work_item\.not_yours$"):
        cartable.complete(session, demo["engineer"], item.id, {"capacity": 0})  # not the clerk's read
    assert reads == [item.id] * 4 and item.status == "open"
