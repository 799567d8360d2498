"""Deploy-time validation of a BPMN diagram: every problem an analyst can fix, as data, never a traceback.

`validate_bpmn` runs in stages — well-formed XML, the BPMN schema, SpiffWorkflow's own parser, then our
rules for each task (lanes name roles, forms exist, operations are registered, scripts and timers are
valid) — and stops after a stage whose failure would make the next one meaningless.

Messages are English msgids translated into the user's language (Persian by default, also for the CLI); outside
a Flask app they stay English. Texts quoted from SpiffWorkflow or the evaluator are the libraries' own.
"""

import datetime
import re
import threading
from dataclasses import dataclass

from flask import has_app_context
from flask_babel import gettext
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
    "Non-default exclusive outgoing sequence flow": lambda: _("give the flow a condition or make it the gateway's "
                                                              "default"),
    "Multiple outgoing flows are not supported": lambda: _("only a gateway may split the flow, so add one"),
    "No start event found": lambda: _("add a start event"),
    "A Service Task must have an operator": lambda: _("name an operation with spiffworkflow:serviceTaskOperator"),
    "Unsupported Catch Event": lambda: _("give the boundary event a timer, message, signal or error definition"),
}


def _(msgid: str, **params) -> str:
    """The message in the user's language: English msgid, Persian in the catalogue (domain `modeler`)."""
    if has_app_context():
        return gettext(msgid, **params)
    return msgid % params if params else msgid


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
        raise ValueError(_("%(text)s is not an ISO 8601 duration like PT4H, P2D or P1DT2H30M", text=repr(text)))
    parts = match.groupdict()
    if parts["years"] or parts["months"]:
        raise ValueError(_("%(text)s counts years or months, which have no fixed length; write days, e.g. P30D",
                           text=repr(text)))
    try:
        return datetime.timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            seconds=float((parts["seconds"] or "0").replace(",", ".")),
        )
    except OverflowError:
        raise ValueError(_("%(text)s is too long a duration", text=repr(text))) from None


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
        errors.append(_error("file", _("unexpected error while reading the diagram: %(error)s",
                                       error=f"{type(exc).__name__}: {exc}")))
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
        errors.append(_error("file", _("the file is empty; export the diagram from the modeler again")))
        return None
    # A diagram is untrusted: no external entities, no DTD, no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(bytes(content), parser)
    except etree.XMLSyntaxError as exc:
        detail = exc.msg if "line" in (exc.msg or "") else _("%(error)s, line %(line)s", error=exc.msg,
                                                               line=exc.lineno)
        errors.append(_error("file", _("the file is not well-formed XML (%(detail)s); it may be truncated or not a "
                                       "diagram, so export it from the modeler again", detail=detail)))
        return None
    if root.getroottree().docinfo.doctype:
        errors.append(_error("file", _("the file declares a DOCTYPE; BPMN diagrams use no DTD or entities, so "
                                       "remove it")))
        return None
    return root


def _follows_schema(root, errors: list) -> bool:
    if root.tag != f"{{{BPMN_NS}}}definitions":
        qname = etree.QName(root)
        if "DMN" in (qname.namespace or "").upper():
            message = _("the file is a DMN decision file (namespace '%(namespace)s', line %(line)s), not a BPMN 2.0 "
                        "diagram; export the process as BPMN 2.0 XML", namespace=qname.namespace,
                        line=root.sourceline)
        else:
            message = _("the file is a <%(root)s> document (namespace '%(namespace)s', line %(line)s), not a BPMN "
                        "2.0 diagram; export the process as BPMN 2.0 XML", root=qname.localname,
                        namespace=qname.namespace, line=root.sourceline)
        errors.append(_error("file", message))
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
        errors.append(_error("file", _("the diagram does not follow the BPMN schema at line %(line)s: %(error)s.",
                                       line=line, error=message)))
    return False


def _parse(root, filename, nodes: dict, errors: list, processes: list) -> list:
    """SpiffWorkflow's specs of every executable process and its subprocesses."""
    process_nodes = root.xpath("./bpmn:process", namespaces=NSMAP)
    if not process_nodes:
        errors.append(_error("file", _("the file has no process (only a collaboration, or pools without a "
                                       "process); model the procedure's steps inside a pool")))
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
        errors.append(_error("file", _("the file has no executable process; set isExecutable=\"true\" on the "
                                       "process to deploy (%(processes)s)", processes=names)))
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
                errors.append(_error(element, _("'%(element)s' (line %(line)s) refers to the %(kind)s '%(ref)s', "
                                                "which the file does not define; add a bpmn:%(kind)s with that id "
                                                "or pick an existing one", element=element, line=el.sourceline,
                                                kind=kind, ref=ref)))
    # The schema types sourceRef/targetRef as IDREF, but libxml2 does not check that the ids exist.
    for process in root.iterfind(f"{{{BPMN_NS}}}process"):
        ids = {el.get("id") for el in process.iter() if isinstance(el.tag, str)}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            for end in ("sourceRef", "targetRef"):
                if flow.get(end) not in ids:
                    element = flow.get("id") or "file"
                    message = (_("the sequence flow '%(flow)s' (line %(line)s) starts at '%(ref)s', which is not "
                                 "an element of its process; connect it to an existing element", flow=element,
                                 line=flow.sourceline, ref=flow.get(end)) if end == "sourceRef" else
                               _("the sequence flow '%(flow)s' (line %(line)s) leads to '%(ref)s', which is not "
                                 "an element of its process; connect it to an existing element", flow=element,
                                 line=flow.sourceline, ref=flow.get(end)))
                    errors.append(_error(element, message))
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
                return _error(node_id, _("the call activity '%(element)s' (line %(line)s) calls the process "
                                         "'%(process)s', which is not in this file; add that process to the file "
                                         "or use an embedded subprocess", element=node_id, line=node.sourceline,
                                         process=called[1]))
    missing = re.fullmatch(r"KeyError\('(\w+)'\)", text)
    if missing:
        text += " — " + _("an extension inside it lacks the '%(attribute)s' attribute", attribute=missing[1])
    # ValidationException.line_number is always '' for lxml nodes (they have .sourceline), hence the lookup.
    line = getattr(exc, "line_number", None) or (nodes[element].sourceline if element in nodes else None)
    where = _("'%(element)s' (line %(line)s)", element=element, line=line) if line else f"'{element}'"
    known = next(((start, hint) for start, hint in _SPIFF_HINTS.items() if start in text), None)
    if known:  # Spiff may quote the whole XML node: keep its words only
        text = f"{known[0] if len(text) > 200 else text.rstrip('. ')}; {known[1]()}"
    return _error(element, _("SpiffWorkflow cannot build the process at %(where)s: %(error)s.", where=where,
                             error=text.rstrip(". ")))


# --- Rules for each task ------------------------------------------------------------------------------------


def _check_task(ts, nodes: dict, forms, roles, operations) -> list[dict]:
    errors = []
    el = ts.bpmn_id
    for attribute in ("prescript", "postscript"):
        source = getattr(ts, attribute, None)
        if source and source.strip():
            errors += [_error(el, _("the prescript of '%(element)s' cannot run: %(problem)s.", element=el, problem=p)
                              if attribute == "prescript" else
                              _("the postscript of '%(element)s' cannot run: %(problem)s.", element=el, problem=p))
                       for p in _problems(source, "exec")]
    if isinstance(ts, UserTask) or "UserTask" in type(ts).__name__:
        errors += _check_user_task(ts, nodes.get(el), forms, roles)
    if isinstance(ts, ServiceTask):
        errors += _check_service_task(ts, operations)
    if isinstance(ts, ScriptTask):
        if not (ts.script or "").strip():
            errors.append(_error(el, _("the script task '%(element)s' has no script; write its Python code",
                                       element=el)))
        else:
            errors += [_error(el, _("the script of '%(element)s' cannot run: %(problem)s.", element=el, problem=p))
                       for p in _problems(ts.script, "exec")]
    for condition, target in getattr(ts, "cond_task_specs", None) or []:
        text = condition.args[0] if condition is not None and getattr(condition, "args", None) else None
        if text is not None:
            target = str(target).removesuffix(".BoundaryEventSplit")
            errors += [_error(el, _("the condition of gateway '%(element)s' towards '%(target)s' cannot run: "
                                    "%(problem)s.", element=el, target=target, problem=p))
                       for p in _problems(text, "eval")]
    definition = getattr(ts, "event_definition", None)
    for event in [definition, *(getattr(definition, "event_definitions", None) or [])]:
        if isinstance(event, TimerEventDefinition) or "Timer" in type(event).__name__:
            errors += [_error(el, message) for message in _timer_problems(el, event)]
        elif isinstance(event, MessageEventDefinition) and not (event.name or "").strip():
            errors.append(_error(el, _("the message event '%(element)s' names no message; give its bpmn:message "
                                       "a name", element=el)))
    return errors


def _check_user_task(ts, node, forms, roles) -> list[dict]:
    el, errors = ts.bpmn_id, []
    known_roles = ", ".join(sorted(roles)) or _("none")
    if not ts.lane:
        errors.append(_error(el, _("the user task '%(element)s' is not in a lane; put it in the lane of the role "
                                   "that does it (known roles: %(roles)s)", element=el, roles=known_roles)))
    elif ts.lane not in roles:
        errors.append(_error(el, _("the lane '%(lane)s' of task '%(element)s' names no role; known roles: "
                                   "%(roles)s", lane=ts.lane, element=el, roles=known_roles)))
    properties = (getattr(ts, "extensions", None) or {}).get("properties") or {}
    form = properties.get("formKey")
    if not form:
        camunda = node.get(f"{{{CAMUNDA_NS}}}formKey") if node is not None else None
        if camunda:
            message = _("the user task '%(element)s' names no form (its camunda:formKey '%(camunda)s' is not read); "
                        "add a spiffworkflow:property named formKey whose value is a form's key", element=el,
                        camunda=camunda)
        else:
            message = _("the user task '%(element)s' names no form; add a spiffworkflow:property named formKey "
                        "whose value is a form's key", element=el)
        errors.append(_error(el, message))
    elif form not in forms:
        errors.append(_error(el, _("the form '%(form)s' of task '%(element)s' does not exist; known forms: "
                                   "%(forms)s", form=form, element=el, forms=_listing(forms))))
    else:
        errors += [_error(el, _("form '%(form)s': %(problem)s", form=form, problem=problem))
                   for problem in formschema.schema_problems(forms[form])]
    if "sla" in properties:
        try:
            parse_duration(properties["sla"])
        except ValueError as exc:
            errors.append(_error(el, _("the SLA of task '%(element)s' is wrong: %(error)s", element=el,
                                       error=str(exc))))
    return errors


def _check_service_task(ts, operations) -> list[dict]:
    el, errors = ts.bpmn_id, []
    params = ts.operation_params or {}
    spec = operations.get(ts.operation_name)
    if spec is None:
        errors.append(_error(el, _("the service task '%(element)s' calls the unknown operation '%(operation)s'; "
                                   "known operations: %(operations)s", element=el, operation=ts.operation_name,
                                   operations=_listing(operations))))
    else:
        for name in sorted(spec.required - params.keys()):
            errors.append(_error(el, _("the service task '%(element)s' omits the required parameter '%(param)s' of "
                                       "'%(operation)s'; add it with a value", element=el, param=name,
                                       operation=spec.name)))
        for name in sorted(params.keys() - spec.required - spec.optional):
            allowed = _listing(spec.required | spec.optional)
            errors.append(_error(el, _("the service task '%(element)s' passes '%(param)s', which '%(operation)s' "
                                       "does not take; its parameters are: %(allowed)s", element=el, param=name,
                                       operation=spec.name, allowed=allowed)))
    for name, param in sorted(params.items()):
        value = param.get("value") if isinstance(param, dict) else None
        if not (value or "").strip():
            errors.append(_error(el, _("the parameter '%(param)s' of '%(element)s' has no value; write a Python "
                                       "expression", param=name, element=el)))
            continue
        errors += [_error(el, _("the parameter '%(param)s' of '%(element)s' cannot run: %(problem)s.", param=name,
                                element=el, problem=p)) for p in _problems(value, "eval")]
    return errors


_BARE_ISO = re.compile(r"(R\d*/)?P(?=.*\d)[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.+\-Z]+)?", re.IGNORECASE)
_TIMER_KINDS = {  # class -> (what it must give, example)
    DurationTimerEventDefinition: (lambda: _("an ISO 8601 duration"), "PT1H"),
    TimeDateEventDefinition: (lambda: _("an ISO 8601 date and time"), "2025-03-21T09:00:00+03:30"),
    CycleTimerEventDefinition: (lambda: _("an ISO 8601 recurrence"), "R3/PT1H"),
}


def _timer_problems(el, event) -> list[str]:
    what, example = next((v for k, v in _TIMER_KINDS.items() if isinstance(event, k)),
                         (lambda: _("a timer value"), "PT1H"))
    kind = what()
    expression = (getattr(event, "expression", None) or "").strip()
    if not expression:
        return [_("the timer '%(element)s' has no expression; write %(kind)s in quotes, e.g. \"%(example)s\"",
                  element=el, kind=kind, example=example)]
    if _BARE_ISO.fullmatch(expression):
        return [_("the timer expression of '%(element)s' is Python: write \"%(value)s\" with quotes", element=el,
                  value=expression)]
    problems = _problems(expression, "eval")
    if problems:
        return [_("the timer expression of '%(element)s' cannot run: %(problem)s.", element=el, problem=p)
                for p in problems]
    try:
        value = evaluator.evaluate(expression, {})
    except evaluator.ScriptError as exc:
        if exc.code == "runtime" and "NameError" in exc.message:
            return []  # it reads the process's data, so only the running instance can compute it
        return [_("the timer expression of '%(element)s' fails: %(error)s.", element=el, error=exc.message)]
    if not isinstance(value, str):
        return [_("the timer expression of '%(element)s' gives %(value)s, not a text such as \"%(example)s\"",
                  element=el, value=repr(value), example=example)]
    if not _timer_value_ok(event, value.strip()):
        return [_("the timer '%(element)s' gives '%(value)s', which is not %(kind)s like \"%(example)s\"",
                  element=el, value=value, kind=kind, example=example)]
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
        problems[0] += " (" + _("${...} is a Camunda expression; Madam's expressions are Python") + ")"
    return problems


def _listing(names, limit: int = 12) -> str:
    names = sorted(names)
    if not names:
        return _("none")
    shown = ", ".join(names[:limit])
    return _("%(names)s and %(n)s more", names=shown, n=len(names) - limit) if len(names) > limit else shown
