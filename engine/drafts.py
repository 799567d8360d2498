"""Analysts' drafts of procedures: open a version, import another tool's diagram, save, check, deploy, export.

Every function takes the session and the acting user, flushes and never commits (the web view commits once).
"""

import io
import json
import re
import zipfile
from pathlib import PurePosixPath

from lxml import etree
from sqlalchemy import select

from core.accounts import Role
from core.audit import audit
from core.db import utcnow
from core.errors import DomainError, NotFound
from core.standard_roles import STANDARD_ROLES
from engine import catalogue, normalise
from engine.layout import with_layout
from engine.models import ProcessDraft, ProcessVersion
from engine.validation import _

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FORM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,99}")
PROCESS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,99}")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_ZIP_ENTRIES = 200

BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="{key}_definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="{key}_collaboration">
    <bpmn:participant id="{key}_pool" name="{name}" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="{key}_lanes">
      <bpmn:lane id="{key}_lane" name="{role}"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{key}_diagram">
    <bpmndi:BPMNPlane id="{key}_plane" bpmnElement="{key}_collaboration">
      <bpmndi:BPMNShape id="{key}_pool_di" bpmnElement="{key}_pool" isHorizontal="true">
        <dc:Bounds x="100" y="60" width="900" height="220" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_lane_di" bpmnElement="{key}_lane" isHorizontal="true">
        <dc:Bounds x="130" y="60" width="870" height="220" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="182" y="152" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def role_names(session) -> dict[str, set[str]]:
    """{role code: the names analysts may use for it}, for lanes named by a role's name instead of its code."""
    names = {code: {fa, en} for code, fa, en, _perms in STANDARD_ROLES}
    for role in session.scalars(select(Role)):
        names.setdefault(role.code, set()).update(n for n in (role.name, role.name_en) if n)
    return names


def get(session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound("draft.unknown", draft_id=draft_id)
    return draft


def open_drafts(session) -> list[ProcessDraft]:
    return list(session.scalars(select(ProcessDraft).where(ProcessDraft.deployed_version_id.is_(None))
                                .order_by(ProcessDraft.updated_at.desc())))


def _new(session, actor, **values) -> ProcessDraft:
    draft = ProcessDraft(created_by_id=getattr(actor, "id", None), updated_by_id=getattr(actor, "id", None),
                         report=values.pop("report", []), **values)
    session.add(draft)
    session.flush()
    return draft


def from_version(session, actor, version_id: int) -> ProcessDraft:
    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound("process.version_unknown", version_id=version_id)
    draft = _new(session, actor, process_key=version.process_key, name=version.name, base_version_id=version.id,
                 bpmn=with_layout(version.bpmn), forms=dict(version.forms or {}), source=version.source)
    audit(session, actor, "process.draft_created", draft, process_key=version.process_key, version=version.version)
    return draft


def blank(session, actor, process_key: str, name: str, role: str = "counter_clerk") -> ProcessDraft:
    if not PROCESS_KEY.fullmatch(process_key or ""):
        raise DomainError("process.key_invalid", field="process_key", key=process_key)
    escape = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
    safe_name = "".join(escape.get(ch, ch) for ch in (name or process_key))
    bpmn = BLANK.format(key=process_key, name=safe_name, role=role)
    draft = _new(session, actor, process_key=process_key, name=name or process_key, bpmn=bpmn, forms={})
    audit(session, actor, "process.draft_created", draft, process_key=process_key)
    return draft


# --- Import and export ---------------------------------------------------------------------------------------------


def read_upload(filename: str, content: bytes) -> tuple[bytes, dict, list[dict]]:
    """(the BPMN, its forms, problems with the package) from a .bpmn/.xml file or a .zip of BPMN and forms."""
    if len(content) > MAX_IMPORT_BYTES:
        raise DomainError("process.import_too_large", limit=MAX_IMPORT_BYTES)
    if not (filename or "").lower().endswith(".zip"):
        return content, {}, []
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise DomainError("process.import_bad_zip") from exc
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if len(entries) > MAX_ZIP_ENTRIES or sum(info.file_size for info in entries) > 4 * MAX_IMPORT_BYTES:
        raise DomainError("process.import_too_large", limit=MAX_IMPORT_BYTES)
    diagrams = [info for info in entries if info.filename.lower().endswith((".bpmn", ".bpmn20.xml"))]
    if len(diagrams) != 1:
        raise DomainError("process.import_one_diagram", count=len(diagrams))
    forms, problems = {}, []
    for info in entries:
        name = PurePosixPath(info.filename)
        if name.suffix.lower() not in (".json", ".form"):
            continue
        try:
            schema = json.loads(archive.read(info).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            problems.append({"element": "file", "message": _("the form file '%(file)s' is not JSON",
                                                             file=info.filename)})
            continue
        key = name.stem if FORM_KEY.fullmatch(name.stem) else None
        if key is None:
            problems.append({"element": "file", "message": _("the form file '%(file)s' has no usable name",
                                                             file=info.filename)})
            continue
        forms[key] = schema
    return archive.read(diagrams[0]), forms, problems


def import_file(session, actor, filename: str, content: bytes) -> ProcessDraft:
    """A draft from another tool's diagram (or our own export), normalised; its report says what changed and
    what cannot run, per element."""
    bpmn, forms, problems = read_upload(filename, content)
    result = normalise.normalise(bpmn, roles=role_names(session))
    if result["bpmn"] is None:
        raise DomainError("process.import_unreadable", error=result["problems"][0]["message"])
    root = etree.fromstring(result["bpmn"].encode())
    processes = [p for p in root.iterfind(f"{{{BPMN}}}process") if p.get("isExecutable") == "true"]
    key = processes[0].get("id") if processes else PurePosixPath(filename or "imported").stem
    name = (processes[0].get("name") if processes else "") or key
    report = ([{"kind": "change", **c} for c in result["changes"]]
              + [{"kind": "problem", **p} for p in result["problems"] + problems]
              + [{"kind": "ignored", **i} for i in result["ignored"]])
    draft = _new(session, actor, process_key=key[:100], name=name[:200], bpmn=result["bpmn"], forms=forms,
                 source=f"import:{PurePosixPath(filename or '').name}"[:200], report=report)
    audit(session, actor, "process.imported", draft, process_key=key, file=filename, tool=result["tool"],
          changes=len(result["changes"]), problems=len(result["problems"]))
    return draft


def export_zip(process_key: str, bpmn: str, forms: dict) -> bytes:
    """The procedure as a zip: <key>.bpmn and forms/<formKey>.json, which import_file reads back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{process_key}.bpmn", bpmn)
        for key, schema in sorted(forms.items()):
            archive.writestr(f"forms/{key}.json", json.dumps(schema, ensure_ascii=False, indent=2))
    return buffer.getvalue()


# --- Editing, checking, deploying ---------------------------------------------------------------------------------


def _require_open(draft: ProcessDraft) -> None:
    if draft.deployed_version_id is not None:
        raise DomainError("draft.deployed", draft_id=draft.id)


def save(session, actor, draft: ProcessDraft, bpmn: str) -> ProcessDraft:
    """Keep the analyst's diagram (any well-formed BPMN: a draft may be unfinished); a new diagram ends the
    sandbox run of the old one."""
    _require_open(draft)
    try:
        root = etree.fromstring(bpmn.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DomainError("draft.not_xml", error=str(exc)) from exc
    if root.tag != f"{{{BPMN}}}definitions":
        raise DomainError("draft.not_bpmn")
    if bpmn != draft.bpmn:
        draft.bpmn, draft.simulation = bpmn, None
    process = root.find(f"{{{BPMN}}}process")
    if process is not None and process.get("id"):
        draft.process_key = process.get("id")[:100]
        draft.name = (process.get("name") or draft.name or draft.process_key)[:200]
    draft.updated_by_id, draft.updated_at = getattr(actor, "id", None), utcnow()
    session.flush()
    return draft


def set_form(session, actor, draft: ProcessDraft, key: str, schema) -> ProcessDraft:
    _require_open(draft)
    if not FORM_KEY.fullmatch(key or ""):
        raise DomainError("form.key_invalid", field="key", key=key)
    if not isinstance(schema, dict):
        raise DomainError("form.not_object", field="schema")
    draft.forms = {**(draft.forms or {}), key: schema}
    draft.simulation = None
    draft.updated_by_id, draft.updated_at = getattr(actor, "id", None), utcnow()
    session.flush()
    return draft


def new_form_schema(key: str) -> dict:
    return {"type": "default", "id": key, "schemaVersion": 16, "components": [
        {"type": "textarea", "key": "note", "label": "توضیح"}]}


def check(session, draft: ProcessDraft) -> dict:
    """The engine's verdict on the draft, with what cannot run on Madam (foreign elements) added, per element."""
    verdict = catalogue.validate(session, draft.bpmn, draft.forms or {}, f"{draft.process_key}.bpmn")
    extra = [p for p in normalise.unrunnable(draft.bpmn)
             if (p["element"], p["message"]) not in {(e["element"], e["message"]) for e in verdict["errors"]}]
    errors = verdict["errors"] + extra
    return {**verdict, "ok": not errors, "errors": errors}


def deploy(session, actor, draft: ProcessDraft) -> tuple[ProcessVersion, bool]:
    """Deploy the draft as a new version of its process; running instances stay on theirs."""
    _require_open(draft)
    verdict = check(session, draft)
    if not verdict["ok"]:
        raise catalogue.InvalidProcess(verdict)
    referenced = catalogue.referenced_forms(draft.bpmn)
    forms = {key: schema for key, schema in (draft.forms or {}).items() if key in referenced}
    version, created = catalogue.deploy(session, actor, draft.bpmn, forms, source=f"modeler:draft/{draft.id}")
    draft.deployed_version_id = version.id
    session.flush()
    return version, created


def delete(session, actor, draft: ProcessDraft) -> None:
    audit(session, actor, "process.draft_deleted", draft, process_key=draft.process_key)
    session.delete(draft)
    session.flush()
