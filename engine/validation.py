"""Deploy-time validation of a BPMN diagram: every problem an analyst can fix, as data, never a traceback.

`validate_bpmn` runs in stages — well-formed XML, the BPMN schema, SpiffWorkflow's own parser, then our
rules for each task (lanes name roles, forms exist, operations are registered, scripts and timers are
valid) — and stops after a stage whose failure would make the next one meaningless.
"""

import datetime
import re
import threading
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask, UserTask

from engine import evaluator, formschema

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN_NS}
# The shared validator keeps the error log of its last run only.
_VALIDATOR_LOCK = threading.Lock()
_REFERENCES = {"messageRef": "message", "signalRef": "signal", "errorRef": "error", "escalationRef": "escalation"}
_SPIFF_HINTS = {  # what to do about SpiffWorkflow's most common refusals
    "Non-default exclusive outgoing sequence flow": "give the flow a condition or make it the gateway's default",
    "Multiple outgoing flows are not supported": "only a gateway may split the flow, so add one",
    "No start event found": "add a start event",
    "A Service Task must have an operator": "name an operation with spiffworkflow:serviceTaskOperator",
    "Unsupported Catch Event": "give the boundary event a timer, message, signal or error definition",
}


@dataclass(frozen=True)
class OperationSpec:
    name: str
    required: frozenset[str]  # parameter names that must be given
    optional: frozenset[str] = frozenset()


# --- Durations ----------------------------------------------------------------------------------------------

_DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_duration(text: str) -> datetime.timedelta:
    """An ISO 8601 duration such as "PT4H", "P2D", "P1W" or "P1DT2H30M" as a timedelta; ValueError otherwise.
    Years and months are refused: they have no fixed length."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"{text!r} is not an ISO 8601 duration like PT4H, P2D or P1DT2H30M")
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise ValueError(f"{text!r} counts years or months, which have no fixed length; write days, e.g. P30D")
    try:
        return datetime.timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            seconds=float((parts["seconds"] or "0").replace(",", ".")),
        )
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


# --- The verdict --------------------------------------------------------------------------------------------


def validate_bpmn(
    content: bytes, *, filename: str, forms: dict[str, dict], roles: set[str], operations: dict[str, OperationSpec]
) -> dict:
    """-> {"file": filename, "ok": bool, "errors": [{"element": str, "message": str}], "processes": [ids]}"""
    errors: list[dict] = []
    processes: list[str] = []
    try:
        _validate(content, filename, forms, roles, operations, errors, processes)
    except Exception as exc:
        errors.append(_error("file", f"unexpected error while reading the diagram: {type(exc).__name__}: {exc}"))
    unique = list({(e["element"], e["message"]): e for e in errors}.values())
    return {"file": filename, "ok": not unique, "errors": unique, "processes": processes}


def _error(element, message: str) -> dict:
    return {"element": str(element), "message": message}


def _validate(content, filename, forms, roles, operations, errors: list, processes: list) -> None:
    root = _read_xml(content, errors)
    if root is None or not _follows_schema(root, errors):
        return
    nodes = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    specs = _parse(root, filename, nodes, errors, processes)
    task_specs = {id(ts): ts for spec in specs for ts in spec.task_specs.values() if ts.bpmn_id is not None}
    for task_spec in task_specs.values():
        errors.extend(_check_task(task_spec, nodes, forms, roles, operations))


def _read_xml(content, errors: list):
    if isinstance(content, str):
        content = content.encode()
    if not content or not bytes(content).strip():
        errors.append(_error("file", "the file is empty; export the diagram from the modeler again"))
        return None
    # A diagram is untrusted: no external entities, no DTD, no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(bytes(content), parser)
    except etree.XMLSyntaxError as exc:
        detail = exc.msg if "line" in (exc.msg or "") else f"{exc.msg}, line {exc.lineno}"
        errors.append(_error("file", f"the file is not well-formed XML ({detail}); it may be truncated or "
                                     "not a diagram, so export it from the modeler again"))
        return None
    if root.getroottree().docinfo.doctype:
        errors.append(_error("file", "the file declares a DOCTYPE; BPMN diagrams use no DTD or entities, so "
                                     "remove it"))
        return None
    return root


def _follows_schema(root, errors: list) -> bool:
    if root.tag != f"{{{BPMN_NS}}}definitions":
        qname = etree.QName(root)
        kind = "a DMN decision file" if "DMN" in (qname.namespace or "").upper() else f"a <{qname.localname}> document"
        errors.append(_error("file", f"the file is {kind} (namespace '{qname.namespace}', line {root.sourceline}), "
                                     "not a BPMN 2.0 diagram; export the process as BPMN 2.0 XML"))
        return False
    with _VALIDATOR_LOCK:
        try:
            VALIDATOR.validate(root)
            return True
        except ValidationException as exc:
            log = [(entry.line, entry.message) for entry in VALIDATOR.validator.error_log]
            log = log or [(exc.line_number, exc.args[0] if exc.args else str(exc))]
    for line, message in log:
        message = str(message).replace(f"{{{BPMN_NS}}}", "bpmn:").rstrip(".")
        errors.append(_error("file", f"the diagram does not follow the BPMN schema at line {line}: {message}."))
    return False


def _parse(root, filename, nodes: dict, errors: list, processes: list) -> list:
    """SpiffWorkflow's specs of every executable process and its subprocesses."""
    process_nodes = root.xpath("./bpmn:process", namespaces=NSMAP)
    if not process_nodes:
        errors.append(_error("file", "the file has no process (only a collaboration, or pools without a "
                                     "process); model the procedure's steps inside a pool"))
        return []
    if _broken_references(root, errors):
        return []  # SpiffWorkflow's own messages for these are misleading, or a TypeError of its own
    parser = SpiffBpmnParser(validator=None)
    try:
        parser.add_bpmn_xml(root.getroottree(), filename=filename)
    except Exception as exc:
        errors.append(_parser_error(exc, nodes))
        return []
    # Taken before parsing: every embedded subprocess parsed is added to the parser's process ids.
    pids = parser.get_process_ids()
    if not pids:
        names = ", ".join(f"'{node.get('id')}'" for node in process_nodes)
        errors.append(_error("file", f"the file has no executable process; set isExecutable=\"true\" on the "
                                     f"process to deploy ({names})"))
        return []
    processes.extend(pids)
    specs = {}
    for pid in pids:
        try:
            spec = parser.get_spec(pid)
            subprocesses = parser.get_subprocess_specs(pid)
        except Exception as exc:
            # Not reused: after a failure get_spec() returns the half-built spec of that process.
            errors.append(_parser_error(exc, nodes))
            continue
        specs[pid] = spec
        specs.update({name: sub for name, sub in subprocesses.items() if sub is not None})
    return list(specs.values())


def _broken_references(root, errors: list) -> bool:
    """References SpiffWorkflow trips on with a misleading message or a TypeError of its own."""
    before = len(errors)
    known = {kind: {el.get("id") for el in root.iterfind(f".//{{{BPMN_NS}}}{kind}")} for kind in _REFERENCES.values()}
    for el in root.iter(f"{{{BPMN_NS}}}*"):
        for attribute, kind in _REFERENCES.items():
            ref = el.get(attribute)
            if ref and ref not in known[kind]:
                owner = el.getparent() if el.tag.endswith("EventDefinition") else el
                element = owner.get("id") or el.get("id") or "file"
                errors.append(_error(element, f"'{element}' (line {el.sourceline}) refers to the {kind} '{ref}', "
                                              f"which the file does not define; add a bpmn:{kind} with that id "
                                              "or pick an existing one"))
    # The schema types sourceRef/targetRef as IDREF, but libxml2 does not check that the ids exist.
    for process in root.iterfind(f"{{{BPMN_NS}}}process"):
        ids = {el.get("id") for el in process.iter() if isinstance(el.tag, str)}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            for end in ("sourceRef", "targetRef"):
                if flow.get(end) not in ids:
                    element = flow.get("id") or "file"
                    errors.append(_error(element, f"the sequence flow '{element}' (line {flow.sourceline}) "
                                                  f"{'starts at' if end == 'sourceRef' else 'leads to'} "
                                                  f"'{flow.get(end)}', which is not an element of its process; "
                                                  "connect it to an existing element"))
    return len(errors) > before


def _parser_error(exc: Exception, nodes: dict) -> dict:
    element = (getattr(exc, "id", None) if isinstance(exc, ValidationException) else None) or "file"
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    if not isinstance(exc, ValidationException):
        text = f"{type(exc).__name__}: {text}"
    called = re.match(r"The process '(.*)' was not found", text)
    if called:  # get_subprocess_specs() names neither the call activity nor its line
        for node_id, node in nodes.items():
            if node.tag == f"{{{BPMN_NS}}}callActivity" and node.get("calledElement") == called[1]:
                return _error(node_id, f"the call activity '{node_id}' (line {node.sourceline}) calls the process "
                                       f"'{called[1]}', which is not in this file; add that process to the file "
                                       "or use an embedded subprocess")
    missing = re.fullmatch(r"KeyError\('(\w+)'\)", text)
    if missing:
        text += f" — an extension inside it lacks the '{missing[1]}' attribute"
    # ValidationException.line_number is always '' for lxml nodes (they have .sourceline), hence the lookup.
    line = getattr(exc, "line_number", None) or (nodes[element].sourceline if element in nodes else None)
    where = f"'{element}' (line {line})" if line else f"'{element}'"
    known = next(((start, hint) for start, hint in _SPIFF_HINTS.items() if start in text), None)
    if known:  # Spiff may quote the whole XML node: keep its words only
        text = f"{known[0] if len(text) > 200 else text.rstrip('. ')}; {known[1]}"
    return _error(element, f"SpiffWorkflow cannot build the process at {where}: {text.rstrip('. ')}.")


# --- Rules for each task ------------------------------------------------------------------------------------


def _check_task(ts, nodes: dict, forms, roles, operations) -> list[dict]:
    errors = []
    el = ts.bpmn_id
    for attribute in ("prescript", "postscript"):
        source = getattr(ts, attribute, None)
        if source and source.strip():
            errors += [_error(el, f"the {attribute} of '{el}' cannot run: {p}.") for p in _problems(source, "exec")]
    if isinstance(ts, UserTask) or "UserTask" in type(ts).__name__:
        errors += _check_user_task(ts, nodes.get(el), forms, roles)
    if isinstance(ts, ServiceTask):
        errors += _check_service_task(ts, operations)
    if isinstance(ts, ScriptTask):
        if not (ts.script or "").strip():
            errors.append(_error(el, f"the script task '{el}' has no script; write its Python code"))
        else:
            errors += [_error(el, f"the script of '{el}' cannot run: {p}.") for p in _problems(ts.script, "exec")]
    for condition, target in getattr(ts, "cond_task_specs", None) or []:
        text = condition.args[0] if condition is not None and getattr(condition, "args", None) else None
        if text is not None:
            target = str(target).removesuffix(".BoundaryEventSplit")
            errors += [_error(el, f"the condition of gateway '{el}' towards '{target}' cannot run: {p}.")
                       for p in _problems(text, "eval")]
    definition = getattr(ts, "event_definition", None)
    for event in [definition, *(getattr(definition, "event_definitions", None) or [])]:
        if isinstance(event, TimerEventDefinition) or "Timer" in type(event).__name__:
            errors += [_error(el, message) for message in _timer_problems(el, event)]
        elif isinstance(event, MessageEventDefinition) and not (event.name or "").strip():
            errors.append(_error(el, f"the message event '{el}' names no message; give its bpmn:message a name"))
    return errors


def _check_user_task(ts, node, forms, roles) -> list[dict]:
    el, errors = ts.bpmn_id, []
    known_roles = ", ".join(sorted(roles)) or "none"
    if not ts.lane:
        errors.append(_error(el, f"the user task '{el}' is not in a lane; put it in the lane of the role that "
                                 f"does it (known roles: {known_roles})"))
    elif ts.lane not in roles:
        errors.append(_error(el, f"the lane '{ts.lane}' of task '{el}' names no role; known roles: {known_roles}"))
    properties = (getattr(ts, "extensions", None) or {}).get("properties") or {}
    form = properties.get("formKey")
    if not form:
        camunda = node.get(f"{{{CAMUNDA_NS}}}formKey") if node is not None else None
        hint = f" (its camunda:formKey '{camunda}' is not read)" if camunda else ""
        errors.append(_error(el, f"the user task '{el}' names no form{hint}; add a spiffworkflow:property "
                                 "named formKey whose value is a form's key"))
    elif form not in forms:
        errors.append(_error(el, f"the form '{form}' of task '{el}' does not exist; known forms: "
                                 f"{_listing(forms)}"))
    else:
        errors += [_error(el, f"form '{form}': {problem}") for problem in formschema.schema_problems(forms[form])]
    if "sla" in properties:
        try:
            parse_duration(properties["sla"])
        except ValueError as exc:
            errors.append(_error(el, f"the SLA of task '{el}' is wrong: {exc}"))
    return errors


def _check_service_task(ts, operations) -> list[dict]:
    el, errors = ts.bpmn_id, []
    params = ts.operation_params or {}
    spec = operations.get(ts.operation_name)
    if spec is None:
        errors.append(_error(el, f"the service task '{el}' calls the unknown operation '{ts.operation_name}'; "
                                 f"known operations: {_listing(operations)}"))
    else:
        for name in sorted(spec.required - params.keys()):
            errors.append(_error(el, f"the service task '{el}' omits the required parameter '{name}' of "
                                     f"'{spec.name}'; add it with a value"))
        for name in sorted(params.keys() - spec.required - spec.optional):
            allowed = _listing(spec.required | spec.optional)
            errors.append(_error(el, f"the service task '{el}' passes '{name}', which '{spec.name}' does not "
                                     f"take; its parameters are: {allowed}"))
    for name, param in sorted(params.items()):
        value = param.get("value") if isinstance(param, dict) else None
        if not (value or "").strip():
            errors.append(_error(el, f"the parameter '{name}' of '{el}' has no value; write a Python expression"))
            continue
        errors += [_error(el, f"the parameter '{name}' of '{el}' cannot run: {p}.") for p in _problems(value, "eval")]
    return errors


_BARE_ISO = re.compile(r"(R\d*/)?P(?=.*\d)[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.+\-Z]+)?", re.IGNORECASE)
_TIMER_KINDS = {  # class -> (what it must give, example)
    DurationTimerEventDefinition: ("an ISO 8601 duration", "PT1H"),
    TimeDateEventDefinition: ("an ISO 8601 date and time", "2025-03-21T09:00:00+03:30"),
    CycleTimerEventDefinition: ("an ISO 8601 recurrence", "R3/PT1H"),
}


def _timer_problems(el, event) -> list[str]:
    kind, example = next((v for k, v in _TIMER_KINDS.items() if isinstance(event, k)), ("a timer value", "PT1H"))
    expression = (getattr(event, "expression", None) or "").strip()
    if not expression:
        return [f"the timer '{el}' has no expression; write {kind} in quotes, e.g. \"{example}\""]
    if _BARE_ISO.fullmatch(expression):
        return [f"the timer expression of '{el}' is Python: write \"{expression}\" with quotes"]
    problems = _problems(expression, "eval")
    if problems:
        return [f"the timer expression of '{el}' cannot run: {p}." for p in problems]
    try:
        value = evaluator.evaluate(expression, {})
    except evaluator.ScriptError as exc:
        if exc.code == "runtime" and "NameError" in exc.message:
            return []  # it reads the process's data, so only the running instance can compute it
        return [f"the timer expression of '{el}' fails: {exc.message}."]
    if not isinstance(value, str):
        return [f"the timer expression of '{el}' gives {value!r}, not a text such as \"{example}\""]
    if not _timer_value_ok(event, value.strip()):
        return [f"the timer '{el}' gives '{value}', which is not {kind} like \"{example}\""]
    return []


def _timer_value_ok(event, value: str) -> bool:
    try:
        if isinstance(event, DurationTimerEventDefinition):
            return value[:1].upper() == "P" and bool(TimerEventDefinition.parse_iso_duration(value))
        if isinstance(event, TimeDateEventDefinition):
            # parse_time_or_duration also accepts a duration, which would fail when the timer is checked.
            return isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime.datetime)
        if isinstance(event, CycleTimerEventDefinition):
            return value[:1].upper() == "R" and bool(TimerEventDefinition.parse_iso_recurring_interval(value))
    except Exception:
        return False
    return True


def _problems(source: str, mode: str) -> list[str]:
    try:
        problems = [error.message for error in evaluator.check(source, mode)]
    except Exception as exc:
        problems = [f"{type(exc).__name__}: {exc}"]
    problems = [p.rstrip(".") for p in problems]
    if problems and source.lstrip().startswith(("${", "#{")):
        problems[0] += " (${...} is a Camunda expression; Madam's expressions are Python)"
    return problems


def _listing(names, limit: int = 12) -> str:
    names = sorted(names)
    if not names:
        return "none"
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
