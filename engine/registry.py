"""Service-task operations: named Python functions with declared parameters.

An operation is `def op(ctx, *, param, other=default) -> JSON-like`. Parameters without a default are
required; deploy-time validation rejects a diagram that omits one or names an unknown operation.
It runs inside the transaction of the step that calls it: it flushes, never commits.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StepContext:
    """What an operation may know about the step calling it."""

    session: Any
    actor: Any  # the user whose action moved the instance, or None for the worker
    instance: Any
    task_id: str
    task_name: str
    data: dict = field(default_factory=dict)  # a copy of the task's data


@dataclass(frozen=True)
class Operation:
    name: str
    func: Callable
    required: frozenset[str]
    optional: frozenset[str]
    description: str = ""
    result: dict | None = None  # an example of what it returns, e.g. {"subscriber_id": 1}; simulation uses it
    writes: bool = True  # False: it only computes, so its step needs no savepoint before it (see below)


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, description: str = "", result: dict | None = None, writes: bool = True):
    """Register `func` as the operation `name` (e.g. "registry.create_subscriber"); `result` declares the
    shape of what it returns, as an example value. `writes=False` declares that it writes nothing to the
    database (it computes from its parameters, or only reads): a step opens its savepoint before the first
    operation that may write, so a step whose operations write nothing sends no SAVEPOINT and RELEASE. One
    that leaves ORM changes in the session all the same fails its task."""

    def register(func):
        params = list(inspect.signature(func).parameters.values())[1:]  # the first is ctx
        required = frozenset(p.name for p in params if p.default is inspect.Parameter.empty)
        optional = frozenset(p.name for p in params if p.default is not inspect.Parameter.empty)
        OPERATIONS[name] = Operation(name, func, required, optional, description or (func.__doc__ or "").strip(),
                                     result, writes)
        return func

    return register


def operation_specs():
    """The registry as validation sees it."""
    from engine.validation import OperationSpec

    return {op.name: OperationSpec(op.name, op.required, op.optional) for op in OPERATIONS.values()}
