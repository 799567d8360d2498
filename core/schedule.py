"""Daily jobs (a rule run once a day, such as starting disconnections for overdue debt): each job's day is
claimed in the database, so that however many timer loops run — the embedded server's, every worker's —
a job runs once a day. Its last start, end, result or error are kept for the admin to see."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TZDateTime, utcnow

# Each daily job and the setting holding its hour (Tehran time; None: off). The jobs themselves are in
# madam.scheduler, which may reach the procedures.
DAILY_JOB_HOURS = {"disconnection_rule": "MADAM_DISCONNECTION_RULE_HOUR"}


class ScheduledRun(Base):
    __tablename__ = "scheduled_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_day: Mapped[date | None] = mapped_column(Date)  # the day (Tehran) whose run was claimed
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(String(1000), default="")


def claim(session, name: str, day: date) -> bool:
    """Take `name`'s run of `day`, in the caller's transaction: True for exactly one caller a day. On
    PostgreSQL a second caller waits on the row until the first commits (or rolls back: a run that died
    leaves the day unclaimed, and the next pass runs it)."""
    if session.get(ScheduledRun, name) is None:
        try:
            with session.begin_nested():
                session.add(ScheduledRun(name=name, error=""))
        except IntegrityError:
            pass  # another loop added it first
    claimed = session.execute(
        update(ScheduledRun).where(ScheduledRun.name == name,
                                   or_(ScheduledRun.last_day.is_(None), ScheduledRun.last_day < day))
        .values(last_day=day, started_at=utcnow(), finished_at=None, result=None, error="")
        .execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def finish(session, name: str, *, day: date, result: dict | None = None, error: str = "") -> None:
    """The outcome of `name`'s run of `day` (a failed run keeps its day: it is tried again tomorrow)."""
    session.execute(update(ScheduledRun).where(ScheduledRun.name == name).values(
        last_day=day, finished_at=utcnow(), result=result, error=error[:1000])
        .execution_options(synchronize_session=False))


def last_runs(session) -> list[ScheduledRun]:
    return list(session.scalars(select(ScheduledRun).order_by(ScheduledRun.name)))
