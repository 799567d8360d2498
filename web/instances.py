"""The admin console for procedures: find instances, see why they are stuck, repair them."""

import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from billing import runs as billing_runs
from billing.run_models import BillingRun, RunStatus
from core import permissions as p
from core import schedule
from core.accounts import User
from core.auth import normalize_username
from core.db import db, utcnow
from core.errors import DomainError
from core.jobs import delete_failed, queue_overview, retry_failed
from core.messages import message_for
from core.permissions import scope_to_regions
from core.regions import Region
from core.text import to_ascii_digits
from engine import admin, metrics, migration, queries, state
from engine.layout import with_layout
from engine.models import Instance, ProcessVersion, WorkItem, WorkItemStatus
from web.access import require_region, requires

bp = Blueprint("instances", __name__, url_prefix="/admin")
PAGE_SIZE = 50


def _scoped(stmt):
    return scope_to_regions(stmt, Instance.region_id, db.session, current_user, p.INSTANCES_ADMIN)


def _instance(instance_id: int) -> Instance:
    instance = db.session.get(Instance, instance_id)
    if instance is None:
        abort(404)
    require_region(p.INSTANCES_ADMIN, db.session.get(Region, instance.region_id))
    return instance


@bp.get("/instances")
@requires(p.INSTANCES_ADMIN)
def index():
    args = request.args
    page = max(args.get("page", 1, type=int), 1)
    stmt = _scoped(select(Instance, ProcessVersion).join(ProcessVersion, Instance.version_id == ProcessVersion.id))
    if args.get("process"):
        stmt = stmt.where(Instance.process_key == args["process"])
    if args.get("status"):
        stmt = stmt.where(Instance.status == args["status"])
    q = to_ascii_digits(args.get("q") or "").strip()
    if q:
        by_key = Instance.business_key.contains(q, autoescape=True)
        stmt = stmt.where(or_(by_key, Instance.subscriber_id == int(q), Instance.contract_id == int(q))
                          if q.isdigit() and len(q) <= 12 else by_key)
    if args.get("region", type=int):
        stmt = stmt.where(Instance.region_id == args.get("region", type=int))
    if args.get("older_than_days", type=int):
        stmt = stmt.where(Instance.created_at < utcnow() - timedelta(days=args.get("older_than_days", type=int)))
    total = db.session.scalar(select(func.count()).select_from(stmt.with_only_columns(Instance.id).subquery()))
    rows = db.session.execute(stmt.order_by(Instance.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    keys = db.session.scalars(select(ProcessVersion.process_key).distinct().order_by(ProcessVersion.process_key))
    return render_template("instances/index.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           process_keys=list(keys), args=args,
                           regions={r.id: r for r in db.session.scalars(select(Region))})


@bp.get("/instances/<int:instance_id>")
@requires(p.INSTANCES_ADMIN)
def show(instance_id: int):
    instance = _instance(instance_id)
    items = db.session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id)
                               .order_by(WorkItem.id)).all()
    newer = db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == instance.process_key,
                                                            ProcessVersion.version > instance.version.version)
                               .order_by(ProcessVersion.version.desc())).all()
    passed = [i.task_name for i in items if i.status == WorkItemStatus.COMPLETED]
    current = [i.task_name for i in items if i.status == WorkItemStatus.OPEN]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {i.claimed_by_id for i in items if i.claimed_by_id} | {i.assignee_id for i in items if i.assignee_id})))}
    return render_template("instances/show.html", instance=instance, items=items, newer=newer, users=users,
                           timeline=queries.timeline(db.session, instance.id),
                           data=json.dumps(state.workflow_data(instance.state) or _current_data(instance),
                                           ensure_ascii=False, indent=2, default=str),
                           passed=passed, current=current + ([instance.error_task] if instance.error_task else []))


def _current_data(instance) -> dict:
    workflow = state.load(instance.version, instance.state)
    task = workflow.last_task
    return dict(task.data) if task is not None else {}


def _repair(instance_id: int, action, done: str):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
        return redirect(url_for(".show", instance_id=instance_id)), 409
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".show", instance_id=instance_id))


def _reason() -> str:
    return (request.form.get("reason") or "").strip()


@bp.post("/instances/<int:instance_id>/retry")
@requires(p.INSTANCES_ADMIN)
def retry(instance_id: int):
    _instance(instance_id)
    return _repair(instance_id, lambda: admin.retry(db.session, current_user, instance_id), _("Retried."))


@bp.post("/instances/<int:instance_id>/skip")
@requires(p.INSTANCES_ADMIN)
def skip(instance_id: int):
    _instance(instance_id)
    try:
        data = json.loads(request.form.get("data") or "{}")
    except ValueError:
        flash(_("The data must be a JSON object."), "danger")
        return redirect(url_for(".show", instance_id=instance_id)), 422
    return _repair(instance_id, lambda: admin.skip(db.session, current_user, instance_id, _reason(), data),
                   _("The step was skipped."))


@bp.post("/instances/<int:instance_id>/suspend")
@requires(p.INSTANCES_ADMIN)
def suspend(instance_id: int):
    _instance(instance_id)
    return _repair(instance_id, lambda: admin.suspend(db.session, current_user, instance_id, _reason()),
                   _("The request was suspended."))


@bp.post("/instances/<int:instance_id>/resume")
@requires(p.INSTANCES_ADMIN)
def resume(instance_id: int):
    _instance(instance_id)
    return _repair(instance_id, lambda: admin.resume(db.session, current_user, instance_id), _("Resumed."))


@bp.post("/instances/<int:instance_id>/terminate")
@requires(p.INSTANCES_ADMIN)
def terminate(instance_id: int):
    _instance(instance_id)
    return _repair(instance_id, lambda: admin.terminate(db.session, current_user, instance_id, _reason()),
                   _("The request was terminated."))


@bp.post("/instances/<int:instance_id>/move")
@requires(p.INSTANCES_ADMIN)
def move(instance_id: int):
    _instance(instance_id)
    task = request.form.get("task") or ""
    return _repair(instance_id, lambda: admin.move_token(db.session, current_user, instance_id, task, _reason()),
                   _("The request went back to the chosen step."))


@bp.post("/instances/<int:instance_id>/data")
@requires(p.INSTANCES_ADMIN)
def edit_data(instance_id: int):
    _instance(instance_id)
    try:
        changes = json.loads(request.form.get("changes") or "")
        if not isinstance(changes, dict) or not changes:
            raise ValueError
    except ValueError:
        flash(_("The changes must be a JSON object such as {\"capacity\": 25}."), "danger")
        return redirect(url_for(".show", instance_id=instance_id)), 422
    return _repair(instance_id, lambda: admin.set_data(db.session, current_user, instance_id, changes, _reason()),
                   _("The data was corrected."))


@bp.post("/instances/<int:instance_id>/migrate")
@requires(p.INSTANCES_ADMIN)
def migrate_one(instance_id: int):
    _instance(instance_id)
    target = request.form.get("version", type=int)
    return _repair(instance_id, lambda: migration.migrate(db.session, current_user, instance_id, target),
                   _("The request moved to the new version."))


@bp.post("/work-items/<int:item_id>/reassign")
@requires(p.INSTANCES_ADMIN)
def reassign(item_id: int):
    item = db.session.get(WorkItem, item_id) or abort(404)
    _instance(item.instance_id)
    user = db.session.scalar(select(User).where(User.username == normalize_username(request.form.get("to_user", "")),
                                                User.active.is_(True)))
    if user is None:
        flash(_("There is no active user with this username."), "danger")
        return redirect(url_for(".show", instance_id=item.instance_id)), 422
    return _repair(item.instance_id, lambda: admin.reassign(db.session, current_user, item_id, user),
                   _("The task was handed to %(name)s.", name=user.full_name))


@bp.get("/stuck")
@requires(p.INSTANCES_ADMIN)
def stuck():
    hours = request.args.get("hours", 24, type=int)
    wait_hours = request.args.get("message_hours", 72, type=int)
    visible = set(db.session.scalars(_scoped(select(Instance.id))))
    found = [s for s in admin.stuck_instances(db.session, no_progress_hours=hours, message_wait_hours=wait_hours)
             if s.instance.id in visible]
    counts: dict[tuple[str, str, str], int] = {}
    for s in found:
        key = (s.instance.process_key, s.step or "", s.reason)
        counts[key] = counts.get(key, 0) + 1
    return render_template("instances/stuck.html", found=found, counts=sorted(counts.items()), hours=hours,
                           message_hours=wait_hours)


@bp.route("/versions/<int:version_id>/migrate", methods=["GET", "POST"])
@requires(p.INSTANCES_ADMIN)
def migrate_bulk(version_id: int):
    version = db.session.get(ProcessVersion, version_id) or abort(404)
    targets = db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == version.process_key,
                                                              ProcessVersion.version > version.version)
                                 .order_by(ProcessVersion.version.desc())).all()
    target_id = request.values.get("target", type=int) or (targets[0].id if targets else None)
    results, applied = [], False
    if target_id:
        apply = request.method == "POST" and request.form.get("apply") == "1"
        results = migration.migrate_all(db.session, current_user, version.id, target_id, dry_run=not apply)
        if apply:
            db.session.commit()
            applied = True
    return render_template("instances/migrate.html", version=version, targets=targets, target_id=target_id,
                           results=results, applied=applied)


@bp.get("/versions/<int:version_id>/metrics")
@requires(p.INSTANCES_ADMIN)
def version_metrics(version_id: int):
    version = db.session.get(ProcessVersion, version_id) or abort(404)
    steps = metrics.step_metrics(db.session, version.id)
    slowest = max((m.waiting_p95_h + m.working_p95_h for m in steps), default=0) or 1
    heat = {m.task_name: round((m.waiting_p95_h + m.working_p95_h) / slowest, 2) for m in steps}
    return render_template("instances/metrics.html", version=version, steps=steps, heat=heat,
                           summary=metrics.version_summary(db.session, version.id))


@bp.get("/instances/<int:instance_id>/diagram.bpmn")
@requires(p.INSTANCES_ADMIN)
def diagram_xml(instance_id: int):
    return with_layout(_instance(instance_id).version.bpmn), 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.get("/versions/<int:version_id>/diagram.bpmn")
@requires(p.INSTANCES_ADMIN)
def version_xml(version_id: int):
    version = db.session.get(ProcessVersion, version_id) or abort(404)
    return with_layout(version.bpmn), 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.get("/queues")
@requires(p.INSTANCES_ADMIN)
def queues():
    backend = current_app.extensions["madam_jobs"]
    states, workers = queue_overview(backend)
    active = db.session.scalars(select(BillingRun).where(BillingRun.status.in_(
        [RunStatus.APPROVED, RunStatus.RUNNING, RunStatus.PAUSED])).order_by(BillingRun.id)).all()
    runs = {run.name: run for run in schedule.last_runs(db.session)}
    daily = [(name, current_app.config.get(setting), runs.get(name))
             for name, setting in schedule.DAILY_JOB_HOURS.items()]
    return render_template("instances/queues.html", backend=backend, states=states, workers=workers,
                           billing_runs=[(run, billing_runs.progress(db.session, run.id)) for run in active],
                           daily_jobs=daily)


@bp.post("/queues/<queue>/jobs/<job_id>/<any(retry, delete):action>")
@requires(p.INSTANCES_ADMIN)
def queue_job(queue: str, job_id: str, action: str):
    backend = current_app.extensions["madam_jobs"]
    if not backend.redis_url:
        abort(404)
    (retry_failed if action == "retry" else delete_failed)(backend, queue, job_id)
    flash(_("The job was sent back to its queue.") if action == "retry" else _("The job was deleted."), "success")
    return redirect(url_for(".queues"))
