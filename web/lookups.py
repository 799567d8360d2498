"""The registry behind the forms' platform components: as-you-type lookups and the checks of a submission.

`/lookup/<kind>?q=…` answers [{"id", "label"}] for subscribers, contracts and meters the user may see;
`form_lookups()` gives engine.formschema.validate_submission the functions that turn what was typed
(an id, a subscription number, a meter serial) into the id of a record in the user's regions;
`request_lookups(instance, schema)` adds the ones that belong to a request: its document uploads.
"""

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select

from billing.tariffs import tariff_types
from core import permissions as p
from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.text import digits_only, normalize_persian
from engine import formschema as fs
from subscribers import documents
from subscribers.enums import DocumentKind
from subscribers.models import Contract, Document, Meter, Subscriber
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
            "madam:meter": lambda value: _visible(Meter, value, Meter.serial),
            fs.TARIFF_TYPE: _tariff_type}


def tariff_type_options(utility: str | None) -> list[tuple[str, str]]:
    """(value, label) of the active tariff types: the registry's word (residential, …) that contracts hold,
    labelled with the utility's code and name; without a utility, each word once."""
    rows = tariff_types(db.session, utility or None, active_only=True)
    if utility:
        return [(t.slug, f"{t.code} — {t.name}") for t in rows]
    first_names: dict[str, str] = {}
    for t in rows:
        first_names.setdefault(t.slug, t.name)
    return list(first_names.items())


def _tariff_type(value: str) -> str | None:
    """The registry's word for a tariff type typed or chosen by its word or its code."""
    typed = value.strip().lower()
    for t in tariff_types(db.session, active_only=True):
        if typed in (t.slug, t.code):
            return t.slug
    return None


def request_lookups(instance, schema: dict) -> dict:
    """form_lookups() plus the document upload of a request's form: a file is stored as the request's
    document (and its subscriber's, when the request has one), in the caller's transaction; a typed id must
    name a document of this request or of its subscriber."""
    kinds = {c["key"]: (c.get("properties") or {}).get("documentKind") for c in fs.fields(schema)
             if c.get("type") == fs.DOCUMENT}

    def resolve(value):
        if hasattr(value, "stream"):  # an upload: werkzeug's FileStorage, named after its field
            kind = kinds.get(value.name)
            return attach_to_request(instance, kind if kind in set(DocumentKind) else DocumentKind.OTHER,
                                     value).id
        number = digits_only(str(value))
        document = db.session.get(Document, int(number)) if number else None
        return document.id if document is not None and belongs_to(document, instance) else None

    return {**form_lookups(), fs.DOCUMENT: resolve}


def attach_to_request(instance, kind: str, upload) -> Document:
    """Store an uploaded file as the request's document; a refusal (too large, a type not accepted) is raised
    as formschema.Refused with the user's message."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    try:
        return documents.attach_document(
            db.session, current_user, subscriber_id=instance.subscriber_id, kind=kind, filename=upload.filename,
            content=upload.stream.read(limit + 1), upload_dir=current_app.config["MADAM_UPLOAD_DIR"],
            max_bytes=limit, contract_id=instance.contract_id, request_id=instance.id)
    except DomainError as error:
        raise fs.Refused(message_for(error)) from None


def belongs_to(document: Document, instance) -> bool:
    return document.request_id == instance.id or (
        instance.subscriber_id is not None and document.subscriber_id == instance.subscriber_id)
