"""The engine over JSON: procedures (deployed processes), requests (instances) and work items."""

from flask import abort, jsonify
from sqlalchemy import select

from api import bp, schemas
from api.access import actor, api_requires, check_region, found, region_ids
from api.common import load_body, load_query, page_of, paged
from api.openapi import doc
from core.db import db
from core.permissions import CARTABLE_USE, INSTANCES_ADMIN
from core.regions import Region
from engine import catalogue, queries, runtime
from engine.models import Instance, ProcessVersion, WorkItem
from subscribers.models import Contract


@bp.get("/processes")
@doc("Procedures: the latest deployed version of each", tag="engine", out=schemas.ProcessOut, many=True)
@api_requires(CARTABLE_USE)
def processes_list():
    return jsonify(items=schemas.ProcessOut(many=True).dump(catalogue.latest_versions(db.session)))


@bp.get("/processes/<process_key>")
@doc("A procedure's versions, newest first", tag="engine", out=schemas.ProcessOut, many=True)
@api_requires(CARTABLE_USE)
def process_versions(process_key: str):
    rows = list(db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_key == process_key)
                                   .order_by(ProcessVersion.version.desc())))
    if not rows:
        abort(404)
    return jsonify(items=schemas.ProcessOut(many=True).dump(rows))


@bp.get("/instances")
@doc("Requests (procedure instances) in the caller's regions, newest first", tag="engine",
     query=schemas.InstanceQuery, out=schemas.InstanceOut, page=True)
@api_requires(INSTANCES_ADMIN)
def instances_list():
    args = load_query(schemas.InstanceQuery)
    stmt = select(Instance).where(Instance.region_id.in_(region_ids(INSTANCES_ADMIN))).order_by(Instance.id.desc())
    for name in ("status", "process_key", "business_key", "contract_id", "subscriber_id"):
        if name in args:
            stmt = stmt.where(getattr(Instance, name) == args[name])
    rows, total = page_of(stmt, args["page"], args["per_page"])
    return paged(schemas.InstanceOut, rows, total, args["page"], args["per_page"])


@bp.get("/instances/<id:instance_id>")
@doc("A request with its history and its work items", tag="engine", out=schemas.InstanceDetailOut)
@api_requires(INSTANCES_ADMIN)
def instance_get(instance_id: int):
    instance = found(Instance, instance_id)
    check_region(INSTANCES_ADMIN, instance.region_id)
    items = db.session.scalars(select(WorkItem).where(WorkItem.instance_id == instance.id).order_by(WorkItem.id))
    out = schemas.InstanceOut().dump(instance)
    out["events"] = schemas.EventOut(many=True).dump(queries.timeline(db.session, instance.id))
    out["work_items"] = schemas.WorkItemOut(many=True).dump(items)
    return jsonify(out)


@bp.post("/instances")
@doc("Start a request of a procedure in a region", tag="engine", body=schemas.StartIn, out=schemas.InstanceOut,
     status=201)
@api_requires(CARTABLE_USE)
def instance_start():
    data = load_body(schemas.StartIn)
    region = db.session.get(Region, data["region_id"])
    if region is None:
        abort(404)
    check_region(CARTABLE_USE, region.id)
    subscriber_id = data.get("subscriber_id")
    if data.get("contract_id") is not None:
        contract = found(Contract, data["contract_id"])
        check_region(CARTABLE_USE, contract.region_id)
        subscriber_id = contract.subscriber_id
    instance = runtime.start_instance(db.session, actor(), data["process_key"], region, data["data"],
                                      subscriber_id=subscriber_id, contract_id=data.get("contract_id"))
    db.session.commit()
    return jsonify(schemas.InstanceOut().dump(instance)), 201


@bp.get("/work-items")
@doc("Work items (the cartable's rows) in the caller's regions, newest first", tag="engine",
     query=schemas.WorkItemQuery, out=schemas.WorkItemOut, page=True)
@api_requires(INSTANCES_ADMIN)
def work_items_list():
    args = load_query(schemas.WorkItemQuery)
    stmt = select(WorkItem).where(WorkItem.region_id.in_(region_ids(INSTANCES_ADMIN))).order_by(WorkItem.id.desc())
    for name in ("status", "role_code", "instance_id"):
        if name in args:
            stmt = stmt.where(getattr(WorkItem, name) == args[name])
    rows, total = page_of(stmt, args["page"], args["per_page"])
    return paged(schemas.WorkItemOut, rows, total, args["page"], args["per_page"])
