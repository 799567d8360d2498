"""The registry behind the forms' platform components: as-you-type lookups and the checks of a submission.

`/lookup/<kind>?q=…` answers [{"id", "label"}] for subscribers, contracts and meters the user may see;
`form_lookups()` gives engine.formschema.validate_submission the functions that turn what was typed
(an id, a subscription number, a meter serial) into the id of a record in the user's regions.
"""

from flask import Blueprint, abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core import permissions as p
from core.db import db
from core.text import digits_only, normalize_persian
from subscribers.models import Contract, Meter, Subscriber
from subscribers.search import search
from web.access import requires, user_regions

bp = Blueprint("lookups", __name__, url_prefix="/lookup")
LIMIT = 10


def _region_ids() -> list[int]:
    return [r.id for r in user_regions(p.SUBSCRIBERS_VIEW)]


def _subscriber_label(subscriber: Subscriber) -> str:
    return f"{subscriber.display_name} — {subscriber.national_id or ''}".strip(" —")


@bp.get("/<any(subscribers, contracts, meters):kind>")
@requires(p.SUBSCRIBERS_VIEW)
def lookup(kind: str):
    typed = normalize_persian(request.args.get("q", "")) or ""
    if len(typed) < 2:
        return jsonify([])
    regions = _region_ids()
    if kind == "meters":
        rows = db.session.scalars(select(Meter).where(Meter.serial.startswith(typed.upper(), autoescape=True),
                                                      Meter.region_id.in_(regions)).limit(LIMIT))
        return jsonify([{"id": m.id, "label": f"{m.serial} ({m.status})"} for m in rows])
    hits = search(db.session, typed, region_ids=regions, limit=LIMIT)
    if kind == "contracts":
        ids = [h.contract_id for h in hits if h.contract_id] or [
            c for c in db.session.scalars(select(Contract.id).where(Contract.subscriber_id.in_(
                [h.subscriber_id for h in hits if h.subscriber_id])).limit(LIMIT))]
        contracts = db.session.scalars(select(Contract).where(Contract.id.in_(ids))).all()
        return jsonify([{"id": c.id, "label": f"{c.subscription_no} — {c.status}"} for c in contracts])
    ids = list(dict.fromkeys(h.subscriber_id for h in hits if h.subscriber_id))
    subscribers = {s.id: s for s in db.session.scalars(select(Subscriber).where(Subscriber.id.in_(ids)))}
    return jsonify([{"id": i, "label": _subscriber_label(subscribers[i])} for i in ids if i in subscribers])


def lookup_urls() -> dict:
    return {"madam:subscriber": url_for("lookups.lookup", kind="subscribers"),
            "madam:contract": url_for("lookups.lookup", kind="contracts"),
            "madam:meter": url_for("lookups.lookup", kind="meters")}


def _visible(model, value: str, by_number=None):
    """The id of the record the user typed (its id, or its number), if it lies in the user's regions."""
    regions = _region_ids()
    stmt = select(model.id).where(model.region_id.in_(regions))
    number = digits_only(value)
    if by_number is not None and value and not value.strip().isdigit():
        return db.session.scalar(stmt.where(by_number == value.strip().upper()))
    if number:
        found = db.session.scalar(stmt.where(model.id == int(number)))
        if found is None and by_number is not None:
            found = db.session.scalar(stmt.where(by_number == number))
        return found
    return None


def form_lookups() -> dict:
    if not current_user.is_authenticated:
        abort(401)
    return {"madam:subscriber": lambda value: _visible(Subscriber, value),
            "madam:contract": lambda value: _visible(Contract, value, Contract.subscription_no),
            "madam:meter": lambda value: _visible(Meter, value, Meter.serial)}
