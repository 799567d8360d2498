"""Subscribers, premises and service points over JSON: list/search, get, create, update."""

from flask import current_app, jsonify, request
from flask_login import current_user

import subscribers.messages  # noqa: F401  (the Persian words for the registry's errors)
from api import bp
from api.access import api_requires, check_region, found, region_ids
from core.db import db
from core.permissions import SUBSCRIBERS_EDIT, SUBSCRIBERS_VIEW
from subscribers import operations, queries, schemas
from subscribers.models import Premise, ServicePoint, Subscriber
from subscribers.search import search

PAGE_SIZE = 50


def page_number() -> int:
    return max(request.args.get("page", 1, type=int), 1)


def body(schema) -> dict:
    return schema().load(request.get_json(silent=True) or {})


def subscriber_in_region(subscriber_id: int, permission: str) -> Subscriber:
    subscriber = found(Subscriber, subscriber_id)
    check_region(permission, subscriber.region_id)
    return subscriber


@bp.get("/subscribers")
@api_requires(SUBSCRIBERS_VIEW)
def subscribers_list():
    regions = region_ids(SUBSCRIBERS_VIEW)
    q = request.args.get("q", "").strip()[:200]
    if q:
        hits = search(db.session, q, regions, limit=min(request.args.get("limit", 20, type=int), 100))
        people = queries.subscribers_by_id(db.session, [h.subscriber_id for h in hits])
        return jsonify(results=[{**schemas.HitOut().dump(h),
                                 "subscriber": schemas.SubscriberOut().dump(people[h.subscriber_id])
                                 if h.subscriber_id in people else None} for h in hits])
    rows, total = queries.scoped_list(db.session, Subscriber, regions, page_number(), PAGE_SIZE)
    return jsonify(total=total, page=page_number(), items=schemas.SubscriberOut(many=True).dump(rows))


@bp.get("/subscribers/<int:subscriber_id>")
@api_requires(SUBSCRIBERS_VIEW)
def subscriber_get(subscriber_id: int):
    return jsonify(schemas.SubscriberOut().dump(subscriber_in_region(subscriber_id, SUBSCRIBERS_VIEW)))


@bp.post("/subscribers")
@api_requires(SUBSCRIBERS_EDIT)
def subscriber_create():
    data = body(schemas.SubscriberIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    subscriber = operations.create_subscriber(db.session, current_user, data)
    db.session.commit()
    return jsonify(schemas.SubscriberOut().dump(subscriber)), 201


@bp.patch("/subscribers/<int:subscriber_id>")
@api_requires(SUBSCRIBERS_EDIT)
def subscriber_update(subscriber_id: int):
    subscriber = subscriber_in_region(subscriber_id, SUBSCRIBERS_EDIT)
    data = body(schemas.SubscriberIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    operations.update_subscriber(db.session, current_user, subscriber, data)
    db.session.commit()
    return jsonify(schemas.SubscriberOut().dump(subscriber))


@bp.get("/premises")
@api_requires(SUBSCRIBERS_VIEW)
def premises_list():
    subscriber_id = request.args.get("subscriber_id", type=int)
    if subscriber_id is not None:
        subscriber = subscriber_in_region(subscriber_id, SUBSCRIBERS_VIEW)
        contracts = queries.subscriber_contracts(db.session, subscriber.id)
        rows = queries.subscriber_premises(db.session, subscriber.id, contracts)
        return jsonify(total=len(rows), page=1, items=schemas.PremiseOut(many=True).dump(rows))
    rows, total = queries.scoped_list(db.session, Premise, region_ids(SUBSCRIBERS_VIEW), page_number(), PAGE_SIZE)
    return jsonify(total=total, page=page_number(), items=schemas.PremiseOut(many=True).dump(rows))


def premise_in_region(premise_id: int, permission: str) -> Premise:
    premise = found(Premise, premise_id)
    check_region(permission, premise.region_id)
    return premise


@bp.get("/premises/<int:premise_id>")
@api_requires(SUBSCRIBERS_VIEW)
def premise_get(premise_id: int):
    premise = premise_in_region(premise_id, SUBSCRIBERS_VIEW)
    return jsonify({**schemas.PremiseOut().dump(premise),
                    "service_points": schemas.ServicePointOut(many=True).dump(premise.service_points)})


@bp.post("/premises")
@api_requires(SUBSCRIBERS_EDIT)
def premise_create():
    data = body(schemas.PremiseIn)
    subscriber = subscriber_in_region(data["subscriber_id"], SUBSCRIBERS_EDIT) if data.get("subscriber_id") else None
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    premise = operations.create_premise(db.session, current_user, subscriber, data)
    db.session.commit()
    return jsonify(schemas.PremiseOut().dump(premise)), 201


@bp.patch("/premises/<int:premise_id>")
@api_requires(SUBSCRIBERS_EDIT)
def premise_update(premise_id: int):
    premise = premise_in_region(premise_id, SUBSCRIBERS_EDIT)
    data = body(schemas.PremiseIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    operations.update_premise(db.session, current_user, premise, data)
    db.session.commit()
    return jsonify(schemas.PremiseOut().dump(premise))


@bp.post("/premises/<int:premise_id>/service-points")
@api_requires(SUBSCRIBERS_EDIT)
def service_point_create(premise_id: int):
    premise = premise_in_region(premise_id, SUBSCRIBERS_EDIT)
    point = operations.add_service_point(db.session, current_user, premise, body(schemas.ServicePointIn))
    db.session.commit()
    return jsonify(schemas.ServicePointOut().dump(point)), 201


def service_point_in_region(point_id: int, permission: str) -> ServicePoint:
    point = found(ServicePoint, point_id)
    check_region(permission, point.premise.region_id)
    return point


def company_code() -> str:
    return current_app.config.get("MADAM_COMPANY_CODE", "101")
