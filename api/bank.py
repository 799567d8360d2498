"""Bank integration over JSON: bill inquiry (what is owed for a bill ID / payment ID), payment
notification (idempotent by bank reference, the ledger's own semantics), and the day's
reconciliation file (CSV of the payments by channel). api/soap.py offers the same over SOAP."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask import Response, jsonify
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

import ledger.messages  # noqa: F401  (the Persian words for the ledger's errors)
from api import bp, schemas
from api.access import allowed, api_requires, check_region, region_ids
from api.common import load_body, load_query
from api.ledger_api import post
from api.openapi import doc
from core.db import db
from core.errors import DomainError, NotFound
from core.identifiers import is_bill_id, is_payment_id, payment_id_amount
from core.jalali import format_jalali_date
from core.permissions import LEDGER_POST, LEDGER_VIEW
from core.regions import Region
from core.text import digits_only
from ledger.allocation import open_charges
from ledger.models import Account, AccountKind, Charge, Installment, InstallmentPlan, Journal, Payment
from ledger.terms import plan_status
from subscribers.models import Contract, Subscriber

RECONCILIATION_COLUMNS = ("paid_on", "paid_on_jalali", "channel", "reference", "bill_id", "payment_id", "amount",
                          "contract_id", "journal_id", "status")


@dataclass(frozen=True)
class Inquiry:
    bill_id: str
    payment_id: str | None
    contract_id: int
    subscription_no: str | None
    holder: str | None
    amount: int
    balance: int
    period: str | None
    due_on: date | None
    status: str  # payable | paid
    region_id: int | None


def masked(name: str | None) -> str | None:
    """Enough of the holder's name for the cashier to confirm it, not the whole of it."""
    if not name:
        return None
    first, _, rest = name.partition(" ")
    return f"{first} {rest[:1]}…" if rest else first


def inquire(session, bill_id: str, payment_id: str | None = None) -> Inquiry:
    bill_id, payment_id = digits_only(bill_id), digits_only(payment_id) or None
    if not is_bill_id(bill_id):
        raise DomainError("ledger.bill_id_invalid", field="bill_id")
    if payment_id is not None and not is_payment_id(bill_id, payment_id):
        raise DomainError("ledger.payment_id_invalid", field="payment_id")
    account = session.scalar(select(Account).where(Account.bill_id == bill_id, Account.kind == AccountKind.RECEIVABLE))
    if account is None:
        raise NotFound("api.bill_unknown", field="bill_id")
    contract = session.get(Contract, account.contract_id)
    subscriber = session.get(Subscriber, contract.subscriber_id) if contract is not None else None
    open_by_charge = {c[0]: c[1] for c in open_charges(session, [account.id]).get(account.id, [])}
    stmt = select(Charge).where(Charge.account_id == account.id).order_by(Charge.due_on.desc(), Charge.id.desc())
    if payment_id is not None:
        stmt = stmt.where(Charge.payment_id == payment_id)
    charge = session.scalars(stmt.limit(1)).first()
    balance = account.balance or 0
    if payment_id is not None and charge is not None:
        amount, paid = open_by_charge.get(charge.id, 0), charge.id not in open_by_charge
    elif payment_id is not None:
        amount, paid = _installment_or_encoded(session, account.id, payment_id, balance)
    else:
        amount, paid = max(balance, 0), balance <= 0
    return Inquiry(bill_id, payment_id or (charge.payment_id if charge is not None else None) or None,
                   account.contract_id, contract.subscription_no if contract is not None else None,
                   masked(subscriber.display_name if subscriber is not None else None), amount, balance,
                   charge.period if charge is not None else None, charge.due_on if charge is not None else None,
                   "paid" if paid else "payable", account.region_id)


def _installment_or_encoded(session, account_id: int, payment_id: str, balance: int) -> tuple[int, bool]:
    row = session.execute(select(Installment, InstallmentPlan).join(InstallmentPlan,
                                                                    Installment.plan_id == InstallmentPlan.id)
                          .where(InstallmentPlan.account_id == account_id, Installment.payment_id == payment_id)
                          ).first()
    if row is not None:
        from api.common import today

        paid = plan_status(session, row.InstallmentPlan, today()).paid_installments > row.Installment.seq
        return (0 if paid else row.Installment.amount), paid
    return payment_id_amount(payment_id), balance <= 0


def inquiry_out(inquiry: Inquiry) -> dict:
    return schemas.InquiryOut().dump(inquiry)


@bp.get("/bank/bills")
@doc("Bill inquiry: what is owed for a bill ID (and payment ID)", tag="bank", query=schemas.InquiryQuery,
     out=schemas.InquiryOut)
@api_requires(LEDGER_VIEW)
def bank_inquiry():
    args = load_query(schemas.InquiryQuery)
    inquiry = inquire(db.session, args["bill_id"], args.get("payment_id"))
    check_region(LEDGER_VIEW, inquiry.region_id)
    return jsonify(inquiry_out(inquiry))


@bp.post("/bank/payments")
@doc("Payment notification by bill ID and payment ID (idempotent by channel and reference: the same "
     "payment again returns its original result with status `duplicate`; the same reference with different "
     "content is a 409 conflict)", tag="bank", body=schemas.BankPaymentIn, out=schemas.PaymentResultOut,
     status=201, extra_responses={"200": {"description": "A repeat: the original result", "content": {
         "application/json": {"schema": {"$ref": "#/components/schemas/PaymentResultOut"}}}}})
@api_requires(LEDGER_POST)
def bank_payment():
    return post(load_body(schemas.BankPaymentIn))


def reconciliation_rows(session, day: date, channel: str | None, regions: list[int], with_suspense: bool):
    """The day's payments, by channel then reference: (payment, status)."""
    reversal = aliased(Journal)
    reversed_ = exists().where(reversal.reverses_id == Payment.journal_id)
    stmt = (select(Payment, reversed_.label("reversed"), Account.region_id)
            .outerjoin(Account, (Account.contract_id == Payment.contract_id) & (Account.kind == AccountKind.RECEIVABLE))
            .where(Payment.paid_on == day).order_by(Payment.channel, Payment.reference))
    if channel:
        stmt = stmt.where(Payment.channel == channel)
    allowed_regions = set(regions)
    for payment, is_reversed, region_id in session.execute(stmt):
        if payment.contract_id is None and not with_suspense:
            continue
        if payment.contract_id is not None and region_id not in allowed_regions:
            continue
        yield payment, "reversed" if is_reversed else "suspense" if payment.contract_id is None else "posted"


def reconciliation_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RECONCILIATION_COLUMNS)
    for payment, status in rows:
        writer.writerow([payment.paid_on.isoformat(), format_jalali_date(payment.paid_on, persian_digits=False),
                         payment.channel, payment.reference, payment.bill_id, payment.payment_id, payment.amount,
                         payment.contract_id or "", payment.journal_id, status])
    return out.getvalue()


def sees_suspense(permission: str) -> bool:
    """Money no contract was found for belongs to no region: only a company-wide caller sees it."""
    root = db.session.scalar(select(Region).where(Region.parent_id.is_(None)).order_by(Region.id).limit(1))
    return root is not None and allowed(permission, root)


@bp.get("/bank/reconciliation")
@doc("The day's payments as CSV, by channel then reference (status: posted, suspense or reversed)", tag="bank",
     query=schemas.ReconciliationQuery, media="text/csv")
@api_requires(LEDGER_VIEW)
def bank_reconciliation():
    args = load_query(schemas.ReconciliationQuery)
    rows = reconciliation_rows(db.session, args["date"], args.get("channel"), region_ids(LEDGER_VIEW),
                               sees_suspense(LEDGER_VIEW))
    name = f"payments-{args['date'].isoformat()}{'-' + args['channel'] if args.get('channel') else ''}.csv"
    return Response(reconciliation_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
