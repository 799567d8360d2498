"""The analyst's workbench: procedures and their versions, the modeler, forms, import/export, diff, sandbox."""

import json

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core import permissions as p
from core.db import db
from core.errors import DomainError
from core.messages import message_for, register_messages
from engine import diff as diffs
from engine import drafts, formschema, simulation
from engine.catalogue import InvalidProcess, known_roles, referenced_forms
from engine.layout import with_layout
from engine.models import Instance, ProcessDraft, ProcessVersion
from engine.registry import OPERATIONS
from web.access import can, requires
from web.formjs import render_form

bp = Blueprint("modeler", __name__, url_prefix="/processes")

register_messages({
    "draft.unknown": lambda q: _("There is no such draft."),
    "draft.deployed": lambda q: _("This draft has been deployed; open the new version to change it again."),
    "draft.not_xml": lambda q: _("The diagram is not well-formed XML."),
    "draft.not_bpmn": lambda q: _("The file is not a BPMN 2.0 diagram."),
    "process.version_unknown": lambda q: _("There is no such version."),
    "process.key_invalid": lambda q: _("A procedure key is Latin letters, digits, _ or -, starting with a letter."),
    "form.key_invalid": lambda q: _("A form key is Latin letters, digits, _ or -, starting with a letter."),
    "form.not_object": lambda q: _("The form must be a JSON object."),
    "form.unsupported": lambda q: _("The form was not saved: Madam cannot show these components to an expert: "
                                    "%(types)s.", types=q.get("types", "")),
    "process.import_too_large": lambda q: _("The file is too large."),
    "process.import_bad_zip": lambda q: _("The file is not a readable zip archive."),
    "process.import_one_diagram": lambda q: _("The zip must hold exactly one .bpmn file."),
    "process.import_unreadable": lambda q: _("The file could not be read: %(error)s", error=q.get("error", "")),
    "simulation.one_process": lambda q: _("The sandbox runs a diagram with exactly one executable process."),
    "simulation.invalid": lambda q: _("The diagram cannot run: %(error)s", error=q.get("error", "")),
    "simulation.task_gone": lambda q: _("This step is no longer in the sandbox run."),
    "simulation.task_not_ready": lambda q: _("This step is not waiting for a person."),
    "simulation.not_waiting": lambda q: _("This step waits for no timer or message."),
})

KINDS = {"change": "Normalised", "problem": "Cannot run", "ignored": "Not read"}


def _draft(draft_id: int) -> ProcessDraft:
    draft = db.session.get(ProcessDraft, draft_id)
    if draft is None:
        abort(404)
    return draft


def _version(version_id: int) -> ProcessVersion:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        abort(404)
    return version


def _failed(error: DomainError, target: str, status: int = 409):
    db.session.rollback()
    flash(message_for(error), "danger")
    return redirect(target), status


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


# --- Procedures and versions -----------------------------------------------------------------------------------------


@bp.get("")
@requires(p.PROCESSES_MODEL)
def index():
    versions = db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_key,
                                                                  ProcessVersion.version.desc())).all()
    counts = dict(db.session.execute(select(Instance.version_id, func.count()).group_by(Instance.version_id)).all())
    processes: dict[str, list] = {}
    for version in versions:
        processes.setdefault(version.process_key, []).append(version)
    return render_template("modeler/index.html", processes=processes, counts=counts,
                           drafts=drafts.open_drafts(db.session))


@bp.get("/versions/<int:version_id>")
@requires(p.PROCESSES_MODEL)
def version(version_id: int):
    current = _version(version_id)
    previous = db.session.scalar(select(ProcessVersion).where(
        ProcessVersion.process_key == current.process_key, ProcessVersion.version < current.version)
        .order_by(ProcessVersion.version.desc()).limit(1))
    running = db.session.scalar(select(func.count()).select_from(Instance).where(Instance.version_id == current.id))
    return render_template("modeler/version.html", version=current, previous=previous, running=running)


@bp.get("/versions/<int:version_id>/bpmn")
@requires(p.PROCESSES_MODEL)
def version_bpmn(version_id: int):
    return Response(with_layout(_version(version_id).bpmn), mimetype="application/xml")


def _zip(name: str, content: bytes) -> Response:
    return Response(content, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})


@bp.get("/versions/<int:version_id>/export")
@requires(p.PROCESSES_MODEL)
def version_export(version_id: int):
    current = _version(version_id)
    return _zip(f"{current.process_key}-v{current.version}",
                drafts.export_zip(current.process_key, with_layout(current.bpmn), current.forms or {}))


@bp.post("/versions/<int:version_id>/draft")
@requires(p.PROCESSES_MODEL)
def version_draft(version_id: int):
    try:
        draft = drafts.from_version(db.session, current_user, version_id)
    except DomainError as error:
        return _failed(error, url_for(".index"), 404)
    db.session.commit()
    return redirect(url_for(".draft", draft_id=draft.id))


@bp.post("/new")
@requires(p.PROCESSES_MODEL)
def new():
    try:
        draft = drafts.blank(db.session, current_user, (request.form.get("process_key") or "").strip(),
                             (request.form.get("name") or "").strip())
    except DomainError as error:
        return _failed(error, url_for(".index"), 422)
    db.session.commit()
    return redirect(url_for(".draft", draft_id=draft.id))


@bp.post("/import")
@requires(p.PROCESSES_MODEL)
def import_file():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a .bpmn or .zip file."), "danger")
        return redirect(url_for(".index")), 422
    try:
        draft = drafts.import_file(db.session, current_user, upload.filename,
                                   upload.read(drafts.MAX_IMPORT_BYTES + 1))
    except DomainError as error:
        return _failed(error, url_for(".index"), 422)
    db.session.commit()
    flash(_("The diagram was imported as a draft. Read the report below before deploying it."), "info")
    return redirect(url_for(".draft", draft_id=draft.id))


# --- Drafts: the modeler ---------------------------------------------------------------------------------------------


def _catalogue(draft: ProcessDraft) -> dict:
    """What the properties panel and the in-canvas linting need: roles, operations, forms."""
    roles = drafts.role_names(db.session)
    return {
        "roles": [{"code": code, "names": sorted(n for n in names if n)} for code, names in sorted(roles.items())
                  if code in known_roles(db.session)],
        "operations": [{"name": op.name, "required": sorted(op.required), "optional": sorted(op.optional),
                        "description": op.description, "result": simulation.result_shape(op.name),
                        "declared": op.result is not None}
                       for op in sorted(OPERATIONS.values(), key=lambda o: o.name)],
        "forms": sorted((draft.forms or {}).keys()),
        "formUrl": url_for(".form", draft_id=draft.id, key="__key__"),
    }


@bp.get("/drafts/<int:draft_id>")
@requires(p.PROCESSES_MODEL)
def draft(draft_id: int):
    current = _draft(draft_id)
    return render_template("modeler/draft.html", draft=current, catalogue=_catalogue(current), kinds=KINDS,
                           can_deploy=can(p.PROCESSES_DEPLOY), verdict=None)


@bp.get("/drafts/<int:draft_id>/bpmn")
@requires(p.PROCESSES_MODEL)
def draft_bpmn(draft_id: int):
    return Response(_draft(draft_id).bpmn, mimetype="application/xml")


def _save_posted(current: ProcessDraft) -> None:
    payload = request.get_json(silent=True) or {}
    bpmn = payload.get("bpmn") if isinstance(payload, dict) else None
    if bpmn is None:
        bpmn = request.form.get("bpmn")
    if bpmn:
        drafts.save(db.session, current_user, current, bpmn)


@bp.post("/drafts/<int:draft_id>/save")
@requires(p.PROCESSES_MODEL)
def save(draft_id: int):
    """Save the diagram and return the engine's verdict, each error naming its element (pinned on the canvas)."""
    current = _draft(draft_id)
    try:
        _save_posted(current)
    except DomainError as error:
        db.session.rollback()
        return jsonify(saved=False, message=message_for(error)), 422
    verdict = drafts.check(db.session, current)
    db.session.commit()
    return jsonify(saved=True, ok=verdict["ok"], errors=verdict["errors"], processes=verdict["processes"],
                   forms=sorted((current.forms or {}).keys()))


@bp.post("/drafts/<int:draft_id>/deploy")
@requires(p.PROCESSES_DEPLOY)
def deploy(draft_id: int):
    current = _draft(draft_id)
    try:
        _save_posted(current)
        version, created = drafts.deploy(db.session, current_user, current)
    except InvalidProcess as invalid:
        db.session.rollback()
        current = _draft(draft_id)
        flash(_("The draft was not deployed: the diagram has errors, marked on the canvas."), "danger")
        return render_template("modeler/draft.html", draft=current, catalogue=_catalogue(current), kinds=KINDS,
                               can_deploy=True, verdict=invalid.verdict), 422
    except DomainError as error:
        return _failed(error, url_for(".draft", draft_id=draft_id))
    db.session.commit()
    if created:
        flash(_("Deployed as version %(n)s. Running requests stay on the version they started on.",
                n=version.version), "success")
    else:
        flash(_("Nothing changed: this content is already version %(n)s.", n=version.version), "info")
    return redirect(url_for(".version", version_id=version.id))


@bp.post("/drafts/<int:draft_id>/delete")
@requires(p.PROCESSES_MODEL)
def delete(draft_id: int):
    drafts.delete(db.session, current_user, _draft(draft_id))
    db.session.commit()
    flash(_("The draft was deleted."), "success")
    return redirect(url_for(".index"))


@bp.get("/drafts/<int:draft_id>/export")
@requires(p.PROCESSES_MODEL)
def draft_export(draft_id: int):
    current = _draft(draft_id)
    forms = {k: v for k, v in (current.forms or {}).items() if k in referenced_forms(current.bpmn)}
    return _zip(f"{current.process_key}-draft", drafts.export_zip(current.process_key, current.bpmn, forms))


# --- Forms -----------------------------------------------------------------------------------------------------------


@bp.post("/drafts/<int:draft_id>/forms")
@requires(p.PROCESSES_MODEL)
def new_form(draft_id: int):
    current = _draft(draft_id)
    key = (request.form.get("key") or (request.get_json(silent=True) or {}).get("key") or "").strip()
    try:
        if key not in (current.forms or {}):
            drafts.set_form(db.session, current_user, current, key, drafts.new_form_schema(key))
    except DomainError as error:
        db.session.rollback()
        if _wants_json():
            return jsonify(ok=False, message=message_for(error)), 422
        return _failed(error, url_for(".draft", draft_id=draft_id), 422)
    db.session.commit()
    if _wants_json():
        return jsonify(ok=True, key=key, url=url_for(".form", draft_id=draft_id, key=key))
    return redirect(url_for(".form", draft_id=draft_id, key=key))


@bp.route("/drafts/<int:draft_id>/forms/<key>", methods=["GET", "POST"])
@requires(p.PROCESSES_MODEL)
def form(draft_id: int, key: str):
    current = _draft(draft_id)
    schema = (current.forms or {}).get(key)
    if schema is None and request.method == "GET":
        abort(404)
    text = json.dumps(schema, ensure_ascii=False, indent=2) if schema is not None else ""
    problems, status = [], 200
    if request.method == "POST":
        text = request.form.get("schema") or ""
        try:
            posted = json.loads(text)
        except ValueError as exc:
            problems, status = [_("The form is not valid JSON: %(error)s", error=str(exc))], 422
        else:
            problems = formschema.schema_problems(posted)
            foreign = sorted({str(c.get("type")) for c in formschema.walk(formschema.components(posted))
                              if c.get("type") not in formschema.SUPPORTED_TYPES})
            try:
                if foreign:  # the renderer could not draw it for the expert: not kept, even in a draft
                    raise DomainError("form.unsupported", field="schema", types=", ".join(foreign))
                drafts.set_form(db.session, current_user, current, key, posted)
            except DomainError as error:
                db.session.rollback()
                problems, status = [message_for(error), *problems], 422
            else:
                db.session.commit()
                schema = posted
                if not problems:
                    flash(_("The form was saved."), "success")
                    return redirect(url_for(".form", draft_id=draft_id, key=key))
                status = 422
    return render_template("modeler/form.html", draft=current, key=key, text=text, problems=problems,
                           preview=render_form(schema) if isinstance(schema, dict) else None,
                           types=sorted(formschema.SUPPORTED_TYPES)), status


@bp.post("/drafts/<int:draft_id>/forms/<key>/preview")
@requires(p.PROCESSES_MODEL)
def form_preview(draft_id: int, key: str):
    """The form as the expert will see it, from the server's own renderer, with what is wrong in it."""
    _draft(draft_id)
    payload = request.get_json(silent=True) or {}
    try:
        schema = json.loads(payload.get("schema") or "")
    except (ValueError, TypeError) as exc:
        return jsonify(html="", problems=[_("The form is not valid JSON: %(error)s", error=str(exc))])
    problems = formschema.schema_problems(schema)
    html = str(render_form(schema)) if isinstance(schema, dict) else ""
    return jsonify(html=html, problems=problems)


# --- Diff ------------------------------------------------------------------------------------------------------------


@bp.get("/versions/<int:old_id>/diff/<int:new_id>")
@requires(p.PROCESSES_MODEL)
def version_diff(old_id: int, new_id: int):
    old, new = _version(old_id), _version(new_id)
    return render_template("modeler/diff.html", changes=diffs.diff(old.bpmn, new.bpmn),
                           old_src=url_for(".version_bpmn", version_id=old.id),
                           new_src=url_for(".version_bpmn", version_id=new.id),
                           old_label=_("Version %(n)s", n=old.version), new_label=_("Version %(n)s", n=new.version),
                           process_key=new.process_key)


@bp.get("/drafts/<int:draft_id>/diff")
@requires(p.PROCESSES_MODEL)
def draft_diff(draft_id: int):
    current = _draft(draft_id)
    base = db.session.get(ProcessVersion, current.base_version_id) if current.base_version_id else None
    if base is None:
        flash(_("This draft has no version to compare with."), "info")
        return redirect(url_for(".draft", draft_id=draft_id))
    return render_template("modeler/diff.html", changes=diffs.diff(base.bpmn, current.bpmn),
                           old_src=url_for(".version_bpmn", version_id=base.id),
                           new_src=url_for(".draft_bpmn", draft_id=current.id),
                           old_label=_("Version %(n)s", n=base.version), new_label=_("Draft"),
                           process_key=current.process_key, draft=current)


# --- Sandbox ---------------------------------------------------------------------------------------------------------


@bp.get("/drafts/<int:draft_id>/simulate")
@requires(p.PROCESSES_MODEL)
def simulate(draft_id: int):
    current = _draft(draft_id)
    state = simulation.view(current.simulation, current.bpmn) if current.simulation else None
    samples = {}
    if state is not None:
        for task in state["ready"]:
            schema = (current.forms or {}).get(task["form_key"] or "") or {}
            samples[task["id"]] = simulation.sample_values(schema)
    try:
        results = (current.simulation or {}).get("samples") or simulation.sample_results(current.bpmn)
    except Exception:
        results = {}
    return render_template("modeler/simulate.html", draft=current, state=state, samples=samples,
                           results=json.dumps(results, ensure_ascii=False, indent=2, default=str),
                           data=json.dumps(state["data"], ensure_ascii=False, indent=2, default=str) if state else "",
                           errors=request.args.get("errors"))


def _sandbox(draft_id: int, action):
    current = _draft(draft_id)
    try:
        action(current)
    except DomainError as error:
        return _failed(error, url_for(".simulate", draft_id=draft_id), 422)
    db.session.commit()
    return redirect(url_for(".simulate", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/simulate/start")
@requires(p.PROCESSES_MODEL)
def simulate_start(draft_id: int):
    try:
        samples = json.loads(request.form.get("samples") or "{}")
        if not isinstance(samples, dict):
            raise ValueError
    except ValueError:
        flash(_("The sample results must be a JSON object: {task id: result}."), "danger")
        return redirect(url_for(".simulate", draft_id=draft_id)), 422

    def run(draft):
        draft.simulation = simulation.start(draft.bpmn, samples)

    return _sandbox(draft_id, run)


@bp.post("/drafts/<int:draft_id>/simulate/tasks/<task_id>")
@requires(p.PROCESSES_MODEL)
def simulate_task(draft_id: int, task_id: str):
    current = _draft(draft_id)
    if not current.simulation:
        return redirect(url_for(".simulate", draft_id=draft_id))
    try:
        state, errors = simulation.complete(current.simulation, current.forms or {}, task_id, request.form)
    except DomainError as error:
        return _failed(error, url_for(".simulate", draft_id=draft_id), 422)
    if errors:
        flash(_("The sample data has errors: %(errors)s",
                errors="؛ ".join(str(m) for messages in errors.values() for m in messages)), "danger")
        return redirect(url_for(".simulate", draft_id=draft_id)), 422
    current.simulation = state
    db.session.commit()
    return redirect(url_for(".simulate", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/simulate/events/<task_id>")
@requires(p.PROCESSES_MODEL)
def simulate_event(draft_id: int, task_id: str):
    def run(draft):
        if not draft.simulation:
            raise DomainError("simulation.task_gone", task_id=task_id)
        draft.simulation = simulation.trigger(draft.simulation, task_id)

    return _sandbox(draft_id, run)
