"""Service-task operations on the ledger: fees, whether they are paid, debt, corrections, grace periods and
installment plans. Each posts only through the ledger's own operations (ledger.adjustments, ledger.terms,
ledger.reversal) and is keyed by the request and step, so a retried step never posts twice.

Until tariffs offer connection fees, the fee of a new connection comes from CONNECTION_FEES below: a
base amount by utility and capacity, times the tariff type's factor, in whole thousands of rials.
"""

from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import func, select

from core.errors import DomainError
from core.identifiers import make_payment_id
from core.jalali import to_jalali
from core.money import format_rials
from engine.operations.registry_ops import SERVICES, day_of, refused, today
from engine.registry import operation
from ledger import accounts, adjustments, queries, reversal, terms
from ledger.models import Account, AccountKind, Journal, JournalKind, Posting
from subscribers.models import Contract

# Connection fee (هزینه انشعاب) in rials by connection type, for a residential tariff.
ELECTRICITY_PER_AMPERE = {1: 1_200_000, 3: 3_600_000}  # single phase, three phase
WATER_BY_DIAMETER = {"1/2": 45_000_000, "3/4": 90_000_000, "1": 160_000_000}
GAS_BY_SIZE = {"G4": 20_000_000, "G6": 35_000_000, "G10": 60_000_000}
TARIFF_FACTORS = {"residential": (1, 1), "public": (1, 1), "agricultural": (7, 10), "commercial": (3, 2),
                  "industrial": (2, 1)}  # numerator, denominator
FEE_DUE_DAYS = 30
CONNECTION_FEE = "connection"


def connection_fee(service: str, tariff_type: str) -> int:
    fields = SERVICES.get(service)
    if fields is None:
        raise DomainError("connection.service_unknown", field="service")
    if fields["utility"] == "electricity":
        base = ELECTRICITY_PER_AMPERE[fields["phases"]] * fields["amperage"]
    elif fields["utility"] == "water":
        base = WATER_BY_DIAMETER[fields["pipe_diameter"]]
    else:
        base = GAS_BY_SIZE[fields["gas_meter_size"]]
    numerator, denominator = TARIFF_FACTORS.get(tariff_type, (1, 1))
    return base * numerator // denominator // 1000 * 1000


def approval_limit() -> int:
    if has_app_context():
        return current_app.config.get("MADAM_LEDGER_APPROVAL_LIMIT", adjustments.DEFAULT_APPROVAL_LIMIT)
    return adjustments.DEFAULT_APPROVAL_LIMIT


def balance_of(session, contract_id: int) -> int:
    """The contract's balance as stored now (read as a column: the cached row may be stale)."""
    balance = session.scalar(select(Account.balance).where(Account.contract_id == contract_id,
                                                           Account.kind == AccountKind.RECEIVABLE))
    if balance is None:
        raise DomainError("ledger.no_account", contract_id=contract_id)
    return int(balance)


def _key(ctx, what: str) -> str:
    return f"request:{ctx.instance.business_key}:{ctx.task_name}:{what}"


def _payment_id(amount: int, bill_id: str, on) -> str:
    if amount < 1000 or amount % 1000:
        return ""
    jalali = to_jalali(on)
    return make_payment_id(amount, jalali.year, jalali.month, bill_id)


@operation("ledger.invoice_connection_fee", result={
    "amount": 30_000_000, "amount_text": "۳۰٬۰۰۰٬۰۰۰ ریال", "journal_id": 4410, "due_on": "2026-12-28",
    "bill_id": "3110121", "payment_id": "300005905"})
def invoice_connection_fee(ctx, *, contract_id: int, service: str, tariff_type: str):
    """The connection fee from the table, posted to the (reserved) contract as an open item due in 30 days."""
    amount = connection_fee(service, tariff_type)
    due_on = today() + timedelta(days=FEE_DUE_DAYS)
    posted = adjustments.post_fee(ctx.session, ctx.actor, contract_id, amount, CONNECTION_FEE,
                                  f"هزینه انشعاب، درخواست {ctx.instance.business_key}", due_on,
                                  key=_key(ctx, "fee"), approval_limit=max(approval_limit(), amount))
    bill_id = ctx.session.get(Contract, contract_id).bill_id
    return {"amount": amount, "amount_text": format_rials(amount), "journal_id": posted.journal_id,
            "due_on": due_on.isoformat(), "bill_id": bill_id, "payment_id": _payment_id(amount, bill_id, today())}


@operation("ledger.post_fee", result={"amount": 2_500_000, "journal_id": 4411, "balance": 2_500_000})
def post_fee(ctx, *, contract_id: int, amount: int, fee_type: str, reason: str):
    """A fee of a procedure (relocation, reconnection, transfer …) posted to the contract, due in 30 days."""
    posted = adjustments.post_fee(ctx.session, ctx.actor, contract_id, int(amount), fee_type, reason,
                                  today() + timedelta(days=FEE_DUE_DAYS), key=_key(ctx, fee_type),
                                  approval_limit=max(approval_limit(), int(amount)))
    return {"amount": int(amount), "journal_id": posted.journal_id, "balance": balance_of(ctx.session, contract_id)}


@operation("ledger.balance", result={"balance": 0, "paid": True}, writes=False)
def balance(ctx, *, contract_id: int):
    """The contract's balance; `paid` when nothing is owed."""
    amount = balance_of(ctx.session, contract_id)
    return {"balance": amount, "paid": amount <= 0}


def overdue_amount(session, contract_id: int, on) -> int:
    """Debt past its due date with no grace period running (what the disconnection rule looks at)."""
    row = session.execute(queries.overdue(on).where(Account.contract_id == contract_id)).first()
    return int(row[1]) if row else 0


@operation("ledger.overdue_debt", result={"overdue": 7_500_000, "balance": 7_500_000, "settled": False},
           writes=False)
def overdue_debt(ctx, *, contract_id: int, threshold: int = 0):
    """The contract's overdue debt today; `settled` when it is no more than `threshold` (e.g. after a payment
    or a grace period)."""
    overdue = overdue_amount(ctx.session, contract_id, today())
    return {"overdue": overdue, "balance": balance_of(ctx.session, contract_id), "settled": overdue <= int(threshold)}


@operation("ledger.cancel_fee", result={"reversed": True, "journal_id": 4412, "credit": 0})
def cancel_fee(ctx, *, journal_id: int, reason: str, contract_id: int):
    """Reverse a fee the request no longer owes; what was paid of it stays as the contract's credit."""
    posted = reversal.reverse(ctx.session, ctx.actor, int(journal_id), reason, today())
    return {"reversed": True, "journal_id": posted.journal_id, "credit": max(-balance_of(ctx.session, contract_id), 0)}


@operation("ledger.open_account", result={"account_id": 88, "contract_id": 901})
def open_account(ctx, *, contract_id: int):
    """The receivable of a contract opened without one (a transferred contract's successor), which takes over
    the bill ID from its predecessor's account: payments by bill ID reach the new owner."""
    contract = ctx.session.get(Contract, contract_id)
    if contract is None:
        raise DomainError("contract.not_found", field="contract_id")
    name = f"{contract.subscription_no}/{contract.revision}"
    if contract.predecessor_id is not None:
        account = accounts.succeed_account(ctx.session, ctx.actor, contract.predecessor_id, contract.id,
                                           contract.region_id, contract.bill_id, name)
    else:
        account = accounts.open_contract_account(ctx.session, ctx.actor, contract.id, contract.region_id,
                                                 contract.bill_id, name)
    return {"account_id": account.id, "contract_id": contract.id}


@operation("ledger.transfer_debt", result={"ok": True, "problem": "", "amount": 12_000_000})
def transfer_debt(ctx, *, from_contract_id: int, to_contract_id: int, reason: str):
    """Move the debt of one contract to another (the new owner's, with their consent): an adjustment on each."""
    amount = balance_of(ctx.session, from_contract_id)
    if amount <= 0:
        return {"ok": True, "problem": "", "amount": 0}
    try:
        with ctx.session.begin_nested():
            adjustments.adjust(ctx.session, ctx.actor, from_contract_id, -amount, reason, today(),
                               approval_limit=approval_limit(), key=_key(ctx, "debt_out"))
            adjustments.adjust(ctx.session, ctx.actor, to_contract_id, amount, reason, today(),
                               approval_limit=approval_limit(), key=_key(ctx, "debt_in"))
    except DomainError as error:
        return refused(ctx, error, amount=amount)
    return {"ok": True, "problem": "", "amount": amount}


@operation("ledger.adjust", result={"ok": True, "problem": "", "journal_id": 4413, "amount": -1_800_000})
def adjust(ctx, *, contract_id: int, amount: int, reason: str):
    """A correction of the contract's debt (positive adds, negative takes off); refused above the acting
    user's approval limit, which the diagram can send to someone who may approve it."""
    if not int(amount):
        return {"ok": True, "problem": "", "journal_id": None, "amount": 0}
    try:
        with ctx.session.begin_nested():
            posted = adjustments.adjust(ctx.session, ctx.actor, contract_id, int(amount), reason, today(),
                                        approval_limit=approval_limit(), key=_key(ctx, "adjust"))
    except DomainError as error:
        return refused(ctx, error, journal_id=None, amount=int(amount))
    return {"ok": True, "problem": "", "journal_id": posted.journal_id, "amount": int(amount)}


def billed_since(session, contract_id: int, since) -> int:
    """Rials billed to the contract (bill journals, not reversed) effective from `since`."""
    reversed_ids = select(Journal.reverses_id).where(Journal.reverses_id.is_not(None))
    account_id = select(Account.id).where(Account.contract_id == contract_id,
                                          Account.kind == AccountKind.RECEIVABLE).scalar_subquery()
    return int(session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0)).join(Journal, Posting.journal_id == Journal.id)
        .where(Posting.account_id == account_id, Journal.kind == JournalKind.BILL, Journal.effective_on >= since,
               Journal.id.not_in(reversed_ids))))


@operation("ledger.meter_error_correction", result={"ok": True, "problem": "", "billed": 18_400_000,
                                                     "amount": -361_000, "amount_text": "-۳۶۱٬۰۰۰ ریال",
                                                     "journal_id": 4414})
def meter_error_correction(ctx, *, contract_id: int, error_percent, since: str):
    """The correction of what was billed since `since` by a meter off by `error_percent` (positive: it ran
    fast): the bills measured (100 + e)% of the true use, so e/(100 + e) of them is taken off (or, for a slow
    meter, added), floored to whole thousands of rials, posted as an adjustment."""
    error = float(error_percent)
    billed = billed_since(ctx.session, contract_id, day_of(since))
    share = abs(billed * error / (100 + error))
    amount = int(share) // 1000 * 1000 * (-1 if error > 0 else 1)
    if not amount:
        return {"ok": True, "problem": "", "billed": billed, "amount": 0, "amount_text": format_rials(0),
                "journal_id": None}
    reason = f"اصلاح مصرف به علت خطای {error:+.2f}٪ کنتور از {since}"
    try:
        with ctx.session.begin_nested():
            posted = adjustments.adjust(ctx.session, ctx.actor, contract_id, amount, reason, today(),
                                        approval_limit=approval_limit(), key=_key(ctx, "correction"))
    except DomainError as error_:
        return refused(ctx, error_, billed=billed, amount=amount, amount_text=format_rials(amount), journal_id=None)
    return {"ok": True, "problem": "", "billed": billed, "amount": amount, "amount_text": format_rials(amount),
            "journal_id": posted.journal_id}


@operation("ledger.grant_terms", result={"ok": True, "problem": "", "kind": "installments", "plan_id": 31,
                                         "grace_id": None})
def grant_terms(ctx, *, contract_id: int, kind: str, reason: str, due_on=None, count=None,
                down_payment_percent=None):
    """A grace period (until `due_on`) or an installment plan (`count` monthly installments after a down
    payment), approved by the acting user within their limits."""
    limit = approval_limit()
    try:
        with ctx.session.begin_nested():
            debt = balance_of(ctx.session, contract_id)
            if debt > limit and not _may_approve(ctx, contract_id):
                raise DomainError("ledger.approval_required", field="amount", limit=limit)
            if kind == "grace":
                grace = terms.grant_grace_period(ctx.session, ctx.actor, contract_id, day_of(due_on), today(),
                                                 reason)
                return {"ok": True, "problem": "", "kind": kind, "plan_id": None, "grace_id": grace.id}
            first_due = today() + timedelta(days=30)
            plan = terms.create_installment_plan(ctx.session, ctx.actor, contract_id, count=int(count or 0),
                                                 down_payment_percent=int(down_payment_percent or 0),
                                                 first_due_on=first_due, today=today(), reason=reason)
            return {"ok": True, "problem": "", "kind": kind, "plan_id": plan.id, "grace_id": None}
    except DomainError as error:
        return refused(ctx, error, kind=kind, plan_id=None, grace_id=None)


def _may_approve(ctx, contract_id: int) -> bool:
    from core.permissions import LEDGER_APPROVE, has_permission
    from core.regions import Region

    if ctx.actor is None:
        return True
    region_id = ctx.session.get(Contract, contract_id).region_id
    return has_permission(ctx.session, ctx.actor, LEDGER_APPROVE, ctx.session.get(Region, region_id))
