"""Collections (وصولی): money received per day and payment channel, from the payments the ledger posted.

A payment later reversed is left out. A payment that found no contract (held in suspense) has no region and
shows to nobody here.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, exists, func, select

from core.jalali import format_jalali_date
from ledger.models import Account, AccountKind, Journal, Payment
from reports.base import DATE, INT, LABEL, RIALS, Column, Report, jalali_month_start
from reports.labels import label
from reports.sql import in_region

COLUMNS = [
    Column("paid_on", _l("Day"), DATE),
    Column("channel", _l("Channel"), LABEL),
    Column("payments", _l("Payments"), INT, total=True),
    Column("amount", _l("Amount"), RIALS, total=True),
]


def _payments(ctx, flt):
    # `is not null` lets PostgreSQL read the reversals from their small partial index.
    reversed_ = exists().where(Journal.reverses_id == Payment.journal_id, Journal.reverses_id.is_not(None))
    stmt = (select(Payment.paid_on, Payment.channel, Payment.amount)
            .join(Account, (Account.contract_id == Payment.contract_id) & (Account.kind == AccountKind.RECEIVABLE))
            .where(~reversed_))
    if flt.date_from:
        stmt = stmt.where(Payment.paid_on >= flt.date_from)
    if flt.date_to:
        stmt = stmt.where(Payment.paid_on <= flt.date_to)
    if flt.channel:
        stmt = stmt.where(Payment.channel == flt.channel)
    if flt.region_id:
        stmt = stmt.where(in_region(Account.region_id, flt.region_id))
    return ctx.scope(stmt, Account.region_id).subquery()


def statement(ctx, flt):
    payments = _payments(ctx, flt)
    return (select(payments.c.paid_on, payments.c.channel, func.count().label("payments"),
                   cast(func.sum(payments.c.amount), BigInteger).label("amount"))
            .group_by(payments.c.paid_on, payments.c.channel).order_by(payments.c.paid_on, payments.c.channel))


def chart(ctx, flt):
    rows = ctx.session.execute(statement(ctx, flt)).all()
    days = sorted({day for day, *_ in rows})
    channels = sorted({channel for _, channel, *_ in rows})
    amounts = {(day, channel): int(amount) for day, channel, _count, amount in rows}
    return {"type": "bar", "unit": "rials", "stacked": True,
            "labels": [format_jalali_date(day, persian_digits=False) for day in days],
            "datasets": [{"label": label(channel), "data": [amounts.get((day, channel), 0) for day in days]}
                         for channel in channels]}


def defaults(ctx):
    return {"date_from": jalali_month_start(ctx.today), "date_to": ctx.today}


REPORT = Report(
    key="collections", title=_l("Collections by channel and day"),
    description=_l("Payments received per day and channel."),
    materialize=lambda flt: True,
    columns=COLUMNS, statement=statement, chart=chart, defaults=defaults,
    filters=("date_from", "date_to", "region_id", "channel"),
    notes=(_l("Reversed payments are left out."),),
)
