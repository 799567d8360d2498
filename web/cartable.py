"""The cartable (کارتابل): the work waiting for me, each task's page, and the actions on it."""

from uuid import UUID

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from core import permissions as p
from core.accounts import Role, User
from core.auth import normalize_username
from core.db import db, utcnow
from core.errors import DomainError
from core.messages import message_for
from core.permissions import has_permission
from core.regions import Region
from engine import cartable, catalogue, notifications, queries, state
from engine.formschema import validate_submission
from engine.layout import with_layout
from engine.models import Instance, WorkItem, WorkItemStatus
from subscribers.models import Contract, Document, Subscriber
from subscribers.search import search
from web.access import can, requires, user_regions
from web.formjs import render_form
from web.lookups import lookup_urls, request_lookups

bp = Blueprint("cartable", __name__)


def _filter_from_args() -> queries.InboxFilter:
    args = request.args
    return queries.InboxFilter(
        process_key=args.get("process") or None, task_name=args.get("step") or None,
        due=args.get("due") if args.get("due") in ("overdue", "soon", "later") else None,
        region_id=args.get("region", type=int), q=(args.get("q") or "").strip() or None,
        sort="received" if args.get("sort") == "received" else "due", page=max(args.get("page", 1, type=int), 1))


def _registry_matches(flt: queries.InboxFilter) -> queries.InboxFilter:
    """Words or a subscription number typed in the search box: the subscribers and contracts they find."""
    if not flt.q or len(flt.q) < 2 or not can(p.SUBSCRIBERS_VIEW):
        return flt
    hits = search(db.session, flt.q, region_ids=[r.id for r in user_regions(p.SUBSCRIBERS_VIEW)], limit=50)
    flt.subscriber_ids = tuple({h.subscriber_id for h in hits if h.subscriber_id})
    flt.contract_ids = tuple({h.contract_id for h in hits if h.contract_id})
    return flt


def _subscribers_of(instances) -> dict:
    ids = {i.subscriber_id for i in instances if i.subscriber_id}
    return {s.id: s for s in db.session.scalars(select(Subscriber).where(Subscriber.id.in_(ids)))} if ids else {}


@bp.get("/cartable")
@requires(p.CARTABLE_USE)
def inbox():
    flt = _registry_matches(_filter_from_args())
    rows, total = queries.inbox(db.session, current_user, flt)
    regions = {r.id: r for r in db.session.scalars(select(Region))}
    return render_template("cartable/inbox.html", rows=rows, total=total, flt=flt, regions=regions,
                           steps=queries.step_choices(db.session, current_user),
                           my_regions=user_regions(p.CARTABLE_USE),
                           overdue=queries.overdue_count(db.session, current_user),
                           counts=queries.counts_per_procedure(db.session, current_user),
                           notices=notifications.unread(db.session, current_user),
                           users={u.id: u for u in _users_of(rows)}, now=utcnow(),
                           subscribers=_subscribers_of([instance for _item, instance, _name in rows]))


def _users_of(rows):
    ids = {item.claimed_by_id for item, _i, _n in rows if item.claimed_by_id}
    return db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []


def _item_for_me(item_id: int, lock: bool = False) -> WorkItem:
    """The item, if it is offered to me (or I administer instances); 404 otherwise, never a leak."""
    item = item_for(db.session, current_user, item_id, lock)
    if item is None:
        abort(404)
    return item


def item_for(session, user, item_id: int, lock: bool = False) -> WorkItem | None:
    """The item (its instance loaded) if the user may see it: reachable by her, or of a case she started, or she
    administers instances in its region; None otherwise. Every task page and action on an item begins here (on
    PostgreSQL one statement; bench/engine.py calls it as the web edge does). `lock`: read with the lock that
    completing it takes (the form's POST), so that the completion reads nothing again."""
    found = queries.item_with_reach(session, user, item_id, lock)
    if found is None:
        return None
    item, reachable = found
    if reachable or item.instance.initiator_id == user.id:
        return item
    return item if has_permission(session, user, p.INSTANCES_ADMIN, session.get(Region, item.region_id)) else None


def form_schema(item: WorkItem) -> dict:
    """The item's form (its version's forms are read once per process: catalogue.forms_for)."""
    return catalogue.forms_for(item.instance.version).get(item.form_key or "", {"components": []})


def _case(item: WorkItem, data: dict) -> dict:
    """What the task page shows beside the form: earlier steps' data (from `data`, the task's data, which
    carries everything the steps before it recorded), the timeline, the case's subscriber and contract."""
    instance = item.instance
    forms = catalogue.forms_for(instance.version)
    earlier = [(step, forms.get(step.form_key or "", {"components": []}))
               for step in queries.completed_steps(db.session, instance.id)]
    events = queries.timeline(db.session, instance.id)
    actor_ids = {e.actor_id for e in events if e.actor_id}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    subscriber = db.session.get(Subscriber, instance.subscriber_id) if instance.subscriber_id else None
    contract = db.session.get(Contract, instance.contract_id) if instance.contract_id else None
    owners = Document.request_id == instance.id
    if subscriber is not None:
        owners = owners | (Document.subscriber_id == subscriber.id)
    documents = db.session.scalars(select(Document).where(owners).order_by(Document.id.desc()).limit(20)).all()
    return {"instance": instance, "data": data, "earlier": earlier, "timeline": events, "people": people,
            "subscriber": subscriber, "contract": contract, "documents": documents}


def _task_data(item: WorkItem) -> dict:
    workflow = state.load(item.instance.version, item.instance.state)
    try:
        return dict(workflow.get_task_from_id(UUID(item.task_id)).data)
    except Exception:  # the task may be gone (returned or moved meanwhile): show the latest data instead
        last = workflow.last_task
        return dict(last.data) if last is not None else dict(workflow.data)


def _page(item: WorkItem, values=None, errors=None, status=200, message=None):
    schema = form_schema(item)
    # A finished item is shown read-only, except to someone whose submission just lost the race: she
    # gets her own input back in the form, to copy from.
    readonly = item.status != WorkItemStatus.OPEN and values is None
    task_data = _task_data(item)  # read once: the form's values and the earlier steps both come from it
    if values is None:
        values = item.draft or task_data
    roles = db.session.scalars(select(Role).order_by(Role.name)).all()
    if message:
        flash(message, "danger")
    return render_template("cartable/task.html", item=item, case=_case(item, task_data), roles=roles,
                           form_html=render_form(schema, values, errors or {}, readonly=readonly,
                                                 lookup_urls=lookup_urls()),
                           render_form=render_form, users={u.id: u for u in _people(item)}), status


def _people(item):
    ids = {i for i in (item.claimed_by_id, item.assignee_id, item.completed_by_id) if i}
    return db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []


@bp.get("/cartable/items/<int:item_id>")
@requires(p.CARTABLE_USE)
def task(item_id: int):
    item = _item_for_me(item_id)
    notifications.mark_read(db.session, current_user, item.id)
    db.session.commit()
    return _page(item)


@bp.post("/cartable/items/<int:item_id>")
@requires(p.CARTABLE_USE)
def submit(item_id: int):
    """Complete the task (or save a draft). Invalid input: 422, errors beside fields, everything kept."""
    item = _item_for_me(item_id, lock=True)
    typed = MultiDict(request.form)
    typed.pop("csrf_token", None)
    action = typed.pop("action", "complete")
    if action == "draft":
        return _run(item, lambda: cartable.save_draft(db.session, current_user, item.id, typed.to_dict(flat=False)),
                    _("The draft was saved."), typed, stay=True)
    schema = form_schema(item)
    data, errors = validate_submission(schema, typed, files=request.files,
                                       lookups=request_lookups(item.instance, schema))
    if errors:
        return _page(item, typed, errors, 422,
                     _("Some fields need attention; nothing was saved. Your input is kept below."))
    return _run(item, lambda: cartable.complete(db.session, current_user, item.id, data),
                _("Done. The request went on to its next step."), typed)


def _run(item, action, success: str, typed=None, stay=False):
    """Run one cartable action as one transaction; a refusal re-shows the page with the input kept."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        item = db.session.get(WorkItem, item.id)
        return _page(item, typed, {}, 409, message_for(error))
    db.session.commit()
    flash(success, "success")
    if stay:
        return redirect(url_for(".task", item_id=item.id))
    return redirect(url_for(".inbox"))


@bp.post("/cartable/items/<int:item_id>/claim")
@requires(p.CARTABLE_USE)
def claim(item_id: int):
    item = _item_for_me(item_id)
    return _run(item, lambda: cartable.claim(db.session, current_user, item.id), _("The task is yours now."),
                stay=True)


@bp.post("/cartable/items/<int:item_id>/unclaim")
@requires(p.CARTABLE_USE)
def unclaim(item_id: int):
    item = _item_for_me(item_id)
    return _run(item, lambda: cartable.unclaim(db.session, current_user, item.id),
                _("The task is back in the shared cartable."))


@bp.post("/cartable/items/<int:item_id>/refer")
@requires(p.CARTABLE_USE)
def refer(item_id: int):
    item = _item_for_me(item_id)
    note = (request.form.get("note") or "").strip()
    username = normalize_username(request.form.get("to_user") or "")
    role = request.form.get("to_role") or None
    to_user = db.session.scalar(select(User).where(User.username == username, User.active.is_(True))) \
        if username else None
    if username and to_user is None:
        return _page(item, status=422, message=_("There is no active user with this username."))
    return _run(item, lambda: cartable.refer(db.session, current_user, item.id, to_user=to_user,
                                             to_role=None if to_user else role, note=note),
                _("The task was referred."))


@bp.post("/cartable/items/<int:item_id>/return")
@requires(p.CARTABLE_USE)
def send_back(item_id: int):
    item = _item_for_me(item_id)
    note = request.form.get("note") or ""
    if not note.strip():
        return _page(item, status=422, message=_("Write why the case goes back."))
    return _run(item, lambda: cartable.return_to_previous(db.session, current_user, item.id, note),
                _("The case went back to the previous step."))


@bp.post("/cartable/items/<int:item_id>/comment")
@requires(p.CARTABLE_USE)
def comment(item_id: int):
    item = _item_for_me(item_id)
    note = request.form.get("note") or ""
    if not note.strip():
        return _page(item, status=422, message=_("The comment is empty."))
    return _run(item, lambda: cartable.comment(db.session, current_user, item.instance_id, note, item),
                _("The comment was added."), stay=True)


@bp.get("/cartable/instances/<int:instance_id>/diagram.bpmn")
@requires(p.CARTABLE_USE)
def diagram(instance_id: int):
    instance = db.session.get(Instance, instance_id) or abort(404)
    items = db.session.scalars(select(WorkItem.id).where(WorkItem.instance_id == instance.id)).all()
    if not any(_visible(i) for i in items) and instance.initiator_id != current_user.id:
        abort(404)
    return with_layout(instance.version.bpmn), 200, {"Content-Type": "application/xml; charset=utf-8"}


def _visible(item_id: int) -> bool:
    try:
        _item_for_me(item_id)
    except Exception:  # abort(404) raises; not visible
        return False
    return True
