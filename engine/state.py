"""A workflow's state in and out of the database: JSON of the task tree without the spec, compressed."""

import json
import zlib
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter

from engine.catalogue import SERIALIZER, specs_for
from engine.script_engine import MadamScriptEngine

SCRIPT_ENGINE = MadamScriptEngine()
_REGISTRY = SERIALIZER.registry
# The registry wraps each converter method in a partial; its first argument is the bound method.
_CONVERTER = _REGISTRY.convert_from_dict[_REGISTRY.typenames[BpmnWorkflow]].args[0].__self__


def new_workflow(version) -> BpmnWorkflow:
    spec, subprocess_specs = specs_for(version)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)


def dump(workflow: BpmnWorkflow) -> bytes:
    dct = WorkflowConverter.to_dict(_CONVERTER, workflow)
    dct["subprocesses"] = _CONVERTER.mapping_to_dict(workflow.subprocesses)
    dct["bpmn_events"] = _REGISTRY.convert(workflow.bpmn_events)
    dct["serializer_version"] = SERIALIZER.VERSION
    return zlib.compress(json.dumps(dct, separators=(",", ":"), ensure_ascii=False).encode(), 6)


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
