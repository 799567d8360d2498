"""Billing summary per run and per period: how many bills were issued and for how much — charges, VAT, levies,
the rounding forgone and what subscribers were asked to pay. Per run it also counts the contracts skipped or
still pending; per period it counts every issued bill, from a run or issued at the counter.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, case, cast, func, select

from billing.models import Bill, BillStatus
from billing.run_models import BillingRun, BillingRunContract, RunContractStatus
from core.regions import Region
from reports.base import CODE, DATE, INT, LABEL, RIALS, TEXT, Column, Report
from reports.sql import in_region
from subscribers.models import Contract

PER_RUN, PER_PERIOD = "run", "period"
MONEY = (("charges", _l("Charges")), ("vat", _l("VAT")), ("levies", _l("Levies")), ("rounding", _l("Rounding")),
         ("payable", _l("Payable")))

RUN_COLUMNS = [
    Column("run", _l("Run"), INT),
    Column("utility", _l("Utility"), LABEL),
    Column("period", _l("Period"), CODE),
    Column("issued_on", _l("Issued on"), DATE),
    Column("status", _l("State"), LABEL),
    Column("contracts", _l("Contracts"), INT, total=True),
    Column("billed", _l("Billed"), INT, total=True),
    Column("skipped", _l("Skipped"), INT, total=True),
    Column("pending", _l("Pending"), INT, total=True),
    *(Column(key, label, RIALS, total=True) for key, label in MONEY),
]
PERIOD_COLUMNS = [
    Column("period", _l("Period"), CODE),
    Column("region", _l("Region"), TEXT),
    Column("bills", _l("Bills"), INT, total=True),
    Column("cancelled", _l("Cancelled"), INT, total=True),
    *(Column(key, label, RIALS, total=True) for key, label in MONEY),
]


def _money(only_issued):
    return [cast(func.coalesce(func.sum(case((only_issued, getattr(Bill, key)), else_=0)), 0), BigInteger).label(key)
            for key, _label in MONEY]


def _per_run(ctx, flt):
    issued = Bill.status == BillStatus.ISSUED
    counted = lambda status: func.sum(case((BillingRunContract.status == status, 1), else_=0))  # noqa: E731
    stmt = (select(BillingRun.id.label("run"), BillingRun.utility, BillingRun.period, BillingRun.issued_on,
                   BillingRun.status, func.count().label("contracts"),
                   counted(RunContractStatus.BILLED).label("billed"),
                   counted(RunContractStatus.SKIPPED).label("skipped"),
                   counted(RunContractStatus.PENDING).label("pending"), *_money(issued))
            .select_from(BillingRunContract).join(BillingRun, BillingRun.id == BillingRunContract.run_id)
            .join(Contract, Contract.id == BillingRunContract.contract_id)
            .outerjoin(Bill, Bill.id == BillingRunContract.bill_pk)
            .group_by(BillingRun.id))
    if flt.date_from:
        stmt = stmt.where(BillingRun.issued_on >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(BillingRun.issued_on <= flt.date_to)
    if flt.utility:
        stmt = stmt.where(BillingRun.utility == flt.utility)
    if flt.region_id:
        stmt = stmt.where(in_region(Contract.region_id, flt.region_id))
    rows = ctx.scope(stmt, Contract.region_id).subquery()
    return select(rows).order_by(rows.c.run.desc())


def _per_period(ctx, flt):
    issued = Bill.status == BillStatus.ISSUED
    stmt = (select(Bill.period, Region.name.label("region"), func.sum(case((issued, 1), else_=0)).label("bills"),
                   func.sum(case((issued, 0), else_=1)).label("cancelled"), *_money(issued))
            .join(Region, Region.id == Bill.region_id).group_by(Bill.period, Region.name))
    if flt.date_from:
        stmt = stmt.where(Bill.issued_on >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(Bill.issued_on <= flt.date_to)
    if flt.region_id:
        stmt = stmt.where(in_region(Bill.region_id, flt.region_id))
    rows = ctx.scope(stmt, Bill.region_id).subquery()
    return select(rows).order_by(rows.c.period.desc(), rows.c.region)


def statement(ctx, flt):
    return _per_period(ctx, flt) if flt.group == PER_PERIOD else _per_run(ctx, flt)


def chart(ctx, flt):
    rows = list(reversed(ctx.session.execute(_per_period(ctx, flt)).mappings().all()))
    periods = sorted({r["period"] for r in rows})
    payable = dict.fromkeys(periods, 0)
    for r in rows:
        payable[r["period"]] += int(r["payable"])
    return {"type": "bar", "unit": "rials", "labels": periods,
            "datasets": [{"label": str(_l("Payable")), "data": [payable[p] for p in periods]}]}


REPORT = Report(
    key="billing_summary", title=_l("Billing summary"),
    description=_l("Bills issued per run and per period: how many, and for how much."),
    materialize=lambda flt: True,
    columns=RUN_COLUMNS, columns_by_group={PER_PERIOD: PERIOD_COLUMNS}, statement=statement, chart=chart,
    filters=("date_from", "date_to", "region_id", "utility", "group"),
    groups=((PER_RUN, _l("Per run")), (PER_PERIOD, _l("Per period"))),
    notes=(_l("The dates filter the day the bills were issued."),
           _l("A cancelled bill is counted apart and adds nothing to the amounts.")),
)
