"""Process versions: deploy a BPMN file with its forms, stored once per content hash."""

import hashlib
import json
import re
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from sqlalchemy import func, select

from core.accounts import Role
from core.audit import audit
from core.errors import DomainError
from core.standard_roles import STANDARD_ROLES
from engine.models import ProcessVersion
from engine.registry import operation_specs
from engine.validation import validate_bpmn

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
_FORM_KEY = re.compile(r'name="formKey"\s+value="([^"]+)"')


class InvalidProcess(DomainError):
    def __init__(self, verdict: dict):
        super().__init__("process.invalid", errors=verdict["errors"])
        self.verdict = verdict


def content_hash(bpmn: str, forms: dict) -> str:
    payload = json.dumps({"bpmn": bpmn, "forms": forms}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def referenced_forms(bpmn: str) -> set[str]:
    return set(_FORM_KEY.findall(bpmn))


def known_roles(session) -> set[str]:
    return {code for code, *_ in STANDARD_ROLES} | set(session.scalars(select(Role.code)))


def validate(session, bpmn: str, forms: dict, filename: str) -> dict:
    return validate_bpmn(bpmn.encode(), filename=filename, forms=forms, roles=known_roles(session),
                         operations=operation_specs())


def validate_file(session, path: Path, forms_dir: Path) -> dict:
    """Validate a file on disk with the forms it names from forms_dir; any file gets a verdict."""
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        return {"file": str(path), "ok": False, "errors": [{"element": "file", "message": str(exc)}],
                "processes": []}
    forms = {}
    for key in referenced_forms(content.decode("utf-8", errors="replace")):
        form_path = Path(forms_dir) / f"{key}.json"
        if form_path.exists():
            try:
                forms[key] = json.loads(form_path.read_text(encoding="utf-8"))
            except ValueError:
                pass  # reported as a missing form by the validator
    return validate_bpmn(content, filename=str(path), forms=forms, roles=known_roles(session),
                         operations=operation_specs())


def deploy(session, actor, bpmn: str, forms: dict, source: str = "") -> tuple[ProcessVersion, bool]:
    """Deploy as a new version of its process key; returns (version, created). Identical content is not
    deployed twice. An invalid diagram raises InvalidProcess with the validator's verdict."""
    forms = {key: forms[key] for key in sorted(forms)}
    digest = content_hash(bpmn, forms)
    existing = session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == digest))
    if existing is not None:
        return existing, False
    verdict = validate(session, bpmn, forms, source or "upload.bpmn")
    if not verdict["ok"]:
        raise InvalidProcess(verdict)
    if len(verdict["processes"]) != 1:
        raise InvalidProcess({**verdict, "ok": False, "errors": [
            {"element": "file", "message": "a deployed file holds exactly one executable process"}]})
    key = verdict["processes"][0]
    spec, subprocess_specs = _parse(bpmn, key)
    number = (session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.process_key == key))
              or 0) + 1
    version = ProcessVersion(
        process_key=key, version=number, name=spec.description or key, content_hash=digest, bpmn=bpmn,
        forms=forms, source=source, deployed_by_id=getattr(actor, "id", None),
        spec={"spec": SERIALIZER.to_dict(spec), "subprocess_specs": {
            name: SERIALIZER.to_dict(sub) for name, sub in subprocess_specs.items()}},
    )
    session.add(version)
    session.flush()
    audit(session, actor, "process.deployed", version, process_key=key, version=number, source=source)
    return version, True


def _parse(bpmn: str, process_key: str):
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(bpmn.encode()), filename=process_key)
    return parser.get_spec(process_key), parser.get_subprocess_specs(process_key)


_SPEC_CACHE: dict[tuple[int, str], tuple] = {}


def specs_for(version: ProcessVersion):
    """The restored spec objects of a version, built once per process (specs are never mutated)."""
    key = (version.id, version.content_hash)
    cached = _SPEC_CACHE.get(key)
    if cached is None:
        spec = SERIALIZER.from_dict(version.spec["spec"])
        subprocess_specs = {name: SERIALIZER.from_dict(sub) for name, sub in version.spec["subprocess_specs"].items()}
        cached = _SPEC_CACHE[key] = (spec, subprocess_specs)
    return cached


_FORMS_CACHE: dict[tuple[int, str], dict] = {}


def forms_for(version: ProcessVersion) -> dict:
    """The version's forms ({form key: schema}), read once per process: a version's forms never change (its
    content_hash covers them). Shared between requests: callers read them, never change them."""
    key = (version.id, version.content_hash)
    cached = _FORMS_CACHE.get(key)
    if cached is None:
        cached = _FORMS_CACHE[key] = version.forms or {}
    return cached


_CATCHES_CACHE: dict[tuple[int, str], bool] = {}


def catches_events(version: ProcessVersion) -> bool:
    """Whether any task of the version waits for a timer or a message (most user-task-only steps do not)."""
    key = (version.id, version.content_hash)
    cached = _CATCHES_CACHE.get(key)
    if cached is None:
        spec, subprocess_specs = specs_for(version)
        kinds = {type(getattr(ts, "event_definition", None)).__name__
                 for s in (spec, *subprocess_specs.values()) for ts in s.task_specs.values()}
        cached = _CATCHES_CACHE[key] = any(word in kind for kind in kinds for word in ("Timer", "Message", "Multiple"))
    return cached


def start_roles(version: ProcessVersion) -> set[str]:
    """The roles whose lane holds the process's start event: who may start a request of this kind."""
    spec, _subs = specs_for(version)
    return {ts.lane for ts in spec.task_specs.values() if type(ts).__name__ == "StartEvent" and ts.lane}


def latest_versions(session) -> list[ProcessVersion]:
    newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    return list(session.scalars(select(ProcessVersion).join(
        newest, (ProcessVersion.process_key == newest.c.process_key) & (ProcessVersion.version == newest.c.version))
        .order_by(ProcessVersion.name)))


def latest_version(session, process_key: str) -> ProcessVersion:
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                             .order_by(ProcessVersion.version.desc()).limit(1))
    if version is None:
        raise DomainError("process.unknown", process_key=process_key)
    return version


def sync_directory(session, actor, processes_dir: Path, forms_dir: Path) -> list[tuple[ProcessVersion, bool]]:
    """Deploy every processes/*.bpmn with the forms it names; unchanged files deploy nothing."""
    results = []
    for path in sorted(Path(processes_dir).glob("*.bpmn")):
        bpmn = path.read_text(encoding="utf-8")
        forms = {}
        for key in sorted(referenced_forms(bpmn)):
            form_path = Path(forms_dir) / f"{key}.json"
            if form_path.exists():
                forms[key] = json.loads(form_path.read_text(encoding="utf-8"))
        results.append(deploy(session, actor, bpmn, forms, source=f"processes/{path.name}"))
    return results
