"""Billing over JSON: tariff types and published tariffs, quotes, meter readings (one, or a CSV of many),
a contract's bills, and issuing its next bill."""

from flask import abort, jsonify
from flask_babel import force_locale
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from api import bp, problems
from api.access import actor, api_requires, check_region, found, region_ids
from api.common import load_body, load_query, today
from api.openapi import doc
from billing import bills, readings, tariffs
from billing.calculation import UsageInvalid, quote, usage_from_json
from billing.models import Bill, TariffVersion, VersionStatus
from billing.tariff import TariffInvalid
from core.db import db
from core.errors import DomainError
from core.messages import message_for
from core.permissions import BILLING_RUN, BILLING_VIEW
from subscribers.models import Contract

ID = {"strict": True, "validate": validate.Range(min=1, max=999_999_999_999)}
UTILITIES = ["electricity", "water", "gas"]


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class TariffTypeQuery(_In):
    utility = fields.String(validate=validate.OneOf(UTILITIES))


class TariffTypeOut(Schema):
    id = fields.Integer()
    utility = fields.String()
    code = fields.String()
    slug = fields.String()
    name = fields.String()
    active = fields.Boolean()


class TariffQuery(_In):
    tariff_type_id = fields.Integer(validate=ID["validate"])


class TariffOut(Schema):
    id = fields.Integer()
    tariff_type_id = fields.Integer()
    code = fields.String()
    effective_from = fields.Date()
    name = fields.String()
    is_example = fields.Boolean()


class TariffDetailOut(TariffOut):
    data = fields.Dict(metadata={"description": "the tariff JSON (docs/tariffs.md)"})


class QuoteIn(_In):
    tariff_type_id = fields.Integer(required=True, **ID)
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    usage = fields.Dict(required=True, metadata={"description": "start, end, registers, climate_zone… "
                                                               "(docs/tariffs.md)"})


class QuoteLineOut(Schema):
    code = fields.String()
    label = fields.String()
    quantity = fields.String()
    unit = fields.String()
    rate = fields.String()
    amount = fields.Integer()
    charge_type = fields.String()
    segment = fields.String()


class QuoteOut(Schema):
    lines = fields.List(fields.Nested(QuoteLineOut))
    charges = fields.Integer()
    vat = fields.Integer()
    levies = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()
    brought_forward = fields.Integer()
    rounding = fields.Integer()
    payable = fields.Integer()


class ReadingIn(_In):
    register = fields.String(required=True, validate=validate.OneOf(["single", "peak", "mid", "offpeak",
                                                                      "reactive"]))
    read_on = fields.Date(required=True)
    value = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10**15))
    source = fields.String(load_default="read", validate=validate.OneOf(["read", "estimated", "customer"]))
    reader_name = fields.String(load_default="", validate=validate.Length(max=100))


class ReadingOut(Schema):
    id = fields.Integer()
    contract_id = fields.Integer()
    meter_id = fields.Integer()
    register = fields.String()
    read_on = fields.Date()
    value = fields.Integer()
    consumption = fields.Integer()
    source = fields.String()
    flags = fields.List(fields.String())
    override_reason = fields.String()
    bill_id = fields.Integer(allow_none=True)


class ReadingsCsvIn(_In):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=5_000_000),
                        metadata={"description": "lines of serial,register,date (Jalali),value[,source[,reader]]"})


class ReadingLineOut(Schema):
    line = fields.Integer()
    ok = fields.Boolean()
    code = fields.String()
    message = fields.String()
    reading_id = fields.Integer(allow_none=True)


class ReadingsCsvOut(Schema):
    saved = fields.Integer()
    refused = fields.Integer()
    lines = fields.List(fields.Nested(ReadingLineOut))


class BillOut(Schema):
    id = fields.Integer()
    contract_id = fields.Integer()
    period = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    status = fields.String()
    bill_id = fields.String()
    payment_id = fields.String()
    issued_on = fields.Date()
    due_on = fields.Date()
    charges = fields.Integer()
    vat = fields.Integer()
    levies = fields.Integer()
    total = fields.Integer()
    brought_forward = fields.Integer()
    rounding = fields.Integer()
    payable = fields.Integer()
    sequence = fields.Integer()


class BillDetailOut(BillOut):
    quote = fields.Dict()
    readings = fields.Dict()


class IssueIn(_In):
    issued_on = fields.Date()


def contract_in_region(contract_id: int, permission: str) -> Contract:
    contract = found(Contract, contract_id)
    check_region(permission, contract.region_id)
    return contract


def _field_errors(invalid) -> dict:
    errors: dict[str, list] = {}
    for error in invalid.errors:
        errors.setdefault(error["field"] or "_", []).append(str(error["message"]))
    return errors


@bp.get("/tariff-types")
@doc("Tariff types (of a utility)", tag="billing", query=TariffTypeQuery, out=TariffTypeOut, many=True)
@api_requires(BILLING_VIEW)
def tariff_types_list():
    utility = load_query(TariffTypeQuery).get("utility")
    return jsonify(items=TariffTypeOut(many=True).dump(tariffs.tariff_types(db.session, utility)))


def _published():
    return select(TariffVersion).where(TariffVersion.status == VersionStatus.PUBLISHED)


@bp.get("/tariffs")
@doc("Published tariff versions (of a tariff type)", tag="billing", query=TariffQuery, out=TariffOut, many=True)
@api_requires(BILLING_VIEW)
def tariffs_list():
    stmt = _published().order_by(TariffVersion.tariff_type_id, TariffVersion.code, TariffVersion.effective_from)
    if (type_id := load_query(TariffQuery).get("tariff_type_id")) is not None:
        stmt = stmt.where(TariffVersion.tariff_type_id == type_id)
    return jsonify(items=TariffOut(many=True).dump(db.session.scalars(stmt)))


@bp.get("/tariffs/<id:version_id>")
@doc("A published tariff version with its tariff JSON", tag="billing", out=TariffDetailOut)
@api_requires(BILLING_VIEW)
def tariff_get(version_id: int):
    version = db.session.scalar(_published().where(TariffVersion.id == version_id))
    if version is None:
        abort(404)
    return jsonify(TariffDetailOut().dump(version))


@bp.post("/quotes")
@doc("Quote a usage on a tariff (its published versions over the period), without billing anyone", tag="billing",
     body=QuoteIn, out=QuoteOut)
@api_requires(BILLING_VIEW)
def quote_post():
    data = load_body(QuoteIn)
    versions = db.session.scalars(_published().where(TariffVersion.tariff_type_id == data["tariff_type_id"],
                                                     TariffVersion.code == data["code"])
                                  .order_by(TariffVersion.effective_from)).all()
    if not versions:
        abort(404)
    with force_locale(problems.locale()):
        try:
            result = quote([(v.effective_from, v.data) for v in versions], usage_from_json(data["usage"]))
        except (UsageInvalid, TariffInvalid) as invalid:
            return problems.problem(422, "invalid", message_for(invalid), code=invalid.code,
                                    errors=_field_errors(invalid))
    return jsonify(QuoteOut().dump(result.to_json()))


@bp.get("/contracts/<id:contract_id>/readings")
@doc("A contract's meter readings, newest first", tag="billing", out=ReadingOut, many=True)
@api_requires(BILLING_VIEW)
def readings_list(contract_id: int):
    contract = contract_in_region(contract_id, BILLING_VIEW)
    return jsonify(items=ReadingOut(many=True).dump(readings.readings_of(db.session, contract.id)))


@bp.post("/contracts/<id:contract_id>/readings")
@doc("Record a reading of one register (checked against the previous one and last year's use)", tag="billing",
     body=ReadingIn, out=ReadingOut, status=201)
@api_requires(BILLING_RUN)
def reading_record(contract_id: int):
    contract = contract_in_region(contract_id, BILLING_RUN)
    data = load_body(ReadingIn)
    reading = readings.record_reading(db.session, actor(), contract.id, data["register"], data["read_on"],
                                      data["value"], source=data["source"], reader_name=data["reader_name"])
    db.session.commit()
    return jsonify(ReadingOut().dump(reading)), 201


@bp.post("/readings/bulk")
@doc("Upload many readings as CSV (each line saved or refused on its own; meters outside the caller's regions "
     "are refused)", tag="billing", body=ReadingsCsvIn, out=ReadingsCsvOut)
@api_requires(BILLING_RUN)
def readings_bulk():
    content = load_body(ReadingsCsvIn)["csv"]
    reports = readings.import_csv(db.session, actor(), content, set(region_ids(BILLING_RUN)))
    db.session.commit()
    with force_locale(problems.locale()):
        lines = [{"line": r.line, "ok": r.ok, "code": r.message_code,
                  "message": "" if r.ok else message_for(DomainError(r.message_code, **(r.params or {}))),
                  "reading_id": r.reading.id if r.reading is not None else None} for r in reports]
    return jsonify(ReadingsCsvOut().dump({"saved": sum(r.ok for r in reports),
                                          "refused": sum(not r.ok for r in reports), "lines": lines}))


@bp.get("/contracts/<id:contract_id>/bills")
@doc("A contract's bills, newest first", tag="billing", out=BillOut, many=True)
@api_requires(BILLING_VIEW)
def bills_list(contract_id: int):
    contract = contract_in_region(contract_id, BILLING_VIEW)
    return jsonify(items=BillOut(many=True).dump(bills.bills_of(db.session, contract.id)))


@bp.get("/bills/<id:bill_pk>")
@doc("A bill with its lines and readings", tag="billing", out=BillDetailOut)
@api_requires(BILLING_VIEW)
def bill_get(bill_pk: int):
    bill = found(Bill, bill_pk)
    check_region(BILLING_VIEW, bill.region_id)
    return jsonify(BillDetailOut().dump(bill))


@bp.post("/contracts/<id:contract_id>/bills")
@doc("Issue the contract's next bill from its unbilled readings (and post it to the ledger)", tag="billing",
     body=IssueIn, out=BillDetailOut, status=201)
@api_requires(BILLING_RUN)
def bill_issue(contract_id: int):
    contract = contract_in_region(contract_id, BILLING_RUN)
    data = load_body(IssueIn)
    bill = bills.issue(db.session, actor(), contract.id, issued_on=data.get("issued_on") or today())
    db.session.commit()
    return jsonify(BillDetailOut().dump(bill)), 201
