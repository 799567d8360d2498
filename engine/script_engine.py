"""SpiffWorkflow's script engine with the restricted evaluator and our operation registry.

Scripts, conditions and service-task parameters written by analysts run in `engine.evaluator`;
service tasks call registered operations inside the current step's transaction.
"""

import contextvars
import json
from datetime import date, datetime

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from sqlalchemy import bindparam, insert, select

from core.db import utcnow
from engine import evaluator
from engine.models import OperationRun
from engine.registry import OPERATIONS, StepContext

_RUNS = OperationRun.__table__
_DONE = select(_RUNS.c.result).where(_RUNS.c.instance_id == bindparam("instance_id"),
                                     _RUNS.c.task_id == bindparam("task_id"),
                                     _RUNS.c.operation == bindparam("operation"))
_RECORD_RUN = insert(_RUNS)

# The step being run: set by the runtime around every engine step, read by service tasks.
current_step: contextvars.ContextVar[dict] = contextvars.ContextVar("madam_current_step")

SCRIPT_TIME_LIMIT = 2.0


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression, context, external_context=None):
        return evaluator.evaluate(expression, {**(external_context or {}), **context},
                                  time_limit=SCRIPT_TIME_LIMIT)

    def execute(self, script, context, external_context=None):
        evaluator.execute(script, context, time_limit=SCRIPT_TIME_LIMIT)
        return True


class OperationFailed(Exception):
    pass


def _refuse_changes(session, name: str) -> None:
    """An operation declared to write nothing (`writes=False`) runs outside any savepoint: ORM changes it left
    in the session are dropped and fail its task. (Statements it ran itself are its author's to answer for.)"""
    changed = (*session.new, *session.dirty, *session.deleted)
    if not changed:
        return
    for obj in changed:
        if obj in session.new or obj in session.deleted:
            session.expunge(obj)
        else:
            session.expire(obj)  # its loaded values come back from the database
    kinds = ", ".join(sorted({type(obj).__name__ for obj in changed}))
    raise OperationFailed(f"{name} is declared to write nothing but changed {kinds}")


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


class MadamScriptEngine(PythonScriptEngine):
    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except evaluator.ScriptError as err:
            raise WorkflowTaskException(f"{err.message} (in: {expression})", task=task, exception=err) from err

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except evaluator.ScriptError as err:
            raise WorkflowTaskException(err.message, task=task, exception=err) from err

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        # SpiffWorkflow 3.2's own call_service raises NameError on any failure; ours names the task.
        try:
            return json.dumps(self._run_operation(task, operation_name, operation_params or {}),
                              default=_json_default)
        except WorkflowTaskException:
            raise
        except Exception as exc:
            raise WorkflowTaskException(f"{operation_name}: {exc}", task=task, exception=exc) from exc

    def _run_operation(self, task, name, params):
        operation = OPERATIONS.get(name)
        if operation is None:
            raise OperationFailed(f"no operation named {name!r} is registered")
        step = current_step.get()
        session, instance = step["session"], step["instance"]
        if step.get("savepoint") is None and operation.writes:
            step["savepoint"] = session.begin_nested()  # what the operations write goes if a later task fails
        elif not operation.writes:
            session.flush()  # whatever is pending is not this operation's doing
        task_id = str(task.id)
        runs = step.get("runs")  # this step's runs, written with its other writes (runtime.StepWrites)
        for run in runs or ():
            if (run["task_id"], run["operation"]) == (task_id, name):
                return run["result"]
        known = step.get("known_runs")  # the instance's runs, when read with its lock
        if known is not None:
            if (task_id, name) in known:
                return known[task_id, name]  # already applied for this task: never twice
        else:
            # On the connection: a Core read needs none of the ORM's execution (the savepoint has just flushed).
            done = session.connection().execute(
                _DONE, {"instance_id": instance.id, "task_id": task_id, "operation": name}).one_or_none()
            if done is not None:
                return done.result  # already applied for this task: never twice
        values = {key: spec["value"] for key, spec in params.items()}
        context = StepContext(session=session, actor=step.get("actor"), instance=instance, task_id=task_id,
                              task_name=task.task_spec.bpmn_id or task.task_spec.name, data=dict(task.data))
        if operation.writes:
            result = operation.func(context, **values)
        else:
            with session.no_autoflush:  # nothing it might add reaches the database before the check below
                result = operation.func(context, **values)
            _refuse_changes(session, name)
        session.flush()  # the operation's own changes: a failure to write them is this task's failure
        # The result as the workflow receives it (call_service's JSON); one that is not JSON fails this task.
        result = json.loads(json.dumps(result, default=_json_default))
        run = {"instance_id": instance.id, "task_id": task_id, "operation": name, "result": result, "at": utcnow()}
        if runs is None:
            session.execute(_RECORD_RUN, run)
        else:
            runs.append(run)  # in the step's savepoint still: a later failure drops it with the operation's writes
        return result
