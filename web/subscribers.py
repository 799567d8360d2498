"""The registry's pages: the search box, the subscriber's profile, and the documents on it.

The forms that create and edit subscribers and premises are in web/subscribers_forms.py.
Every view checks the permission in the subscriber's own region; listings show only the user's regions.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField

import subscribers.messages  # noqa: F401  (the Persian words for the registry's errors)
from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.permissions import LEDGER_VIEW, SUBSCRIBERS_EDIT, SUBSCRIBERS_VIEW
from core.regions import Region
from ledger import queries as ledger_queries
from subscribers import documents, queries
from subscribers.enums import DocumentKind
from subscribers.models import Document, Subscriber
from subscribers.search import search
from web.access import can, require_region, requires, user_regions
from web.subscribers_labels import LABELS, label

bp = Blueprint("subscribers", __name__, url_prefix="/subscribers")


@bp.context_processor
def _labels():
    return {"label": label, "field_labels": LABELS}

DOCUMENT_KINDS = [
    (DocumentKind.NATIONAL_CARD, _l("National ID card")), (DocumentKind.DEED, _l("Title deed")),
    (DocumentKind.LEASE, _l("Lease")), (DocumentKind.PERMIT, _l("Building permit")),
    (DocumentKind.PHOTO, _l("Photo")), (DocumentKind.OTHER, _l("Other")),
]


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Document type"), choices=DOCUMENT_KINDS)
    file = FileField(_l("File (PDF, JPEG or PNG)"))


def region_ids(permission: str) -> list[int]:
    return [r.id for r in user_regions(permission)]


def subscriber_for(subscriber_id: int, permission: str = SUBSCRIBERS_VIEW) -> Subscriber:
    """The subscriber, or 404; 403 unless the user holds `permission` in the subscriber's region."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        abort(404)
    require_region(permission, db.session.get(Region, subscriber.region_id))
    return subscriber


def apply_error(form, error: DomainError) -> None:
    """Put a domain error's message beside its field, or above the form."""
    name = (error.field or "").split(".")[0]
    field = getattr(form, {"region_id": "region"}.get(name, name), None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, message_for(error)]
    else:
        form.form_errors.append(message_for(error))


@bp.get("")
@requires(SUBSCRIBERS_VIEW)
def search_page():
    q = request.args.get("q", "").strip()[:200]
    rows = queries.hit_rows(db.session, search(db.session, q, region_ids(SUBSCRIBERS_VIEW), limit=30)) if q else []
    return render_template("subscribers/search.html", q=q, rows=rows)


def profile_contracts(subscriber):
    return queries.subscriber_contracts(db.session, subscriber.id)


def _ledger_summary(contracts) -> list[tuple]:
    """(contract, its ledger account) for each contract that has one, when the user may see the ledger."""
    if not can(LEDGER_VIEW):
        return []
    rows = []
    for contract in contracts:
        account = ledger_queries.account_of(db.session, contract.id)
        if account is not None:
            rows.append((contract, account))
    return rows


@bp.get("/<int:subscriber_id>")
@requires(SUBSCRIBERS_VIEW)
def profile(subscriber_id: int):
    subscriber = subscriber_for(subscriber_id)
    region = db.session.get(Region, subscriber.region_id)
    return render_template(
        "subscribers/profile.html", profile=queries.profile(db.session, subscriber), region=region,
        may_edit=can(SUBSCRIBERS_EDIT, region), document_form=DocumentForm(),
        tile_url=current_app.config["MADAM_MAP_TILE_URL"], ledger=_ledger_summary(profile_contracts(subscriber)),
    )


@bp.post("/<int:subscriber_id>/documents")
@requires(SUBSCRIBERS_EDIT)
def document_upload(subscriber_id: int):
    subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        content = upload.stream.read(limit + 1) if upload else b""
        try:
            documents.attach_document(
                db.session, current_user, subscriber_id=subscriber.id, kind=form.kind.data,
                filename=upload.filename if upload else None, content=content,
                upload_dir=current_app.config["MADAM_UPLOAD_DIR"], max_bytes=limit,
            )
        except DomainError as error:
            db.session.rollback()
            apply_error(form, error)
        else:
            db.session.commit()
            flash(_("The document was attached."), "success")
            return redirect(url_for("subscribers.profile", subscriber_id=subscriber_id, _anchor="documents"))
    subscriber = subscriber_for(subscriber_id, SUBSCRIBERS_EDIT)
    region = db.session.get(Region, subscriber.region_id)
    return render_template(
        "subscribers/profile.html", profile=queries.profile(db.session, subscriber), region=region,
        may_edit=True, document_form=form, tile_url=current_app.config["MADAM_MAP_TILE_URL"],
        ledger=_ledger_summary(profile_contracts(subscriber)),
    ), 422


@bp.get("/documents/<int:document_id>")
@requires(SUBSCRIBERS_VIEW)
def document_download(document_id: int):
    document = db.session.get(Document, document_id)
    if document is None or document.subscriber_id is None:  # a request's own papers: see the cartable
        abort(404)
    subscriber_for(document.subscriber_id)
    path = documents.stored_path(current_app.config["MADAM_UPLOAD_DIR"], document.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=document.content_type, as_attachment=True,
                         download_name=document.filename, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def init(app) -> None:
    from web import subscribers_forms  # noqa: F401  (adds its views to the blueprint)

    app.register_blueprint(bp)
