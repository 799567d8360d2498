"""Diagrams from other tools (Camunda Modeler, Camunda 8, Signavio, ARIS, bpmn.io…): normalise what can be
normalised, and say per element what cannot run and why.

`normalise(content, roles=)` returns {"bpmn": the rewritten XML or None, "tool": the exporting tool,
"changes": [...], "problems": [...], "ignored": [...]}, each entry {"element", "message"} in the user's language
(English msgids, Persian in the catalogue; English outside a Flask app). Changes were made; problems keep the
diagram from running as drawn (a draft with problems is not deployed); ignored are extensions Madam does not read
but that do no harm.
`unrunnable(bpmn)` is the problems check alone, for a draft the analyst keeps editing.
"""

import re

from lxml import etree

from engine import evaluator
from engine.layout import with_layout
from engine.validation import _

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent",
              "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
_BARE_ISO = re.compile(r"(R\d*/)?P(?=.*\d)[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.+\-Z]+)?", re.IGNORECASE)
_FORM_PREFIXES = ("embedded:app:forms/", "embedded:app:", "embedded:deployment:", "camunda-forms:deployment:",
                  "camunda-forms:app:forms/", "camunda-forms:app:", "app:", "deployment:")
_OPERATOR = f"{{{BPMN}}}extensionElements/{{{SPIFF}}}serviceTaskOperator"
_FORM_KEY = re.compile(r"[A-Za-z_][\w.\-]*")
_TOOLS = (("camunda", "Camunda Modeler"), ("zeebe", "Camunda 8"), ("signavio", "Signavio"), ("aris", "ARIS"),
          ("bizagi", "Bizagi"), ("bpmn.io", "bpmn.io"), ("visio", "Visio"), ("spiff", "SpiffArena"))


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _entry(element, message: str) -> dict:
    return {"element": str(element or "file"), "message": message}


def _read(content):
    if isinstance(content, str):
        content = content.encode()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    try:
        root = etree.fromstring(bytes(content or b""), parser)
    except etree.XMLSyntaxError as exc:
        return None, _("the file is not well-formed XML (%(error)s); export it from the modeler again", error=exc.msg)
    if root.tag != _q(BPMN, "definitions"):
        return None, _("the file is not a BPMN 2.0 diagram (its root is not bpmn:definitions)")
    return root, None


def tool_of(root) -> str:
    exporter = " ".join(filter(None, [root.get("exporter"), root.get("exporterVersion")]))
    if exporter:
        return exporter
    namespaces = " ".join(str(ns) for ns in root.nsmap.values()).lower()
    return next((name for needle, name in _TOOLS if needle in namespaces), "")


def normalise(content, roles: dict[str, set[str]] | None = None) -> dict:
    """Rewrite what can be rewritten; `roles` maps a role code to the names analysts may have used for it."""
    root, failure = _read(content)
    if root is None:
        return {"bpmn": None, "tool": "", "changes": [], "problems": [_entry("file", failure)], "ignored": []}
    report = {"tool": tool_of(root), "changes": [], "problems": [], "ignored": []}
    changes = report["changes"]
    _executable(root, changes)
    _lanes(root, roles or {}, changes)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        kind = _local(el)
        if el.tag in (_q(BPMN, "timeDuration"), _q(BPMN, "timeDate"), _q(BPMN, "timeCycle")):
            _timer(el, changes)
        elif el.tag == _q(BPMN, "conditionExpression"):
            _condition(el, changes)
        elif el.tag == _q(BPMN, "userTask"):
            _form_key(el, changes)
        elif kind == "serviceTask" and el.tag == _q(BPMN, "serviceTask"):
            _service(el, changes)
    bpmn = etree.tostring(root, encoding="unicode")
    if root.find(_q(BPMNDI, "BPMNDiagram")) is None:
        bpmn = with_layout(bpmn)
        changes.append(_entry("file", _("the diagram had no layout (no BPMNDiagram); one was generated")))
    report["problems"], report["ignored"] = _findings(etree.fromstring(bpmn.encode()))
    return {"bpmn": bpmn, **report}


def unrunnable(bpmn) -> list[dict]:
    """What in a diagram cannot run on Madam, per element (no rewriting)."""
    root, failure = _read(bpmn)
    if root is None:
        return [_entry("file", failure)]
    return _findings(root)[0]


# --- What can be normalised ---------------------------------------------------------------------------------


def _executable(root, changes: list) -> None:
    for process in root.iterfind(_q(BPMN, "process")):
        has_nodes = any(_local(child) in FLOW_NODES for child in process)
        if has_nodes and process.get("isExecutable") != "true":
            was = process.get("isExecutable")
            process.set("isExecutable", "true")
            changes.append(_entry(process.get("id"), _("the process was marked isExecutable=\"%(was)s\"; it is now "
                                                       "executable", was=was) if was else
                                  _("the process was not marked executable; it is now executable")))


def _normal_name(text: str) -> str:
    text = (text or "").replace("ي", "ی").replace("ك", "ک").replace("\u200c", " ")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _lanes(root, roles: dict, changes: list) -> None:
    by_name = {_normal_name(name): code for code, names in roles.items() for name in {code, *names} if name}
    for lane in root.iter(_q(BPMN, "lane")):
        name = lane.get("name") or ""
        if not name or name in roles:
            continue
        code = by_name.get(_normal_name(name))
        if code:
            lane.set("name", code)
            changes.append(_entry(lane.get("id"), _("the lane '%(lane)s' is the role '%(role)s'; it is now named by "
                                                    "the role's code", lane=name, role=code)))


def _timer(el, changes: list) -> None:
    text = (el.text or "").strip()
    if _BARE_ISO.fullmatch(text):
        el.text = f'"{text}"'
        owner = el.getparent().getparent() if el.getparent() is not None else None
        element = owner.get("id") if owner is not None else None
        changes.append(_entry(element, _("the timer value %(value)s is now quoted (\"%(value)s\"): Madam reads timer "
                                         "values as Python expressions", value=text)))


_JUEL = ((re.compile(r"&&"), " and "), (re.compile(r"\|\|"), " or "), (re.compile(r"!(?!=)"), " not "),
         (re.compile(r"\bnull\b"), "None"), (re.compile(r"\btrue\b"), "True"), (re.compile(r"\bfalse\b"), "False"),
         (re.compile(r"\beq\b"), "=="), (re.compile(r"\bne\b"), "!="), (re.compile(r"\bgt\b"), ">"),
         (re.compile(r"\blt\b"), "<"), (re.compile(r"\bge\b"), ">="), (re.compile(r"\ble\b"), "<="),
         (re.compile(r"\band\b"), "and"), (re.compile(r"\bor\b"), "or"))


def _condition(el, changes: list) -> None:
    text = (el.text or "").strip()
    match = re.fullmatch(r"[$#]\{(.*)\}", text, re.DOTALL) or re.fullmatch(r"=(.*)", text, re.DOTALL)
    language = (el.get("language") or "").lower()
    if not match or (language and language not in ("juel", "feel", "python")):
        return
    python = match[1].strip()
    for pattern, replacement in _JUEL:
        python = pattern.sub(replacement, python)
    python = re.sub(r"\s+", " ", python).strip()
    try:
        problems = evaluator.check(python, "eval")
    except Exception:
        return
    if problems:
        return  # left as it is: the findings and the validator name it
    el.text = python
    for attribute in ("language",):
        el.attrib.pop(attribute, None)
    flow = el.getparent()
    changes.append(_entry(flow.get("id") if flow is not None else None,
                          _("the condition %(condition)s is now the Python expression %(python)s", condition=text,
                            python=python)))


def _spiff_properties(el):
    extensions = el.find(_q(BPMN, "extensionElements"))
    if extensions is None:
        extensions = etree.Element(_q(BPMN, "extensionElements"))
        el.insert(_first_non_documentation(el), extensions)
    properties = extensions.find(_q(SPIFF, "properties"))
    if properties is None:
        properties = etree.SubElement(extensions, _q(SPIFF, "properties"), nsmap={"spiffworkflow": SPIFF})
    return properties


def _first_non_documentation(el) -> int:
    return sum(1 for child in el if child.tag == _q(BPMN, "documentation"))


def _foreign_form_key(el) -> str | None:
    key = el.get(_q(CAMUNDA, "formKey")) or el.get(_q(CAMUNDA, "formRef"))
    zeebe = el.find(f"{_q(BPMN, 'extensionElements')}/{_q(ZEEBE, 'formDefinition')}")
    if not key and zeebe is not None:
        key = zeebe.get("formId") or zeebe.get("formKey")
    if not key:
        return None
    for prefix in _FORM_PREFIXES:
        key = key.removeprefix(prefix)
    key = re.sub(r"\.(html|form|json)$", "", key.rsplit("/", 1)[-1])
    return key if _FORM_KEY.fullmatch(key) else None


def _form_key(el, changes: list) -> None:
    properties = el.find(f"{_q(BPMN, 'extensionElements')}/{_q(SPIFF, 'properties')}")
    if properties is not None and any(p.get("name") == "formKey" for p in properties):
        return
    key = _foreign_form_key(el)
    if key is None:
        return
    etree.SubElement(_spiff_properties(el), _q(SPIFF, "property"), name="formKey", value=key)
    changes.append(_entry(el.get("id"), _("the form '%(form)s' of the other tool is now the task's formKey", form=key)))


def _service(el, changes: list) -> None:
    """A Camunda 8 task type or a Camunda 7 external topic that names a registered operation becomes our operator."""
    from engine.registry import OPERATIONS

    extensions = el.find(_q(BPMN, "extensionElements"))
    if extensions is not None and extensions.find(_q(SPIFF, "serviceTaskOperator")) is not None:
        return
    definition = extensions.find(_q(ZEEBE, "taskDefinition")) if extensions is not None else None
    name = definition.get("type") if definition is not None else el.get(_q(CAMUNDA, "topic"))
    if not name or name not in OPERATIONS:
        return
    if extensions is None:
        extensions = etree.Element(_q(BPMN, "extensionElements"))
        el.insert(_first_non_documentation(el), extensions)
    etree.SubElement(extensions, _q(SPIFF, "serviceTaskOperator"), nsmap={"spiffworkflow": SPIFF}, id=name)
    for attribute in (_q(CAMUNDA, "type"), _q(CAMUNDA, "topic")):
        el.attrib.pop(attribute, None)
    if definition is not None:
        extensions.remove(definition)
    changes.append(_entry(el.get("id"), _("the task type '%(name)s' is now a call of the registered operation "
                                          "'%(name)s'", name=name)))


# --- What cannot run ------------------------------------------------------------------------------------------


def _findings(root) -> tuple[list[dict], list[dict]]:
    problems, ignored = [], []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.startswith(f"{{{BPMN}}}"):
            problems += _element_problems(el)
        elif el.tag.startswith((f"{{{CAMUNDA}}}", f"{{{ZEEBE}}}")):
            owner = el.getparent().getparent() if el.getparent() is not None else None
            problems_or_ignored = _extension_finding(el, owner)
            if problems_or_ignored:
                kind, entry = problems_or_ignored
                (problems if kind == "problem" else ignored).append(entry)
    return _unique(problems), _unique(ignored)


def _unique(entries: list[dict]) -> list[dict]:
    return list({(e["element"], e["message"]): e for e in entries}.values())


def _element_problems(el) -> list[dict]:
    kind, element = _local(el), el.get("id")
    found = []
    if kind == "complexGateway":
        found.append(_entry(element, _("a complex gateway cannot run on Madam (its activation rule has no "
                                       "executable form); use an exclusive, parallel or inclusive gateway")))
    elif kind == "businessRuleTask":
        decision = el.get(_q(CAMUNDA, "decisionRef"))
        found.append(_entry(element, _("the business rule task calls the DMN decision '%(decision)s'; Madam runs no "
                                       "DMN decisions, so use a script task or an exclusive gateway",
                                       decision=decision) if decision else
                            _("the business rule task names no decision; Madam runs no DMN decisions, so use a "
                              "script task or an exclusive gateway")))
    elif kind == "adHocSubProcess":
        found.append(_entry(element, _("an ad-hoc subprocess cannot run on Madam; model its steps with gateways")))
    elif kind == "scriptTask":
        language = (el.get("scriptFormat") or "python").lower()
        if language not in ("python", "py", "text/x-python"):
            found.append(_entry(element, _("the script is written in %(language)s; Madam runs Python scripts only, "
                                           "so rewrite it in Python", language=el.get("scriptFormat"))))
        if el.get(_q(CAMUNDA, "resource")):
            found.append(_entry(element, _("the script is read from the file '%(file)s'; write the script into the "
                                           "task", file=el.get(_q(CAMUNDA, "resource")))))
    elif kind in ("serviceTask", "sendTask") and el.find(_OPERATOR) is None:
        found += _foreign_service(el, kind, element)
    elif kind == "conditionExpression":
        text = (el.text or "").strip()
        flow = el.getparent().get("id") if el.getparent() is not None else None
        language = (el.get("language") or "").lower()
        if language in ("javascript", "groovy", "js"):
            found.append(_entry(flow, _("the condition is written in %(language)s; write it as a Python "
                                        "expression", language=el.get("language"))))
        elif text.startswith(("${", "#{")) or (text.startswith("=") and not text.startswith("==")):
            found.append(_entry(flow, _("the condition %(condition)s is a Camunda expression that could not be turned "
                                        "into Python; write it as a Python expression", condition=text)))
    elif kind in ("timeDuration", "timeDate", "timeCycle"):
        text = (el.text or "").strip()
        if text.startswith(("${", "#{")):
            owner = el.getparent().getparent() if el.getparent() is not None else None
            found.append(_entry(owner.get("id") if owner is not None else None,
                                _("the timer value %(value)s is a Camunda expression; write a Python expression "
                                  "such as \"PT1H\"", value=text)))
    return found


def _foreign_service(el, kind: str, element) -> list[dict]:
    implementations = [(el.get(_q(CAMUNDA, "class")), lambda: _("the Java class")),
                       (el.get(_q(CAMUNDA, "delegateExpression")), lambda: _("the delegate expression")),
                       (el.get(_q(CAMUNDA, "expression")), lambda: _("the expression")),
                       (el.get(_q(CAMUNDA, "topic")), lambda: _("the external task topic"))]
    definition = el.find(f"{_q(BPMN, 'extensionElements')}/{_q(ZEEBE, 'taskDefinition')}")
    if definition is not None:
        implementations.append((definition.get("type"), lambda: _("the job type")))
    connector = el.find(f"{_q(BPMN, 'extensionElements')}/{_q(CAMUNDA, 'connector')}")
    if connector is not None:
        implementations.append(("connector", lambda: _("a Camunda connector")))
    named = next(((value, what) for value, what in implementations if value), None)
    if named:
        return [_entry(element, _("the %(kind)s calls %(what)s '%(name)s', which Madam cannot run; choose a "
                                  "registered operation (spiffworkflow:serviceTaskOperator)", kind=kind,
                                  what=named[1](), name=named[0]))]
    if kind == "sendTask" and el.get("messageRef"):
        return []
    return [_entry(element, _("the %(kind)s names no operation; choose a registered operation", kind=kind))]


def _extension_finding(el, owner):
    kind = _local(el)
    element = owner.get("id") if owner is not None and owner.get("id") else "file"
    if kind in ("executionListener", "taskListener"):
        what = el.get("class") or el.get("expression") or el.get("delegateExpression") or "a script"
        return "problem", _entry(element, _("the %(kind)s (%(what)s) would not run on Madam; model what it does as "
                                            "a script or service task", kind=kind, what=what))
    if kind == "inputOutput":
        return "problem", _entry(element, _("the Camunda input/output mappings would not be applied; map the data "
                                            "with a script task or the operation's parameters"))
    if kind in ("properties", "property", "inputParameter", "outputParameter", "list", "value", "map", "entry",
                "connector", "connectorId", "taskDefinition", "formDefinition", "field", "string", "expression",
                "script"):
        return None  # part of something reported, or read by the normaliser
    if kind == "formData":
        return "problem", _entry(element, _("the Camunda generated form (camunda:formData) is not read; make the "
                                            "form in the form editor and name it as the task's formKey"))
    tool = "Camunda 8" if etree.QName(el).namespace == ZEEBE else "Camunda"
    return "ignored", _entry(element, _("the %(tool)s extension '%(extension)s' is not read by Madam", tool=tool,
                                        extension=kind))
