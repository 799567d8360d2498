"""Debtors given a deadline (مشترکین مهلت داده شده بدهکار): grace periods and installment plans of contracts
still in debt, with their due dates, what was paid since and whether they are kept.

The state is the ledger's own reading (ledger/terms.py): on track, overdue, broken (a plan with two
installments overdue) or kept. It is read for the rows shown, not stored, so it cannot be filtered on.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, cast, func, literal, null, select, union_all

from core.regions import Region
from ledger import terms
from ledger.models import Account, AccountKind, GracePeriod, Installment, InstallmentPlan
from reports.base import CODE, DATE, INT, LABEL, RIALS, TEXT, Column, Report
from reports.sql import in_region, subscriber_name
from subscribers.models import Contract, Subscriber

COLUMNS = [
    Column("subscription_no", _l("Subscription number"), CODE),
    Column("subscriber", _l("Subscriber"), TEXT),
    Column("region", _l("Region"), TEXT),
    Column("kind", _l("Kind"), LABEL),
    Column("granted_on", _l("Granted on"), DATE),
    Column("due_on", _l("Due on"), DATE),
    Column("installments", _l("Installments"), INT),
    Column("amount", _l("Amount"), RIALS, total=True),
    Column("paid", _l("Paid since"), RIALS),
    Column("remaining", _l("Remaining"), RIALS),
    Column("overdue_installments", _l("Installments overdue"), INT),
    Column("next_due_on", _l("Next payment due"), DATE),
    Column("state", _l("State"), LABEL),
    Column("balance", _l("Debt"), RIALS),
]


def _common(stmt, account_id):
    # Only the account here: who holds it (subscription number, name) is read for the rows shown (decorate),
    # so neither the count nor the sort joins a million contracts.
    return (stmt.join(Account, Account.id == account_id).join(Region, Region.id == Account.region_id)
            .where(Account.kind == AccountKind.RECEIVABLE, Account.balance > 0))


def _account():
    return (Account.contract_id, Region.name.label("region"), Account.region_id.label("region_id"),
            Account.balance.label("balance"))


def statement(ctx, flt):
    graces = _common(select(literal("grace").label("kind"), GracePeriod.id.label("term_id"), *_account(),
                            GracePeriod.granted_on, GracePeriod.due_on, cast(null(), Integer).label("installments"),
                            GracePeriod.amount.label("amount")).select_from(GracePeriod), GracePeriod.account_id)
    last_due = (select(Installment.plan_id, func.max(Installment.due_on).label("due_on"))
                .group_by(Installment.plan_id).subquery())
    plans = _common(select(literal("plan").label("kind"), InstallmentPlan.id.label("term_id"), *_account(),
                           InstallmentPlan.granted_on, last_due.c.due_on, InstallmentPlan.count.label("installments"),
                           InstallmentPlan.total.label("amount"))
                    .select_from(InstallmentPlan).join(last_due, last_due.c.plan_id == InstallmentPlan.id),
                    InstallmentPlan.account_id)
    both = union_all(graces, plans).subquery()
    stmt = select(*(c for c in both.c if c.name != "region_id"))
    if flt.date_from:
        stmt = stmt.where(both.c.due_on >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(both.c.due_on <= flt.date_to)
    if flt.region_id:
        stmt = stmt.where(in_region(both.c.region_id, flt.region_id))
    if flt.min_amount is not None:
        stmt = stmt.where(both.c.amount >= flt.min_amount)
    if flt.max_amount is not None:
        stmt = stmt.where(both.c.amount <= flt.max_amount)
    return ctx.scope(stmt, both.c.region_id).order_by(both.c.due_on, both.c.kind, both.c.term_id)


def _holders(session, contract_ids) -> dict:
    rows = session.execute(select(Contract.id, Contract.subscription_no, subscriber_name())
                           .join(Subscriber, Subscriber.id == Contract.subscriber_id)
                           .where(Contract.id.in_(contract_ids)))
    return {contract_id: (number, name) for contract_id, number, name in rows}


def decorate(ctx, flt, rows):
    session, today = ctx.session, ctx.today
    graces = {g.id: g for g in session.scalars(select(GracePeriod).where(GracePeriod.id.in_(
        [r["term_id"] for r in rows if r["kind"] == "grace"])))}
    plans = {p.id: p for p in session.scalars(select(InstallmentPlan).where(InstallmentPlan.id.in_(
        [r["term_id"] for r in rows if r["kind"] == "plan"])))}
    holders = _holders(session, {r["contract_id"] for r in rows})
    for row in rows:
        row["subscription_no"], row["subscriber"] = holders.get(row["contract_id"], ("", ""))
        if row["kind"] == "grace":
            status = terms.grace_status(session, graces[row["term_id"]], today)
            row["next_due_on"] = row["due_on"] if status.state != "kept" else None
        else:
            plan = plans[row["term_id"]]
            status = terms.plan_status(session, plan, today)
            installments = terms.installments_of(session, plan)
            unpaid = installments[status.paid_installments:]
            row["next_due_on"] = unpaid[0].due_on if unpaid else None
        row["state"] = status.state
        row["paid"] = status.paid
        row["remaining"] = max(row["amount"] - status.paid, 0)
        row["overdue_installments"] = status.overdue_count if row["kind"] == "plan" else None
    return rows


REPORT = Report(
    key="deadlines", title=_l("Debtors given a deadline"),
    description=_l("Grace periods and installment plans of contracts in debt: due dates, payments and state."),
    columns=COLUMNS, statement=statement, decorate=decorate,
    filters=("date_from", "date_to", "region_id", "min_amount", "max_amount"),
    notes=(_l("The dates filter the deadline, or a plan's last installment."),
           _l("A plan with two installments overdue is broken.")),
)
