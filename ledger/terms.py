"""Grace periods and installment plans (مهلت و تقسیط). Whether they are kept is read from the
payments posted since they were granted; nothing is ever marked by editing a row."""

from dataclasses import dataclass
from datetime import date

import jdatetime
from sqlalchemy import func, select

from core.audit import audit
from core.errors import DomainError
from core.identifiers import make_payment_id
from core.jalali import to_jalali
from ledger.accounts import lock_contract_account
from ledger.adjustments import _reason
from ledger.models import Account, GracePeriod, Installment, InstallmentPlan, Journal, JournalKind, Posting

MAX_INSTALLMENTS = 36
BROKEN_AFTER_OVERDUE = 2  # a plan with this many installments overdue is broken


def grant_grace_period(session, actor, contract_id: int, due_on: date, today: date, reason: str,
                       amount: int | None = None) -> GracePeriod:
    """A deadline for (part of) the contract's debt, approved by the acting user."""
    reason = _reason(reason)
    account = lock_contract_account(session, contract_id)
    amount = account.balance if amount is None else amount
    if account.balance <= 0:
        raise DomainError("ledger.no_debt", field="due_on")
    if not isinstance(amount, int) or amount <= 0 or amount > account.balance:
        raise DomainError("ledger.grace_amount_invalid", field="amount", debt=account.balance)
    if due_on <= today:
        raise DomainError("ledger.due_date_past", field="due_on")
    grace = GracePeriod(account_id=account.id, amount=amount, granted_on=today, due_on=due_on,
                        approver_id=getattr(actor, "id", None), reason=reason)
    session.add(grace)
    session.flush()
    audit(session, actor, "ledger.grace_granted", grace, contract_id=contract_id, amount=amount, due_on=due_on)
    return grace


def split_installments(total: int, down_payment_percent: int, count: int) -> list[int]:
    """[down payment, first, …, last]: each floored to 1,000 rials, the remainder in the first."""
    down = total * down_payment_percent // 100 // 1000 * 1000
    rest = total - down
    each = rest // count // 1000 * 1000
    return [down, rest - each * (count - 1)] + [each] * (count - 1)


def add_jalali_months(day: date, months: int) -> date:
    j = to_jalali(day)
    month_index = j.month - 1 + months
    year, month = j.year + month_index // 12, month_index % 12 + 1
    last = 31 if month <= 6 else 30 if month < 12 else (30 if jdatetime.date(year, 1, 1).isleap() else 29)
    return jdatetime.date(year, month, min(j.day, last)).togregorian()


def create_installment_plan(session, actor, contract_id: int, *, count: int, down_payment_percent: int,
                            first_due_on: date, today: date, reason: str, total: int | None = None) -> InstallmentPlan:
    """Split the debt (by default all of it, in whole thousands of rials) into a down payment due
    today and `count` monthly installments from `first_due_on`, each with its own payment ID."""
    reason = _reason(reason)
    account = lock_contract_account(session, contract_id)
    if not account.bill_id:
        raise DomainError("ledger.no_bill_id")
    total = account.balance // 1000 * 1000 if total is None else total
    if account.balance <= 0 or total <= 0:
        raise DomainError("ledger.no_debt", field="count")
    if total % 1000 or total > account.balance:
        raise DomainError("ledger.plan_total_invalid", field="total", debt=account.balance)
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise DomainError("ledger.installment_count_invalid", field="count", maximum=MAX_INSTALLMENTS)
    if not 0 <= down_payment_percent < 100:
        raise DomainError("ledger.down_payment_invalid", field="down_payment_percent")
    if first_due_on <= today:
        raise DomainError("ledger.due_date_past", field="first_due_on")
    amounts = split_installments(total, down_payment_percent, count)
    if amounts[-1] <= 0:
        raise DomainError("ledger.installments_too_small", field="count")
    plan = InstallmentPlan(account_id=account.id, total=total, down_payment_percent=down_payment_percent,
                           count=count, granted_on=today, approver_id=getattr(actor, "id", None), reason=reason)
    session.add(plan)
    session.flush()
    for seq, amount in enumerate(amounts):
        if amount:
            due_on = today if seq == 0 else add_jalali_months(first_due_on, seq - 1)
            session.add(Installment(plan_id=plan.id, seq=seq, amount=amount, due_on=due_on,
                                    payment_id=make_payment_id(amount, to_jalali(due_on).year, seq, account.bill_id)))
    session.flush()
    audit(session, actor, "ledger.plan_granted", plan, contract_id=contract_id, total=total, count=count,
          down_payment_percent=down_payment_percent)
    return plan


def paid_since(session, account_id: int, since: date, until: date | None = None) -> int:
    """Rials paid into the account from `since` (payments not reversed since)."""
    reversed_ids = select(Journal.reverses_id).where(Journal.reverses_id.is_not(None))
    stmt = (select(func.coalesce(func.sum(-Posting.amount), 0)).join(Journal, Posting.journal_id == Journal.id)
            .where(Posting.account_id == account_id, Journal.effective_on >= since,
                   Journal.kind.in_([JournalKind.PAYMENT, JournalKind.INSTALLMENT]), Journal.id.not_in(reversed_ids)))
    if until is not None:
        stmt = stmt.where(Journal.effective_on <= until)
    return int(session.scalar(stmt))


@dataclass(frozen=True)
class TermsStatus:
    state: str  # kept | current | overdue | broken
    paid: int
    overdue_count: int = 0
    paid_installments: int = 0


def grace_status(session, grace: GracePeriod, today: date) -> TermsStatus:
    paid = paid_since(session, grace.account_id, grace.granted_on, grace.due_on)
    if paid >= grace.amount:
        return TermsStatus("kept", paid)
    return TermsStatus("overdue" if today > grace.due_on else "current", paid, int(today > grace.due_on))


def plan_status(session, plan: InstallmentPlan, today: date) -> TermsStatus:
    """Payments since the plan count against its installments in order."""
    installments = session.scalars(select(Installment).where(Installment.plan_id == plan.id)
                                   .order_by(Installment.seq)).all()
    paid = paid_since(session, plan.account_id, plan.granted_on)
    covered, paid_count, overdue = 0, 0, 0
    for installment in installments:
        covered += installment.amount
        if paid >= covered:
            paid_count += 1
        elif installment.due_on < today:
            overdue += 1
    if paid_count == len(installments):
        return TermsStatus("kept", paid, 0, paid_count)
    state = "broken" if overdue >= BROKEN_AFTER_OVERDUE else "overdue" if overdue else "current"
    return TermsStatus(state, paid, overdue, paid_count)


def terms_of(session, contract_id: int):
    """(grace periods, installment plans) of a contract, newest first."""
    account_id = select(Account.id).where(Account.contract_id == contract_id).scalar_subquery()
    graces = session.scalars(select(GracePeriod).where(GracePeriod.account_id == account_id)
                             .order_by(GracePeriod.id.desc())).all()
    plans = session.scalars(select(InstallmentPlan).where(InstallmentPlan.account_id == account_id)
                            .order_by(InstallmentPlan.id.desc())).all()
    return graces, plans


def installments_of(session, plan: InstallmentPlan) -> list[Installment]:
    return list(session.scalars(select(Installment).where(Installment.plan_id == plan.id).order_by(Installment.seq)))
