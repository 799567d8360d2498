"""The API's own objects over JSON, for admins: integration clients (a token shown once), webhook
subscriptions (their secret shown once) and the delivery log."""

from flask import jsonify

from api import bp, schemas, webhooks
from api.access import actor, api_requires, found
from api.clients import clients, create_client
from api.common import load_body, load_query, paged
from api.models import WebhookDelivery, WebhookSubscription
from api.openapi import doc
from core.db import db
from core.permissions import API_MANAGE


@bp.get("/clients")
@doc("Integration clients", tag="admin", out=schemas.ClientOut, many=True)
@api_requires(API_MANAGE)
def clients_list():
    return jsonify(items=schemas.ClientOut(many=True).dump(clients(db.session)))


@bp.post("/clients")
@doc("Register a client and issue its first token (shown only in this response)", tag="admin",
     body=schemas.ClientIn, out=schemas.ClientCreatedOut, status=201)
@api_requires(API_MANAGE)
def client_create():
    data = load_body(schemas.ClientIn)
    client, token = create_client(db.session, actor(), data["name"], data["scopes"], data["region_ids"],
                                  data["description"], data["rate_limit"])
    db.session.commit()
    return jsonify({**schemas.ClientOut().dump(client), "token": token}), 201


@bp.get("/webhooks")
@doc("Webhook subscriptions", tag="admin", out=schemas.WebhookOut, many=True)
@api_requires(API_MANAGE)
def webhooks_list():
    rows = db.session.scalars(db.select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    return jsonify(items=schemas.WebhookOut(many=True).dump(rows))


@bp.post("/webhooks")
@doc("Subscribe a URL to events (the signing secret is in this response)", tag="admin", body=schemas.WebhookIn,
     out=schemas.WebhookCreatedOut, status=201)
@api_requires(API_MANAGE)
def webhook_create():
    data = load_body(schemas.WebhookIn)
    subscription = webhooks.subscribe(db.session, actor(), data["url"], data["events"], data.get("client_id"))
    db.session.commit()
    return jsonify({**schemas.WebhookOut().dump(subscription), "secret": subscription.secret}), 201


@bp.get("/webhooks/<id:subscription_id>/deliveries")
@doc("A subscription's deliveries, newest first", tag="admin", query=schemas.DeliveryQuery,
     out=schemas.DeliveryOut, page=True)
@api_requires(API_MANAGE)
def webhook_deliveries(subscription_id: int):
    found(WebhookSubscription, subscription_id)
    args = load_query(schemas.DeliveryQuery)
    rows, total = webhooks.deliveries(db.session, args.get("status"), subscription_id, args["page"],
                                      args["per_page"])
    return paged(schemas.DeliveryOut, rows, total, args["page"], args["per_page"])


@bp.post("/webhook-deliveries/<id:delivery_id>/redeliver")
@doc("Send a delivery again now", tag="admin", out=schemas.DeliveryOut)
@api_requires(API_MANAGE)
def webhook_redeliver(delivery_id: int):
    found(WebhookDelivery, delivery_id)
    delivery = webhooks.redeliver(db.session, actor(), delivery_id)
    db.session.commit()
    return jsonify(schemas.DeliveryOut().dump(delivery))
