"""Consumption by tariff type, region and month: what the issued bills' readings measured, per Jalali month
(the bill's period), tariff type and region. A cancelled bill's readings are left out; its replacement counts.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, func, select

from billing.models import Bill, BillStatus, MeterReading, TariffType
from core.jalali import to_jalali
from core.regions import Region
from reports.base import CODE, INT, LABEL, TEXT, Column, Report
from reports.sql import in_region

COLUMNS = [
    Column("period", _l("Month"), CODE),
    Column("utility", _l("Utility"), LABEL),
    Column("tariff_type", _l("Tariff type"), TEXT),
    Column("region", _l("Region"), TEXT),
    Column("bills", _l("Bills"), INT, total=True),
    Column("consumption", _l("Consumption"), INT, total=True),
]


def _periods(flt):
    """The Jalali months ("1404/07") the filter's dates fall in, as bounds on the bill's period."""
    bounds = []
    if flt.date_from:
        j = to_jalali(flt.date_from)
        bounds.append(Bill.period >= f"{j.year:04d}/{j.month:02d}")
    if flt.date_to:
        j = to_jalali(flt.date_to)
        bounds.append(Bill.period <= f"{j.year:04d}/{j.month:02d}")
    return bounds


def _rows(ctx, flt):
    stmt = (select(Bill.period, TariffType.utility, TariffType.name.label("tariff_type"), Region.name.label("region"),
                   func.count(func.distinct(Bill.id)).label("bills"),
                   cast(func.coalesce(func.sum(MeterReading.consumption), 0), BigInteger).label("consumption"))
            .select_from(Bill).join(TariffType, TariffType.id == Bill.tariff_type_id)
            .join(Region, Region.id == Bill.region_id)
            .outerjoin(MeterReading, MeterReading.bill_id == Bill.id)
            .where(Bill.status == BillStatus.ISSUED, *_periods(flt)))
    if flt.utility:
        stmt = stmt.where(TariffType.utility == flt.utility)
    if flt.tariff_type:
        stmt = stmt.where(TariffType.slug == flt.tariff_type)
    if flt.region_id:
        stmt = stmt.where(in_region(Bill.region_id, flt.region_id))
    return ctx.scope(stmt, Bill.region_id).group_by(Bill.period, TariffType.utility, TariffType.name, Region.name)


def statement(ctx, flt):
    rows = _rows(ctx, flt).subquery()
    return select(rows).order_by(rows.c.period.desc(), rows.c.utility, rows.c.tariff_type, rows.c.region)


def chart(ctx, flt):
    rows = ctx.session.execute(_rows(ctx, flt)).mappings().all()
    periods = sorted({r["period"] for r in rows})
    series: dict = {}
    for r in rows:
        key = f"{r['tariff_type']}"
        series.setdefault(key, dict.fromkeys(periods, 0))[r["period"]] += int(r["consumption"])
    datasets = [{"label": name, "data": [values[p] for p in periods]} for name, values in sorted(series.items())]
    return {"type": "line", "unit": "count", "labels": periods, "datasets": datasets}


REPORT = Report(
    key="consumption", title=_l("Consumption by tariff type, region and month"),
    description=_l("What the issued bills measured, per month, tariff type and region."),
    materialize=lambda flt: True,
    columns=COLUMNS, statement=statement, chart=chart,
    filters=("date_from", "date_to", "region_id", "utility", "tariff_type"),
    notes=(_l("Months are the bills' periods; the dates pick the months they fall in."),
           _l("Consumption is in each utility's unit (kWh, cubic metres) and is not added across utilities.")),
)
