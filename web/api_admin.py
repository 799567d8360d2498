"""Admin pages for the integration API: clients and their tokens, webhook subscriptions, the delivery log.

`web` may not import `api`; the composition root hands the API's admin functions to the app as
`app.extensions["madam_api_admin"]` (api/admin_service.py), and these pages call them through it.
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.permissions import API_MANAGE, PERMISSIONS
from core.regions import Region
from web.access import requires

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api")

EVENT_LABELS = {"request.completed": _l("Request completed"), "payment.posted": _l("Payment posted"),
                "bill.issued": _l("Bill issued")}


@bp.app_template_filter("webhook_event")
def webhook_event(code: str) -> str:
    return str(EVENT_LABELS.get(code, code))


def service():
    found = current_app.extensions.get("madam_api_admin")
    if found is None:
        abort(404)
    return found


def _regions():
    return list(db.session.scalars(select(Region).order_by(Region.path)))


def _clients_page(status=200, **extra):
    return render_template("api_admin/clients.html", clients=service().list_clients(db.session),
                           permissions=PERMISSIONS, regions=_regions(), **extra), status


@bp.get("/clients")
@requires(API_MANAGE)
def clients():
    return _clients_page()


@bp.post("/clients")
@requires(API_MANAGE)
def client_create():
    form = request.form
    try:
        rate_limit = int(form.get("rate_limit") or 600)
    except ValueError:
        rate_limit = 0
    try:
        client, token = service().create_client(
            db.session, current_user, form.get("name", ""), form.getlist("scopes"),
            [int(r) for r in form.getlist("region_ids") if r.isdigit()], form.get("description", ""), rate_limit)
    except DomainError as error:
        db.session.rollback()
        return _clients_page(422, error=message_for(error), form=form)
    db.session.commit()
    return _clients_page(201, new_token=token, token_client=client)


@bp.post("/clients/<int:client_id>/tokens")
@requires(API_MANAGE)
def token_issue(client_id: int):
    client = service().get_client(db.session, client_id)
    if client is None:
        abort(404)
    token = service().issue_token(db.session, current_user, client)
    db.session.commit()
    return _clients_page(201, new_token=token, token_client=client)


@bp.post("/tokens/<int:token_id>/revoke")
@requires(API_MANAGE)
def token_revoke(token_id: int):
    try:
        service().revoke_token(db.session, current_user, token_id)
    except DomainError:
        abort(404)
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for(".clients"))


@bp.post("/clients/<int:client_id>/active")
@requires(API_MANAGE)
def client_active(client_id: int):
    try:
        service().set_client_active(db.session, current_user, client_id, request.form.get("active") == "1")
    except DomainError:
        abort(404)
    db.session.commit()
    return redirect(url_for(".clients"))


def _webhooks_page(status=200, **extra):
    return render_template("api_admin/webhooks.html", subscriptions=service().list_webhooks(db.session),
                           events=service().EVENTS, clients=[c for c, _t in service().list_clients(db.session)],
                           **extra), status


@bp.get("/webhooks")
@requires(API_MANAGE)
def webhooks():
    return _webhooks_page()


@bp.post("/webhooks")
@requires(API_MANAGE)
def webhook_create():
    client_id = request.form.get("client_id", "")
    try:
        subscription = service().subscribe(db.session, current_user, request.form.get("url", ""),
                                           request.form.getlist("events"),
                                           int(client_id) if client_id.isdigit() else None)
    except DomainError as error:
        db.session.rollback()
        return _webhooks_page(422, error=message_for(error), form=request.form)
    db.session.commit()
    return _webhooks_page(201, new_secret=subscription.secret, secret_subscription=subscription)


@bp.post("/webhooks/<int:subscription_id>/active")
@requires(API_MANAGE)
def webhook_active(subscription_id: int):
    try:
        service().set_webhook_active(db.session, current_user, subscription_id, request.form.get("active") == "1")
    except DomainError:
        abort(404)
    db.session.commit()
    return redirect(url_for(".webhooks"))


@bp.get("/deliveries")
@requires(API_MANAGE)
def deliveries():
    status = request.args.get("status") if request.args.get("status") in ("pending", "delivered", "failed") else None
    subscription_id = request.args.get("subscription_id", type=int)
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = service().deliveries(db.session, status, subscription_id, page, 50)
    return render_template("api_admin/deliveries.html", rows=rows, total=total, page=page, status=status,
                           subscription_id=subscription_id, pages=max((total + 49) // 50, 1))


@bp.post("/deliveries/<int:delivery_id>/redeliver")
@requires(API_MANAGE)
def redeliver(delivery_id: int):
    try:
        service().redeliver(db.session, current_user, delivery_id)
    except DomainError:
        abort(404)
    db.session.commit()
    flash(_("The delivery will be sent again."), "success")
    return redirect(url_for(".deliveries"))
