"""What every report shares: its columns, its filter, the context it runs in (who, for which regions, on
which day), one page of rows with the count and totals, and every row for an export.

A report is a plain record of functions (`Report`): `statement(ctx, flt)` is the SQL of its rows, already
limited to the user's regions and ordered; `decorate(ctx, flt, rows)` adds what is cheaper to read for a
page of rows than for all of them; `totals` and `chart` read the figures the page shows above and below.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from sqlalchemy import func, select

from core.jalali import to_jalali
from core.permissions import REPORTS_VIEW, scope_to_regions
from reports.sql import report_settings

# How a column's values are shown and exported (HOURS: a number of seconds, shown as hours).
TEXT, CODE, INT, RIALS, DATE, DATETIME, HOURS, LABEL = ("text", "code", "int", "rials", "date", "datetime",
                                                         "hours", "label")


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # a lazy translated string
    kind: str = TEXT
    total: bool = False  # summed in the totals row


@dataclass
class ReportFilter:
    """Every filter a report may offer; each report reads the ones it declares in `Report.filters`."""

    date_from: date | None = None
    date_to: date | None = None
    as_of: date | None = None
    region_id: int | None = None
    utility: str | None = None
    tariff_type: str | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    channel: str | None = None
    planned: str | None = None  # planned | unplanned
    process_key: str | None = None
    group: str | None = None  # a report's grouping, e.g. outages per subscriber or per region

    def to_params(self) -> dict:
        """JSON-safe, for an export job to run the same filter later."""
        return {f.name: (v.isoformat() if isinstance(v, date) else v)
                for f in fields(self) if (v := getattr(self, f.name)) is not None}

    @classmethod
    def from_params(cls, params: dict) -> "ReportFilter":
        values = {}
        for f in fields(cls):
            value = params.get(f.name)
            if value is not None and f.name in ("date_from", "date_to", "as_of"):
                value = date.fromisoformat(value)
            values[f.name] = value
        return cls(**values)


@dataclass
class Context:
    """Who runs the report and when: rows are limited to where `user` holds reports.view."""

    session: object
    user: object
    today: date
    now: datetime

    def __post_init__(self):
        report_settings(self.session)

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def scope(self, stmt, region_id_column):
        return scope_to_regions(stmt, region_id_column, self.session, self.user, REPORTS_VIEW)


def _no_decoration(ctx, flt, rows):
    return rows


def _sum_columns(ctx, report, flt, stmt) -> dict:
    """The count of rows and the sum of each total column, in one pass over the rows' statement."""
    rows = stmt.order_by(None).subquery()
    sums = [func.coalesce(func.sum(rows.c[c.key]), 0).label(c.key) for c in report.columns_for(flt) if c.total]
    result = ctx.session.execute(select(func.count().label("count"), *sums).select_from(rows)).mappings().one()
    return {key: int(value) for key, value in result.items()}


@dataclass(frozen=True)
class Report:
    key: str
    title: object
    description: object
    columns: list[Column]
    statement: Callable  # (ctx, flt) -> Select
    filters: tuple[str, ...] = ()
    defaults: Callable | None = None  # (ctx) -> dict of filter values when none were given
    decorate: Callable = _no_decoration
    # (ctx, flt, limit, offset) -> a page's rows as `statement` gives them, read a cheaper way; None: read `statement`
    first_rows: Callable | None = None
    totals: Callable = _sum_columns  # (ctx, report, flt, stmt) -> {"count": n, column key: sum}
    export_totals: Callable | None = None  # totals too slow for a page but wanted in a file; else `totals`
    chart: Callable | None = None  # (ctx, flt) -> {"type", "labels", "datasets": [{"label", "data"}], "unit"}
    groups: tuple[tuple[str, object], ...] = ()  # (value, label) of the `group` filter, first is the default
    notes: tuple = field(default=())  # what the reader should know about how figures are read
    columns_by_group: dict = field(default_factory=dict)  # a grouping whose rows have other columns
    # (flt) -> whether the rows are few (a summary per day, per step…): read once, counted and paged in memory
    materialize: Callable = lambda flt: False

    def columns_for(self, flt: ReportFilter) -> list[Column]:
        return self.columns_by_group.get(flt.group, self.columns)


@dataclass
class Page:
    rows: list[dict]
    total: int
    totals: dict
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)


def run_page(ctx: Context, report: Report, flt: ReportFilter, page: int = 1, page_size: int = 25) -> Page:
    stmt = report.statement(ctx, flt)
    if report.materialize(flt):  # a summary's few rows: one pass instead of one for the count and one for the page
        rows = [dict(r) for r in ctx.session.execute(stmt).mappings()]
        totals = {c.key: sum(int(r[c.key] or 0) for r in rows) for c in report.columns_for(flt) if c.total}
        shown = rows[(page - 1) * page_size: page * page_size]
        return Page(report.decorate(ctx, flt, shown), len(rows), totals, page, page_size)
    totals = report.totals(ctx, report, flt, stmt)
    rows = report.first_rows(ctx, flt, page_size, (page - 1) * page_size) if report.first_rows else None
    if rows is None:
        rows = [dict(r) for r in ctx.session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).mappings()]
    return Page(report.decorate(ctx, flt, rows), totals.pop("count"), totals, page, page_size)


def count_rows(ctx: Context, report: Report, flt: ReportFilter) -> int:
    stmt = report.statement(ctx, flt).order_by(None).subquery()
    return int(ctx.session.scalar(select(func.count()).select_from(stmt)))


def iter_rows(ctx: Context, report: Report, flt: ReportFilter, batch: int = 2000) -> Iterator[dict]:
    """Every row, read in batches from one cursor (a consistent snapshot), each batch decorated."""
    result = ctx.session.execute(report.statement(ctx, flt).execution_options(yield_per=batch))
    for part in result.mappings().partitions():
        yield from report.decorate(ctx, flt, [dict(r) for r in part])


def jalali_month_start(day: date) -> date:
    j = to_jalali(day)
    return j.replace(day=1).togregorian()


def with_defaults(ctx: Context, report: Report, flt: ReportFilter, given: set[str]) -> ReportFilter:
    """The report's default filter values for the fields the user left out, and its first grouping."""
    for name, value in (report.defaults(ctx) if report.defaults else {}).items():
        if name not in given and getattr(flt, name) is None:
            setattr(flt, name, value)
    if report.groups and flt.group not in {value for value, _label in report.groups}:
        flt.group = report.groups[0][0]
    return flt
