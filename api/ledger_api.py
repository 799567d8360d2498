"""The ledger over JSON: a contract's balance and statement, payments (list, post), grace periods
and installment plans."""

from flask import abort, jsonify
from sqlalchemy import select

from api import bp, schemas
from api.access import actor, api_requires, check_region, region_ids
from api.common import load_body, load_query, page_of, paged, today
from api.openapi import doc
from core.db import db
from core.permissions import LEDGER_APPROVE, LEDGER_POST, LEDGER_VIEW
from ledger import queries, terms
from ledger.models import Account, AccountKind, Payment
from ledger.payments import DUPLICATE, PaymentRequest, post_payment


def account_in_region(contract_id: int, permission: str) -> Account:
    account = queries.account_of(db.session, contract_id)
    if account is None:
        abort(404)
    check_region(permission, account.region_id)
    return account


@bp.get("/contracts/<id:contract_id>/balance")
@doc("A contract's balance, aging and open items", tag="ledger", out=schemas.BalanceOut)
@api_requires(LEDGER_VIEW)
def contract_balance(contract_id: int):
    account = account_in_region(contract_id, LEDGER_VIEW)
    aging = queries.aging(db.session, account.id, today())
    items = [{"charge_id": i["charge"].id, "kind": i["charge"].kind, "bill_id": i["charge"].bill_id,
              "payment_id": i["charge"].payment_id, "period": i["charge"].period, "due_on": i["charge"].due_on,
              "amount": i["charge"].amount, "open": i["open"]} for i in queries.open_items(db.session, account.id)]
    return jsonify(schemas.BalanceOut().dump({
        "contract_id": contract_id, "account_id": account.id, "bill_id": account.bill_id, "balance": account.balance,
        "standing": queries.standing(account.balance),
        "aging": {"not_due": aging["not_due"], "d1_30": aging["1_30"], "d31_60": aging["31_60"],
                  "d61_90": aging["61_90"], "over_90": aging["over_90"]},
        "open_items": items}))


@bp.get("/contracts/<id:contract_id>/statement")
@doc("A contract's statement: its journals with the running balance", tag="ledger", query=schemas.StatementQuery,
     out=schemas.StatementRowOut, many=True)
@api_requires(LEDGER_VIEW)
def contract_statement(contract_id: int):
    account = account_in_region(contract_id, LEDGER_VIEW)
    limit = load_query(schemas.StatementQuery)["limit"]
    rows = queries.statement(db.session, account.id, limit=limit)
    return jsonify(items=schemas.StatementRowOut(many=True).dump(rows))


@bp.get("/payments")
@doc("Payments, newest first, in the caller's regions", tag="ledger", query=schemas.PaymentQuery,
     out=schemas.PaymentOut, page=True)
@api_requires(LEDGER_VIEW)
def payments_list():
    args = load_query(schemas.PaymentQuery)
    stmt = (select(Payment).join(Account, (Account.contract_id == Payment.contract_id)
                                 & (Account.kind == AccountKind.RECEIVABLE))
            .where(Account.region_id.in_(region_ids(LEDGER_VIEW))).order_by(Payment.journal_id.desc()))
    for name, column in (("contract_id", Payment.contract_id), ("channel", Payment.channel),
                         ("reference", Payment.reference)):
        if name in args:
            stmt = stmt.where(column == args[name])
    if "paid_from" in args:
        stmt = stmt.where(Payment.paid_on >= args["paid_from"])
    if "paid_to" in args:
        stmt = stmt.where(Payment.paid_on <= args["paid_to"])
    rows, total = page_of(stmt, args["page"], args["per_page"])
    return paged(schemas.PaymentOut, rows, total, args["page"], args["per_page"])


def region_of_payer(contract_id: int | None, bill_id: str | None) -> int | None:
    if contract_id is not None:
        return db.session.scalar(select(Account.region_id).where(Account.contract_id == contract_id))
    if bill_id:
        return db.session.scalar(select(Account.region_id).where(Account.bill_id == bill_id))
    return None


def post(data: dict):
    """Post one payment: 201 with the new result, 200 with the original for a repeat of the same
    payment, 409 for a reference used before for a different one. A payment whose payer is outside
    the caller's regions is refused (403); one whose bill ID is unknown goes to suspense."""
    check_region(LEDGER_POST, region_of_payer(data.get("contract_id"), data.get("bill_id")))
    result = post_payment(db.session, actor(), PaymentRequest(
        channel=data["channel"], reference=data["reference"], amount=data["amount"], paid_on=data["paid_on"],
        contract_id=data.get("contract_id"), bill_id=data.get("bill_id", ""), payment_id=data.get("payment_id", "")))
    db.session.commit()
    body = {"status": result.status, "journal_id": result.journal_id, "contract_id": result.contract_id,
            "amount": result.amount, "settled_bill_ids": list(result.settled_bill_ids)}
    return jsonify(schemas.PaymentResultOut().dump(body)), 200 if result.status == DUPLICATE else 201


@bp.post("/payments")
@doc("Post a payment (idempotent by channel and reference)", tag="ledger", body=schemas.PaymentIn,
     out=schemas.PaymentResultOut, status=201,
     extra_responses={"200": {"description": "A repeat of an earlier payment: its original result",
                              "content": {"application/json": {
                                  "schema": {"$ref": "#/components/schemas/PaymentResultOut"}}}}})
@api_requires(LEDGER_POST)
def payment_post():
    return post(load_body(schemas.PaymentIn))


def _grace_out(grace):
    return {"id": grace.id, "amount": grace.amount, "granted_on": grace.granted_on, "due_on": grace.due_on,
            "reason": grace.reason, "status": terms.grace_status(db.session, grace, today()).__dict__}


def _plan_out(plan):
    return {"id": plan.id, "total": plan.total, "down_payment_percent": plan.down_payment_percent,
            "count": plan.count, "granted_on": plan.granted_on, "reason": plan.reason,
            "status": terms.plan_status(db.session, plan, today()).__dict__,
            "installments": terms.installments_of(db.session, plan)}


@bp.get("/contracts/<id:contract_id>/grace-periods")
@doc("A contract's grace periods, newest first, each with whether it is kept", tag="ledger",
     out=schemas.GraceOut, many=True)
@api_requires(LEDGER_VIEW)
def grace_list(contract_id: int):
    account_in_region(contract_id, LEDGER_VIEW)
    graces, _plans = terms.terms_of(db.session, contract_id)
    return jsonify(items=schemas.GraceOut(many=True).dump([_grace_out(g) for g in graces]))


@bp.post("/contracts/<id:contract_id>/grace-periods")
@doc("Grant a grace period for (part of) a contract's debt", tag="ledger", body=schemas.GraceIn,
     out=schemas.GraceOut, status=201)
@api_requires(LEDGER_APPROVE)
def grace_grant(contract_id: int):
    account_in_region(contract_id, LEDGER_APPROVE)
    data = load_body(schemas.GraceIn)
    grace = terms.grant_grace_period(db.session, actor(), contract_id, data["due_on"], today(), data["reason"],
                                     amount=data.get("amount"))
    db.session.commit()
    return jsonify(schemas.GraceOut().dump(_grace_out(grace))), 201


@bp.get("/contracts/<id:contract_id>/installment-plans")
@doc("A contract's installment plans, newest first, with their installments and state", tag="ledger",
     out=schemas.PlanOut, many=True)
@api_requires(LEDGER_VIEW)
def plan_list(contract_id: int):
    account_in_region(contract_id, LEDGER_VIEW)
    _graces, plans = terms.terms_of(db.session, contract_id)
    return jsonify(items=schemas.PlanOut(many=True).dump([_plan_out(p) for p in plans]))


@bp.post("/contracts/<id:contract_id>/installment-plans")
@doc("Split a contract's debt into a down payment and monthly installments", tag="ledger", body=schemas.PlanIn,
     out=schemas.PlanOut, status=201)
@api_requires(LEDGER_APPROVE)
def plan_create(contract_id: int):
    account_in_region(contract_id, LEDGER_APPROVE)
    data = load_body(schemas.PlanIn)
    plan = terms.create_installment_plan(db.session, actor(), contract_id, count=data["count"],
                                         down_payment_percent=data["down_payment_percent"],
                                         first_due_on=data["first_due_on"], today=today(), reason=data["reason"],
                                         total=data.get("total"))
    db.session.commit()
    return jsonify(schemas.PlanOut().dump(_plan_out(plan))), 201
