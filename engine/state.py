"""A workflow's state in and out of the database: JSON of the task tree without the spec, compressed.

The runtime also keeps a few live workflow objects per process (`checkout`/`checkin`): a step that finds
its instance row, read under the lock, holding exactly the bytes a cached object was dumped to and committed
with, reuses that object instead of deserialising it again."""

import json
import threading
import zlib
from collections import OrderedDict
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.catalogue import SERIALIZER, specs_for
from engine.script_engine import MadamScriptEngine

SCRIPT_ENGINE = MadamScriptEngine()
_REGISTRY = SERIALIZER.registry
# The registry wraps each converter method in a partial; its first argument is the bound method.
_CONVERTER = _REGISTRY.convert_from_dict[_REGISTRY.typenames[BpmnWorkflow]].args[0].__self__
_TASK_TYPENAME = _REGISTRY.typenames[Task]


def new_workflow(version) -> BpmnWorkflow:
    spec, subprocess_specs = specs_for(version)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)


def dump(workflow: BpmnWorkflow) -> bytes:
    """The dict SpiffWorkflow's serializer makes of the workflow (WorkflowConverter.to_dict, without the spec), as
    compressed JSON. Its task tree is converted here as its TaskConverter would (`_task_dict`): the registry's
    generic dispatch for every task and value was most of a dump's time."""
    dct = {
        "data": _REGISTRY.convert(_REGISTRY.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": {str(task_id): _task_dict(task) for task_id, task in workflow.tasks.items()},
        "root": str(workflow.task_tree.id),
        "subprocesses": _CONVERTER.mapping_to_dict(workflow.subprocesses),
        "bpmn_events": _REGISTRY.convert(workflow.bpmn_events),
        "serializer_version": SERIALIZER.VERSION,
    }
    return zlib.compress(json.dumps(dct, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def _task_dict(task) -> dict:
    """What the registry makes of a task (SpiffWorkflow's TaskConverter.to_dict with its typename): a task with a
    parent keeps only what its data changed from the parent's."""
    if type(task) is not Task:
        return _REGISTRY.convert(task)
    parent = task.workflow.tasks.get(task._parent)
    own = task.data
    if parent is None:
        data, delta = own, {}
    else:
        before = parent.data
        data = {}
        delta = {"updates": {key: value for key, value in own.items() if key not in before or value != before[key]},
                 "deletions": [key for key in before if key not in own]}
    internal = task.internal_data
    return {
        "id": str(task.id),
        "parent": str(task._parent) if parent is not None else None,
        "children": [str(child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task._state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": _REGISTRY.convert(internal) if internal else {},
        "data": data,
        "delta": delta,
        "typename": _TASK_TYPENAME,
    }


def load(version, state: bytes) -> BpmnWorkflow:
    """Rebuild the workflow on its version's cached spec (the spec is never re-parsed per load)."""
    dct = json.loads(zlib.decompress(state))
    spec, subprocess_specs = specs_for(version)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE, deserializing=True)
    workflow.tasks = _CONVERTER.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    _CONVERTER.set_default_attributes(workflow, dct)
    _CONVERTER.subprocesses_from_dict(dct["subprocesses"], workflow)
    workflow.bpmn_events = _REGISTRY.restore(dct.get("bpmn_events", []))
    return workflow


def workflow_data(state: bytes) -> dict:
    return json.loads(zlib.decompress(state)).get("data", {})


# --- Live workflows: (instance id) → (version id, lock_version, stored bytes, workflow) -------------------------

LIVE_CACHE_SIZE = 512
_LIVE: OrderedDict[int, tuple[int, int, bytes, BpmnWorkflow]] = OrderedDict()
_LIVE_LOCK = threading.Lock()
_PENDING = "madam_live_workflows"  # session.info key: {instance id: (instance, stored bytes, workflow)}


def checkout(instance) -> BpmnWorkflow:
    """The workflow of `instance`, whose row the caller has just read under its lock. A cached object serves
    only when its version, lock_version and stored bytes are exactly the row's; it leaves the cache (a step
    that fails half-way must not leave a changed object there), and is put back only by a commit."""
    with _LIVE_LOCK:
        entry = _LIVE.pop(instance.id, None)
    if entry is not None:
        version_id, lock_version, stored, workflow = entry
        if (version_id, lock_version) == (instance.version_id, instance.lock_version) and stored == instance.state:
            return workflow
    return load(instance.version, instance.state)


def checkin(session, instance, workflow: BpmnWorkflow, stored: bytes) -> None:
    """`workflow` was dumped to `stored`, now the instance's state: keep it live once the transaction commits."""
    session.info.setdefault(_PENDING, {})[instance.id] = (instance, stored, workflow)


def forget_live() -> None:
    with _LIVE_LOCK:
        _LIVE.clear()


@event.listens_for(Session, "after_commit")
def _keep_committed(session) -> None:
    pending = session.info.get(_PENDING)
    if not pending or session.get_nested_transaction() is not None:
        return  # nothing to keep, or only a savepoint was released: wait for the real commit
    session.info.pop(_PENDING)
    for instance_id, (instance, stored, workflow) in pending.items():
        committed = instance.__dict__  # still loaded here: the session expires it right after this event
        if committed.get("state") is not stored or "lock_version" not in committed:
            continue  # the state changed again after this dump, or a savepoint rollback expired it
        with _LIVE_LOCK:
            _LIVE[instance_id] = (committed["version_id"], committed["lock_version"], stored, workflow)
            _LIVE.move_to_end(instance_id)
            while len(_LIVE) > LIVE_CACHE_SIZE:
                _LIVE.popitem(last=False)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session, transaction) -> None:
    if transaction.parent is None:  # rolled back or closed (a commit has taken what it keeps already)
        session.info.pop(_PENDING, None)
