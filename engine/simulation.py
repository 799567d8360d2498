"""A sandbox run of a draft: SpiffWorkflow steps the diagram in memory, user tasks are completed with sample
form data, service operations are replaced by their declared result shapes (or the analyst's samples), and
every step is logged. Nothing touches the instances, work items or timers of the database: the whole state is
a JSON dict the caller keeps (the draft row's `simulation` column).

The state: {"workflow": the serialized workflow (spec included), "samples": {service task id: result},
"log": [{"element", "message", "kind"}], "error": {"element", "message"} | None, "steps": int}.
"""

import ast
import copy
import inspect
import json
import textwrap

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from core.errors import DomainError
from engine import formschema
from engine.catalogue import SERIALIZER
from engine.registry import OPERATIONS
from engine.script_engine import MadamScriptEngine

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_STEPS = 500  # a loop that never reaches a user task stops here
_PASSED = TaskState.COMPLETED
_REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


class SimulationError(DomainError):
    pass


# --- Result shapes -----------------------------------------------------------------------------------------------


def result_shape(name: str):
    """What a sandboxed operation returns instead of running: the example result it declares
    (`@operation(..., result={...})`); for an operation that declares none, the dict its code returns, with the
    constants it returns and None for computed values (read from its source, never run)."""
    operation = OPERATIONS.get(name)
    if operation is None:
        return {}
    if operation.result is not None:
        return copy.deepcopy(operation.result)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(operation.func)))
    except (OSError, TypeError, SyntaxError):
        return {}
    returns = [node.value for node in ast.walk(tree) if isinstance(node, ast.Return) and node.value is not None]
    for value in reversed(returns):
        if isinstance(value, ast.Dict):
            shape = {}
            for key, item in zip(value.keys, value.values, strict=False):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    shape[key.value] = item.value if isinstance(item, ast.Constant) else None
            return shape
    return {}


def sample_results(bpmn: str) -> dict:
    """{service task id: the sample result} for every service task of a diagram."""
    root = etree.fromstring(bpmn.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    found = {}
    for task in root.iter(f"{{{BPMN}}}serviceTask"):
        operator = task.find(".//{http://spiffworkflow.org/bpmn/schema/1.0/core}serviceTaskOperator")
        if operator is not None and task.get("id"):
            found[task.get("id")] = result_shape(operator.get("id") or "")
    return found


def sample_values(schema: dict) -> dict:
    """Plausible values for a form's fields, as typed in the form (the analyst may change them)."""
    values = {}
    for c in formschema.fields(schema):
        key, kind, rules = c["key"], c["type"], c.get("validate") or {}
        options = formschema.options_of(c)
        if kind in ("number", formschema.RIAL):
            low = rules.get("min")
            values[key] = str(low if isinstance(low, int | float) and not isinstance(low, bool) else 1)
        elif kind == "checkbox":
            values[key] = "on"
        elif kind in ("select", "radio") and options:
            values[key] = options[0][0]
        elif kind == "checklist" and options:
            values[key] = [options[0][0]]
        elif kind in ("textfield", "textarea") and not formschema.validator_of(c):
            values[key] = "نمونه"
    return values


# --- The sandbox -------------------------------------------------------------------------------------------------


class SandboxScriptEngine(MadamScriptEngine):
    """Scripts and conditions run as they would; service tasks return sample results and touch nothing."""

    def __init__(self, samples: dict, log: list):
        super().__init__()
        self.samples, self.log = samples, log

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        element = task.task_spec.bpmn_id
        params = {name: spec.get("value") for name, spec in (operation_params or {}).items()}  # evaluated
        result = self.samples.get(element, result_shape(operation_name))
        self.log.append({"element": element, "kind": "service", "message": json.dumps(
            {"operation": operation_name, "params": params, "result": result}, ensure_ascii=False, default=str)})
        return json.dumps(result, default=str)


def _parse(bpmn: str):
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(etree.fromstring(bpmn.encode(), etree.XMLParser(resolve_entities=False, no_network=True)),
                            filename="draft.bpmn")
        keys = parser.get_process_ids()
        if len(keys) != 1:
            raise SimulationError("simulation.one_process", count=len(keys))
        return parser.get_spec(keys[0]), parser.get_subprocess_specs(keys[0])
    except SimulationError:
        raise
    except Exception as exc:
        raise SimulationError("simulation.invalid", error=str(exc)) from exc


def _engine(state: dict) -> SandboxScriptEngine:
    return SandboxScriptEngine(state.setdefault("samples", {}), state.setdefault("log", []))


def _store(workflow, state: dict) -> dict:
    state["workflow"] = json.loads(json.dumps(SERIALIZER.to_dict(workflow), default=str))
    return state


def _restore(state: dict):
    workflow = SERIALIZER.from_dict(copy.deepcopy(state["workflow"]))  # from_dict consumes the dict
    workflow.script_engine = _engine(state)
    return workflow


def _run(workflow, state: dict) -> None:
    """The engine's own steps (scripts, services, gateways) until only people, timers or messages can move it."""
    state["error"] = None
    before = {task.id for task in workflow.get_tasks(state=_PASSED)}
    try:
        for _ in range(MAX_STEPS):
            workflow.do_engine_steps()
            workflow.refresh_timers()
            if not workflow.get_tasks(state=TaskState.READY, manual=False):
                break
    except SpiffWorkflowException as exc:
        task = getattr(exc, "task", None)
        element = task.task_spec.bpmn_id if task is not None else "file"
        state["error"] = {"element": element or "file", "message": str(exc)}
        state["log"].append({"element": element or "file", "kind": "error", "message": str(exc)})
    for task in workflow.get_tasks(state=_PASSED):
        if task.id not in before and task.task_spec.bpmn_id and not task.task_spec.manual:
            kind = type(task.task_spec).__name__
            state["log"].append({"element": task.task_spec.bpmn_id, "kind": "passed", "message": kind})
    if workflow.is_completed():
        state["log"].append({"element": "file", "kind": "completed", "message": "the process ended"})


def start(bpmn: str, samples: dict | None = None, data: dict | None = None) -> dict:
    """A new sandbox run of the diagram, advanced to its first wait."""
    spec, subprocess_specs = _parse(bpmn)
    state = {"samples": {**sample_results(bpmn), **(samples or {})}, "log": [], "error": None, "steps": 0}
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=_engine(state))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data or {})
    _run(workflow, state)
    return _store(workflow, state)


def _task(workflow, task_id: str):
    from uuid import UUID

    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TypeError):
        task = None
    if task is None:
        raise SimulationError("simulation.task_gone", task_id=task_id)
    return task


def complete(state: dict, forms: dict, task_id: str, form) -> tuple[dict, dict]:
    """Complete a ready user task with the submitted sample form; -> (a new state, {field: [errors]})."""
    state = copy.deepcopy(state)
    workflow = _restore(state)
    task = _task(workflow, task_id)
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise SimulationError("simulation.task_not_ready", task_id=task_id)
    key = (task.task_spec.extensions.get("properties") or {}).get("formKey")
    schema = forms.get(key) if key else None
    data, errors = formschema.validate_submission(schema or {}, form)
    if errors:
        return state, errors
    task.data.update(data)
    task.run()
    state["steps"] = state.get("steps", 0) + 1
    state["log"].append({"element": task.task_spec.bpmn_id, "kind": "user",
                         "message": json.dumps(data, ensure_ascii=False, default=str)})
    _run(workflow, state)
    return _store(workflow, state), {}


def trigger(state: dict, task_id: str, payload: dict | None = None) -> dict:
    """Fire a waiting timer now, or deliver the message a task waits for; -> a new state."""
    state = copy.deepcopy(state)
    workflow = _restore(state)
    task = _task(workflow, task_id)
    definition = getattr(task.task_spec, "event_definition", None)
    kind = type(definition).__name__
    if "Timer" in kind:
        task._set_internal_data(event_fired=True)
        if "Cycle" in kind:
            value = task._get_internal_data("event_value") or {}
            if isinstance(value, dict):
                task._set_internal_data(event_value={**value, "next": "2000-01-01T00:00:00+00:00"})
        workflow.refresh_timers()
    elif "Message" in kind:
        task.data[definition.name] = payload or {}
        workflow.catch(BpmnEvent(definition, payload or {}))
    else:
        raise SimulationError("simulation.not_waiting", task_id=task_id)
    state["log"].append({"element": task.task_spec.bpmn_id, "kind": "event", "message": kind})
    state["steps"] = state.get("steps", 0) + 1
    _run(workflow, state)
    return _store(workflow, state)


# --- What the page shows -----------------------------------------------------------------------------------------


def _flows(bpmn: str) -> dict[tuple[str, str], str]:
    root = etree.fromstring(bpmn.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    return {(f.get("sourceRef"), f.get("targetRef")): f.get("id") for f in root.iter(f"{{{BPMN}}}sequenceFlow")}


def view(state: dict, bpmn: str) -> dict:
    """Ready user tasks, waiting events, the elements passed and the flows taken, the data, the log."""
    workflow = _restore(state)
    flows = _flows(bpmn)
    passed, taken = set(), set()
    for task in workflow.get_tasks(state=_PASSED):
        bpmn_id = task.task_spec.bpmn_id
        if not bpmn_id:
            continue
        passed.add(bpmn_id)
        for child in task.children:
            target = _bpmn_target(child)
            if target and child.state & _REACHED and (bpmn_id, target) in flows:
                taken.add(flows[(bpmn_id, target)])
    ready = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        properties = task.task_spec.extensions.get("properties") or {}
        ready.append({"id": str(task.id), "element": task.task_spec.bpmn_id,
                      "name": task.task_spec.bpmn_name or task.task_spec.bpmn_id, "lane": task.task_spec.lane or "",
                      "form_key": properties.get("formKey"), "data": dict(task.data)})
    waiting = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        kind = type(definition).__name__
        if "Timer" in kind or "Message" in kind:
            waiting.append({"id": str(task.id), "element": task.task_spec.bpmn_id,
                            "name": task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                            "kind": "timer" if "Timer" in kind else "message",
                            "message": getattr(definition, "name", "") if "Message" in kind else ""})
    last = workflow.last_task
    data = dict(workflow.data) or (dict(last.data) if last is not None else {})
    current = [t["element"] for t in ready] + [t["element"] for t in waiting]
    return {"ready": ready, "waiting": waiting, "passed": sorted(passed - set(current)), "taken": sorted(taken),
            "current": current, "completed": workflow.is_completed(), "data": data, "log": state.get("log", []),
            "error": state.get("error"), "samples": state.get("samples", {})}


def _bpmn_target(task):
    """The BPMN element a child task stands for (SpiffWorkflow inserts helper tasks around boundary events)."""
    while task is not None and not task.task_spec.bpmn_id:
        task = task.children[0] if task.children else None
    return task.task_spec.bpmn_id if task is not None else None
