"""Starting a request (درخواست) and following my own requests."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import permissions as p
from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.permissions import role_region_paths
from core.regions import Region
from engine import cartable, queries, runtime
from engine.catalogue import latest_versions, start_roles
from engine.models import InstanceEvent, WorkItem, WorkItemStatus
from subscribers.models import Contract
from web.access import region_choices, requires
from web.lookups import form_lookups, lookup_urls

CLOSING_WORDS = ("انجام شد", "رد شد", "لغو شد")  # how request.close begins its note

bp = Blueprint("requests", __name__)


def startable():
    """[(version, [regions where I may start it])] for every procedure whose start lane is a role I hold."""
    mine = role_region_paths(db.session, current_user)
    result = []
    for version in latest_versions(db.session):
        paths = [path for role, path in mine if role in start_roles(version)]
        if paths:
            regions = [r for r in db.session.scalars(select(Region).order_by(Region.path))
                       if any(r.path.startswith(path) for path in paths)]
            result.append((version, regions))
    return result


@bp.get("/requests/new")
@requires(p.CARTABLE_USE)
def new():
    return render_template("requests/new.html", procedures=[(v, region_choices(rs)) for v, rs in startable()],
                           contract_lookup=lookup_urls()["madam:contract"])


@bp.post("/requests/new")
@requires(p.CARTABLE_USE)
def start():
    key, region_id = request.form.get("process"), request.form.get("region", type=int)
    allowed = {v.process_key: {r.id for r in regions} for v, regions in startable()}
    if key not in allowed or region_id not in allowed[key]:
        flash(_("Choose a procedure and a region where you may start it."), "danger")
        return render_template("requests/new.html",
                               procedures=[(v, region_choices(rs)) for v, rs in startable()]), 422
    lookups = form_lookups()
    typed_contract = (request.form.get("contract") or "").strip()
    contract_id = lookups["madam:contract"](typed_contract) if typed_contract else None
    if typed_contract and contract_id is None:
        flash(_("No contract with this subscription number in your regions."), "danger")
        return render_template("requests/new.html", procedures=[(v, region_choices(rs)) for v, rs in startable()],
                               typed_contract=typed_contract), 422
    subscriber_id = db.session.get(Contract, contract_id).subscriber_id if contract_id else None
    try:
        instance = runtime.start_instance(db.session, current_user, key, db.session.get(Region, region_id),
                                          subscriber_id=subscriber_id, contract_id=contract_id)
        first = db.session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id,
                                                         WorkItem.status == WorkItemStatus.OPEN).limit(1))
        if first is not None:
            try:
                cartable.claim(db.session, current_user, first.id)
            except DomainError:
                first = None  # the first step belongs to someone else: it is in their cartable
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
        return redirect(url_for(".new"))
    db.session.commit()
    flash(_("Request %(number)s was registered.", number=instance.business_key), "success")
    if first is not None:
        return redirect(url_for("cartable.task", item_id=first.id))
    return redirect(url_for(".mine"))


@bp.get("/requests/mine")
@requires(p.CARTABLE_USE)
def mine():
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = queries.my_requests(db.session, current_user, page=page)
    return render_template("requests/mine.html", rows=rows, total=total, page=page, page_size=25,
                           outcomes=_outcomes([instance.id for instance, _name in rows if instance.status in
                                               ("completed", "terminated")]))


def _outcomes(instance_ids: list[int]) -> dict[int, str]:
    """How each finished request ended, as its closing step wrote on its timeline ("رد شد: …")."""
    if not instance_ids:
        return {}
    notes = db.session.execute(
        select(InstanceEvent.instance_id, InstanceEvent.action, InstanceEvent.note)
        .where(InstanceEvent.instance_id.in_(instance_ids), InstanceEvent.note.is_not(None),
               InstanceEvent.action.in_(("commented", "terminated")))
        .order_by(InstanceEvent.instance_id, InstanceEvent.id)).tuples().all()
    ends = {}
    for instance_id, action, note in notes:
        if action == "terminated" or note.startswith(CLOSING_WORDS):
            ends[instance_id] = note
    return ends
