"""SQL pieces the reports share. The dialect-specific ones (time arithmetic) are here and nowhere else."""

from datetime import date, datetime, timedelta

from sqlalchemy import Date, case, cast, func, select, text

from core.jalali import tehran_day_start
from core.regions import Region
from subscribers.models import Subscriber


def subscriber_name():
    """A person's first and last name, or a legal entity's name."""
    return case((Subscriber.kind == "legal", Subscriber.legal_name),
                else_=Subscriber.first_name + " " + Subscriber.last_name)


def in_region(column, region_id: int):
    """`column` holds the given region or one below it."""
    path = select(Region.path).where(Region.id == region_id).scalar_subquery()
    return column.in_(select(Region.id).where(Region.path.startswith(path)))


def seconds_between(dialect: str, start, end):
    """`end - start` in seconds, for two timestamp expressions."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def tehran_date(dialect: str, instant):
    """The calendar day in Tehran of a timestamp expression (stored in UTC): an outage that began at 00:30 Tehran
    time began on that day, not on the UTC day before. Iran keeps +03:30 all year (no daylight saving since 2022)."""
    if dialect == "sqlite":
        return func.date(instant, "+210 minutes")
    return cast(func.timezone("Asia/Tehran", instant), Date)


def day_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The UTC instants a range of Tehran calendar days begins and ends (the end exclusive)."""
    start = tehran_day_start(date_from) if date_from else None
    end = tehran_day_start(date_to + timedelta(days=1)) if date_to else None
    return start, end


def greatest(dialect: str, *values):
    return func.max(*values) if dialect == "sqlite" else func.greatest(*values)


def least(dialect: str, *values):
    return func.min(*values) if dialect == "sqlite" else func.least(*values)


REPORT_WORK_MEM = "64MB"  # per sort or hash of a report's query, for its transaction only


def report_settings(session) -> None:
    """For the transaction a report runs in, on PostgreSQL: no JIT — it compiles a plan to machine code when its
    estimated cost is high, which for a report's queries (an index read per region or per row, on a million
    contracts) costs seconds more than it saves — and REPORT_WORK_MEM for its sorts and hashes: grouping the
    contracts an outage reached (300k at a million subscribers) spills to disk at the default 4 MB (1.45 s for
    the first page; 0.9 s with 64 MB)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
