"""Subscribers, premises and service points over JSON: list/search, get, create, update."""

from flask import current_app, jsonify, request

import subscribers.messages  # noqa: F401  (the Persian words for the registry's errors)
from api import bp
from api import schemas as api_schemas
from api.access import actor, api_requires, check_region, found, region_ids
from api.common import load_query
from api.openapi import doc
from core.db import db
from core.permissions import SUBSCRIBERS_EDIT, SUBSCRIBERS_VIEW
from subscribers import operations, queries, schemas
from subscribers.models import Premise, ServicePoint, Subscriber
from subscribers.search import search

PAGE_SIZE = 50


def page_number() -> int:
    return min(max(request.args.get("page", 1, type=int), 1), 100_000)


def per_page() -> int:
    return min(max(request.args.get("per_page", PAGE_SIZE, type=int), 1), 200)


def paged(schema, rows, total):
    return jsonify(total=total, page=page_number(), per_page=per_page(), items=schema(many=True).dump(rows))


def body(schema) -> dict:
    return schema().load(request.get_json(silent=True) or {})


def subscriber_in_region(subscriber_id: int, permission: str) -> Subscriber:
    subscriber = found(Subscriber, subscriber_id)
    check_region(permission, subscriber.region_id)
    return subscriber


@bp.get("/subscribers")
@doc("Subscribers in the caller's regions, newest first; with `q`, a search (its hits in `results`)",
     tag="registry", query=api_schemas.SubscriberQuery, out=api_schemas.SubscriberSearchOut)
@api_requires(SUBSCRIBERS_VIEW)
def subscribers_list():
    args = load_query(api_schemas.SubscriberQuery)
    regions = region_ids(SUBSCRIBERS_VIEW)
    q = args.get("q", "").strip()[:200]
    if q:
        hits = search(db.session, q, regions, limit=args["limit"])
        people = queries.subscribers_by_id(db.session, [h.subscriber_id for h in hits])
        found_people = [people[h.subscriber_id] for h in hits if h.subscriber_id in people]
        return jsonify(total=len(found_people), page=1, per_page=args["limit"],
                       items=schemas.SubscriberOut(many=True).dump(found_people),
                       results=[{**schemas.HitOut().dump(h),
                                 "subscriber": schemas.SubscriberOut().dump(people[h.subscriber_id])
                                 if h.subscriber_id in people else None} for h in hits])
    rows, total = queries.scoped_list(db.session, Subscriber, regions, args["page"], args["per_page"])
    return jsonify(total=total, page=args["page"], per_page=args["per_page"],
                   items=schemas.SubscriberOut(many=True).dump(rows))


@bp.get("/subscribers/<id:subscriber_id>")
@doc("A subscriber", tag="registry", out=schemas.SubscriberOut)
@api_requires(SUBSCRIBERS_VIEW)
def subscriber_get(subscriber_id: int):
    return jsonify(schemas.SubscriberOut().dump(subscriber_in_region(subscriber_id, SUBSCRIBERS_VIEW)))


@bp.post("/subscribers")
@doc("Register a subscriber", tag="registry", body=schemas.SubscriberIn, out=schemas.SubscriberOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def subscriber_create():
    data = body(schemas.SubscriberIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    subscriber = operations.create_subscriber(db.session, actor(), data)
    db.session.commit()
    return jsonify(schemas.SubscriberOut().dump(subscriber)), 201


@bp.patch("/subscribers/<id:subscriber_id>")
@doc("Change a subscriber", tag="registry", body=schemas.SubscriberIn, out=schemas.SubscriberOut)
@api_requires(SUBSCRIBERS_EDIT)
def subscriber_update(subscriber_id: int):
    subscriber = subscriber_in_region(subscriber_id, SUBSCRIBERS_EDIT)
    data = body(schemas.SubscriberIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    operations.update_subscriber(db.session, actor(), subscriber, data)
    db.session.commit()
    return jsonify(schemas.SubscriberOut().dump(subscriber))


@bp.get("/premises")
@doc("Premises in the caller's regions (or a subscriber's)", tag="registry",
     query=api_schemas.RegistryListQuery, out=schemas.PremiseOut, page=True)
@api_requires(SUBSCRIBERS_VIEW)
def premises_list():
    subscriber_id = load_query(api_schemas.RegistryListQuery).get("subscriber_id")
    if subscriber_id is not None:
        subscriber = subscriber_in_region(subscriber_id, SUBSCRIBERS_VIEW)
        contracts = queries.subscriber_contracts(db.session, subscriber.id)
        rows = queries.subscriber_premises(db.session, subscriber.id, contracts)
        return jsonify(total=len(rows), page=1, per_page=max(len(rows), 1),
                       items=schemas.PremiseOut(many=True).dump(rows))
    rows, total = queries.scoped_list(db.session, Premise, region_ids(SUBSCRIBERS_VIEW), page_number(), per_page())
    return paged(schemas.PremiseOut, rows, total)


def premise_in_region(premise_id: int, permission: str) -> Premise:
    premise = found(Premise, premise_id)
    check_region(permission, premise.region_id)
    return premise


@bp.get("/premises/<id:premise_id>")
@doc("A premise with its service points", tag="registry", out=api_schemas.PremiseDetailOut)
@api_requires(SUBSCRIBERS_VIEW)
def premise_get(premise_id: int):
    premise = premise_in_region(premise_id, SUBSCRIBERS_VIEW)
    return jsonify({**schemas.PremiseOut().dump(premise),
                    "service_points": schemas.ServicePointOut(many=True).dump(premise.service_points)})


@bp.post("/premises")
@doc("Register a premise", tag="registry", body=schemas.PremiseIn, out=schemas.PremiseOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def premise_create():
    data = body(schemas.PremiseIn)
    subscriber = subscriber_in_region(data["subscriber_id"], SUBSCRIBERS_EDIT) if data.get("subscriber_id") else None
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    premise = operations.create_premise(db.session, actor(), subscriber, data)
    db.session.commit()
    return jsonify(schemas.PremiseOut().dump(premise)), 201


@bp.patch("/premises/<id:premise_id>")
@doc("Change a premise", tag="registry", body=schemas.PremiseIn, out=schemas.PremiseOut)
@api_requires(SUBSCRIBERS_EDIT)
def premise_update(premise_id: int):
    premise = premise_in_region(premise_id, SUBSCRIBERS_EDIT)
    data = body(schemas.PremiseIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    operations.update_premise(db.session, actor(), premise, data)
    db.session.commit()
    return jsonify(schemas.PremiseOut().dump(premise))


@bp.post("/premises/<id:premise_id>/service-points")
@doc("Add a service point to a premise", tag="registry",
     body=schemas.ServicePointIn, out=schemas.ServicePointOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def service_point_create(premise_id: int):
    premise = premise_in_region(premise_id, SUBSCRIBERS_EDIT)
    point = operations.add_service_point(db.session, actor(), premise, body(schemas.ServicePointIn))
    db.session.commit()
    return jsonify(schemas.ServicePointOut().dump(point)), 201


def service_point_in_region(point_id: int, permission: str) -> ServicePoint:
    point = found(ServicePoint, point_id)
    check_region(permission, point.premise.region_id)
    return point


def company_code() -> str:
    return current_app.config.get("MADAM_COMPANY_CODE", "101")
