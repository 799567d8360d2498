"""Contracts and meters over JSON: list, get, open/register, update, transfer, install, remove."""

from flask import jsonify

from api import bp
from api import schemas as api_schemas
from api.access import actor, api_requires, check_region, found, region_ids
from api.common import load_query
from api.openapi import doc
from api.subscribers import (
    body,
    company_code,
    page_number,
    paged,
    per_page,
    service_point_in_region,
    subscriber_in_region,
)
from core.db import db
from core.permissions import SUBSCRIBERS_EDIT, SUBSCRIBERS_VIEW
from subscribers import contract_ops, meter_ops, queries, schemas
from subscribers.models import Contract, Meter


def contract_in_region(contract_id: int, permission: str) -> Contract:
    contract = found(Contract, contract_id)
    check_region(permission, contract.region_id)
    return contract


@bp.get("/contracts")
@doc("Contracts in the caller's regions (or a subscriber's)", tag="registry",
     query=api_schemas.RegistryListQuery, out=schemas.ContractOut, page=True)
@api_requires(SUBSCRIBERS_VIEW)
def contracts_list():
    subscriber_id = load_query(api_schemas.RegistryListQuery).get("subscriber_id")
    if subscriber_id is not None:
        rows = queries.subscriber_contracts(db.session, subscriber_in_region(subscriber_id, SUBSCRIBERS_VIEW).id)
        return jsonify(total=len(rows), page=1, per_page=max(len(rows), 1),
                       items=schemas.ContractOut(many=True).dump(rows))
    rows, total = queries.scoped_list(db.session, Contract, region_ids(SUBSCRIBERS_VIEW), page_number(), per_page())
    return paged(schemas.ContractOut, rows, total)


@bp.get("/contracts/<id:contract_id>")
@doc("A contract with its history (earlier owners' revisions)", tag="registry", out=api_schemas.ContractDetailOut)
@api_requires(SUBSCRIBERS_VIEW)
def contract_get(contract_id: int):
    contract = contract_in_region(contract_id, SUBSCRIBERS_VIEW)
    history = contract_ops.contract_history(db.session, contract.subscription_no)
    return jsonify({**schemas.ContractOut().dump(contract),
                    "history": schemas.ContractOut(many=True, only=("id", "revision", "subscriber_id", "start_date",
                                                                   "end_date", "status")).dump(history)})


@bp.post("/contracts")
@doc("Open a contract on a service point", tag="registry", body=schemas.ContractIn, out=schemas.ContractOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def contract_open():
    data = body(schemas.ContractIn)
    service_point_in_region(data["service_point_id"], SUBSCRIBERS_EDIT)
    subscriber_in_region(data["subscriber_id"], SUBSCRIBERS_VIEW)
    contract = contract_ops.open_contract(db.session, actor(), data["subscriber_id"], data["service_point_id"],
                                          data["start_date"], data, company_code=company_code())
    db.session.commit()
    return jsonify(schemas.ContractOut().dump(contract)), 201


@bp.post("/contracts/<id:contract_id>/transfer")
@doc("Transfer a contract to a new owner", tag="registry", body=schemas.TransferIn, out=schemas.ContractOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def contract_transfer(contract_id: int):
    contract_in_region(contract_id, SUBSCRIBERS_EDIT)
    data = body(schemas.TransferIn)
    subscriber_in_region(data["new_owner_id"], SUBSCRIBERS_VIEW)
    terms = {k: data[k] for k in ("tariff_type", "contracted_demand", "discount_category") if k in data}
    successor = contract_ops.transfer_contract(db.session, actor(), contract_id, data["new_owner_id"],
                                               data["on"], terms)
    db.session.commit()
    return jsonify(schemas.ContractOut().dump(successor)), 201


@bp.post("/contracts/<id:contract_id>/close")
@doc("Close a contract", tag="registry", body=schemas.CloseIn, out=schemas.ContractOut)
@api_requires(SUBSCRIBERS_EDIT)
def contract_close(contract_id: int):
    contract_in_region(contract_id, SUBSCRIBERS_EDIT)
    contract = contract_ops.close_contract(db.session, actor(), contract_id, body(schemas.CloseIn)["on"])
    db.session.commit()
    return jsonify(schemas.ContractOut().dump(contract))


@bp.get("/meters")
@doc("Meters in the caller's regions, newest first", tag="registry",
     query=api_schemas.PageQuery, out=schemas.MeterOut, page=True)
@api_requires(SUBSCRIBERS_VIEW)
def meters_list():
    load_query(api_schemas.PageQuery)
    rows, total = queries.scoped_list(db.session, Meter, region_ids(SUBSCRIBERS_VIEW), page_number(), per_page())
    return paged(schemas.MeterOut, rows, total)


@bp.get("/meters/<id:meter_id>")
@doc("A meter", tag="registry", out=schemas.MeterOut)
@api_requires(SUBSCRIBERS_VIEW)
def meter_get(meter_id: int):
    meter = found(Meter, meter_id)
    check_region(SUBSCRIBERS_VIEW, meter.region_id)
    return jsonify(schemas.MeterOut().dump(meter))


@bp.post("/meters")
@doc("Register a meter (in stock)", tag="registry", body=schemas.MeterIn, out=schemas.MeterOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def meter_register():
    data = body(schemas.MeterIn)
    check_region(SUBSCRIBERS_EDIT, data.get("region_id"))
    meter = meter_ops.register_meter(db.session, actor(), data)
    db.session.commit()
    return jsonify(schemas.MeterOut().dump(meter)), 201


@bp.get("/service-points/<id:point_id>/meters")
@doc("A service point's meter installations", tag="registry", out=schemas.InstallationOut, many=True)
@api_requires(SUBSCRIBERS_VIEW)
def meter_history(point_id: int):
    service_point_in_region(point_id, SUBSCRIBERS_VIEW)
    rows = meter_ops.meter_history(db.session, point_id)
    return jsonify(items=schemas.InstallationOut(many=True).dump(rows))


@bp.post("/service-points/<id:point_id>/meter")
@doc("Install a meter on a service point", tag="registry",
     body=schemas.InstallIn, out=schemas.InstallationOut, status=201)
@api_requires(SUBSCRIBERS_EDIT)
def meter_install(point_id: int):
    service_point_in_region(point_id, SUBSCRIBERS_EDIT)
    data = body(schemas.InstallIn)
    meter = found(Meter, data["meter_id"])
    check_region(SUBSCRIBERS_EDIT, meter.region_id)
    installation = meter_ops.install_meter(db.session, actor(), meter.id, point_id, data["on"], data["readings"])
    db.session.commit()
    return jsonify(schemas.InstallationOut().dump(installation)), 201


@bp.post("/service-points/<id:point_id>/meter/remove")
@doc("Remove the installed meter", tag="registry", body=schemas.RemoveIn, out=schemas.InstallationOut)
@api_requires(SUBSCRIBERS_EDIT)
def meter_remove(point_id: int):
    service_point_in_region(point_id, SUBSCRIBERS_EDIT)
    data = body(schemas.RemoveIn)
    installation = meter_ops.remove_meter(db.session, actor(), point_id, data["on"], data["readings"],
                                          data.get("reason", ""), data.get("meter_status", "in_stock"))
    db.session.commit()
    return jsonify(schemas.InstallationOut().dump(installation))
