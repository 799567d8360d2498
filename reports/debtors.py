"""Debtors (مشترکین بدهکار): contracts owing at least a threshold, with their open debt by age.

A contract's open charges always total its balance when it is in debt (see ledger/allocation.py), so the
aging buckets of a row add up to its balance. A charge's age is counted from its due date to the report's
day: 0–30 days (not yet due included), 31–60, 61–90, over 90.
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from core.regions import Region
from ledger.models import Account, AccountKind, Allocation, Charge
from reports.base import CODE, LABEL, RIALS, TEXT, Column, Report
from reports.sql import in_region, subscriber_name
from subscribers.models import Contract, ServicePoint, Subscriber

BUCKETS = ("age_0_30", "age_31_60", "age_61_90", "age_over_90")
BUCKET_LABELS = (_l("0–30 days"), _l("31–60 days"), _l("61–90 days"), _l("Over 90 days"))

COLUMNS = [
    Column("subscription_no", _l("Subscription number"), CODE),
    Column("subscriber", _l("Subscriber"), TEXT),
    Column("region", _l("Region"), TEXT),
    Column("utility", _l("Utility"), LABEL),
    Column("tariff_type", _l("Tariff type"), LABEL),
    Column("balance", _l("Debt"), RIALS, total=True),
    *(Column(key, label, RIALS, total=True) for key, label in zip(BUCKETS, BUCKET_LABELS, strict=True)),
]


def _filtered(ctx, flt, stmt, joined: bool):
    """The filters and the region scope; `joined` says whether the statement already joins the contract and its
    service point (the count joins them only when a filter needs them)."""
    stmt = stmt.where(Account.kind == AccountKind.RECEIVABLE, Account.balance >= max(flt.min_amount or 1, 1))
    if flt.max_amount is not None:
        stmt = stmt.where(Account.balance <= flt.max_amount)
    if flt.region_id:
        stmt = stmt.where(in_region(Account.region_id, flt.region_id))
    if (flt.utility or flt.tariff_type) and not joined:
        stmt = (stmt.join(Contract, Contract.id == Account.contract_id)
                .join(ServicePoint, ServicePoint.id == Contract.service_point_id))
    if flt.utility:
        stmt = stmt.where(ServicePoint.utility == flt.utility)
    if flt.tariff_type:
        stmt = stmt.where(Contract.tariff_type == flt.tariff_type)
    return ctx.scope(stmt, Account.region_id)


def _debtors(ctx, flt):
    stmt = (select(Account.id.label("account_id"), Contract.subscription_no, subscriber_name().label("subscriber"),
                   Region.name.label("region"), ServicePoint.utility, Contract.tariff_type,
                   Account.balance.label("balance"))
            .select_from(Account)
            .join(Contract, Contract.id == Account.contract_id)
            .join(Subscriber, Subscriber.id == Contract.subscriber_id)
            .join(ServicePoint, ServicePoint.id == Contract.service_point_id)
            .join(Region, Region.id == Account.region_id))
    return _filtered(ctx, flt, stmt, joined=True)


def _debtor_ids(ctx, flt):
    return _filtered(ctx, flt, select(Account.id), joined=False)


def statement(ctx, flt):
    return _debtors(ctx, flt).order_by(Account.balance.desc(), Account.id.desc())


def _bucket_of(as_of):
    """The bucket index of a charge by its due date, as a SQL expression (dates compared, no arithmetic)."""
    return case((Charge.due_on >= as_of - timedelta(days=30), 0), (Charge.due_on >= as_of - timedelta(days=60), 1),
                (Charge.due_on >= as_of - timedelta(days=90), 2), else_=3)


def _open_by_bucket(ctx, as_of, accounts) -> dict:
    """{(account id, bucket): open rials} over the given accounts (ids or a subquery of account ids).

    A charge is never settled beyond its amount, so charges minus their allocations, summed per bucket, is the
    open debt without a per-charge grouping."""
    bucket = _bucket_of(as_of)
    charged = (select(Charge.account_id, bucket.label("bucket"), func.sum(Charge.amount))
               .where(Charge.account_id.in_(accounts)).group_by(Charge.account_id, bucket))
    applied = (select(Charge.account_id, bucket.label("bucket"), func.sum(Allocation.amount))
               .join(Allocation, Allocation.charge_id == Charge.id)
               .where(Charge.account_id.in_(accounts)).group_by(Charge.account_id, bucket))
    found: dict = {}
    for account_id, index, amount in ctx.session.execute(charged):
        found[(account_id, index)] = found.get((account_id, index), 0) + int(amount)
    for account_id, index, amount in ctx.session.execute(applied):
        found[(account_id, index)] = found.get((account_id, index), 0) - int(amount)
    return found


def decorate(ctx, flt, rows):
    if not rows:
        return rows
    open_ = _open_by_bucket(ctx, flt.as_of or ctx.today, [r["account_id"] for r in rows])
    for row in rows:
        for index, key in enumerate(BUCKETS):
            row[key] = open_.get((row["account_id"], index), 0)
    return rows


# Up to this many debtors the page's totals row carries the debt by age, read through the accounts' charges (a few
# milliseconds per thousand debtors); beyond it that pass takes seconds (10 s for the 500,000 debtors of a million
# contracts), so the page shows the count and the debt at once and the row's debt by age comes with the chart, which
# reads the same sums (chart()["totals"], filled in by reports.js).
PAGE_BUCKET_TOTALS_UP_TO = 20_000


def totals(ctx, report, flt, stmt):
    """The count and the debt, read from the accounts alone; the debt by age too when the debtors are few."""
    count, balance = ctx.session.execute(_filtered(ctx, flt, select(func.count(), func.coalesce(
        func.sum(Account.balance), 0)).select_from(Account), joined=False)).one()
    found = {"count": int(count), "balance": int(balance)}
    if 0 < found["count"] <= PAGE_BUCKET_TOTALS_UP_TO:
        found.update(_bucket_totals(ctx, flt, _debtor_ids(ctx, flt)))
    elif not found["count"]:
        found.update(dict.fromkeys(BUCKETS, 0))
    return found


def export_totals(ctx, report, flt, stmt):
    found = totals(ctx, report, flt, stmt)
    if BUCKETS[0] not in found:
        found.update(_bucket_totals(ctx, flt, _debtor_ids(ctx, flt)))
    return found


def _bucket_totals(ctx, flt, account_ids) -> dict:
    as_of = flt.as_of or ctx.today
    bucket = _bucket_of(as_of)
    charged = select(bucket, func.sum(Charge.amount)).where(Charge.account_id.in_(account_ids)).group_by(bucket)
    applied = (select(bucket, func.sum(Allocation.amount)).join(Allocation, Allocation.charge_id == Charge.id)
               .where(Charge.account_id.in_(account_ids)).group_by(bucket))
    sums = dict.fromkeys(BUCKETS, 0)
    for index, amount in ctx.session.execute(charged):
        sums[BUCKETS[index]] += int(amount)
    for index, amount in ctx.session.execute(applied):
        sums[BUCKETS[index]] -= int(amount)
    return sums


def chart(ctx, flt):
    sums = _bucket_totals(ctx, flt, _debtor_ids(ctx, flt))
    return {"type": "bar", "unit": "rials", "labels": [str(label) for label in BUCKET_LABELS],
            "datasets": [{"label": str(_l("Open debt")), "data": [sums[key] for key in BUCKETS]}],
            "totals": sums}  # the totals row's debt by age when the page left it to the chart


def defaults(ctx):
    return {"as_of": ctx.today}


REPORT = Report(
    key="debtors", title=_l("Debtors"),
    description=_l("Contracts owing at least a threshold, with their debt by age."),
    columns=COLUMNS, statement=statement, decorate=decorate, totals=totals, export_totals=export_totals, chart=chart,
    defaults=defaults,
    filters=("as_of", "region_id", "utility", "tariff_type", "min_amount", "max_amount"),
    notes=(_l("A charge's age runs from its due date to the report's date; not yet due counts as 0–30 days."),),
)
