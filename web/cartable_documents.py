"""Documents on a request: attached from the task page, and downloaded by whoever may see the request."""

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import permissions as p
from core.db import db
from engine import events, formschema
from subscribers import documents
from subscribers.enums import DocumentKind
from subscribers.models import Document
from web.access import requires
from web.cartable import _item_for_me, _page, bp
from web.lookups import attach_to_request, belongs_to
from web.subscribers import DOCUMENT_KINDS


@bp.context_processor
def _document_kinds():
    return {"document_kinds": DOCUMENT_KINDS, "document_kind_labels": dict(DOCUMENT_KINDS)}


@bp.post("/cartable/items/<int:item_id>/documents")
@requires(p.CARTABLE_USE)
def attach(item_id: int):
    item = _item_for_me(item_id)
    upload = request.files.get("file")
    kind = request.form.get("kind") or ""
    if upload is None or not upload.filename:
        return _page(item, status=422, message=_("Choose the file to attach."))
    if kind not in set(DocumentKind):
        return _page(item, status=422, message=_("Choose the document type."))
    try:
        document = attach_to_request(item.instance, kind, upload)
    except formschema.Refused as refusal:
        db.session.rollback()
        return _page(item, status=422, message=str(refusal))
    events.record(db.session, item.instance, current_user, "document_attached", item.task_name, item,
                  note=document.filename, data={"document_id": document.id, "kind": kind})
    db.session.commit()
    flash(_("The document was attached."), "success")
    return redirect(url_for(".task", item_id=item.id, _anchor="documents"))


@bp.get("/cartable/items/<int:item_id>/documents/<int:document_id>")
@requires(p.CARTABLE_USE)
def document(item_id: int, document_id: int):
    item = _item_for_me(item_id)
    found = db.session.get(Document, document_id)
    if found is None or not belongs_to(found, item.instance):
        abort(404)
    path = documents.stored_path(current_app.config["MADAM_UPLOAD_DIR"], found.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=found.content_type, as_attachment=True, download_name=found.filename,
                         max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
