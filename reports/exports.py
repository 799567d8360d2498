"""A report's rows as CSV or XLSX: written at once for a small export, or by a background job (RQ on Redis,
in-process without it) into the exports folder, which lies outside the web root; the page that asked for it
shows the job's progress and, once done, a download link checked against the user.
"""

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from core.accounts import User
from core.db import db, utcnow
from core.jalali import TEHRAN, format_jalali_date, format_jalali_datetime
from reports.base import CODE, DATE, DATETIME, HOURS, INT, LABEL, RIALS, Context, ReportFilter, iter_rows
from reports.catalogue import REPORTS
from reports.labels import label
from reports.models import ExportJob, ExportStatus

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PROGRESS_EVERY = 2000
TOTAL = _l("Total")


def cell(kind: str, value):
    """A value as the spreadsheet holds it: numbers as numbers, dates as Jalali text, labels in words."""
    if value is None:
        return None
    if kind in (RIALS, INT):
        return int(value)
    if kind == HOURS:
        return round(int(value) / 3600, 1)
    if kind == DATE:
        return format_jalali_date(value, persian_digits=False)
    if kind == DATETIME:
        return format_jalali_datetime(value, persian_digits=False)
    if kind == LABEL:
        return label(value)
    return str(value) if kind == CODE else value


def _lines(columns, rows, totals, on_row=None):
    yield [str(c.label) for c in columns]
    for n, row in enumerate(rows, start=1):
        yield [cell(c.kind, row.get(c.key)) for c in columns]
        if on_row:
            on_row(n)
    if totals is not None:
        first = [str(TOTAL)]
        yield first + [cell(c.kind, totals.get(c.key)) if c.total else None for c in columns[1:]]


def write_csv(out, columns, rows, totals=None, on_row=None) -> None:
    """UTF-8 with a byte-order mark, so Excel reads Persian text right."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    for line in _lines(columns, rows, totals, on_row):
        writer.writerow(["" if v is None else v for v in line])
    text.flush()
    text.detach()


def write_xlsx(out, title: str, columns, rows, totals=None, on_row=None, rtl: bool = True) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "report")
    sheet.sheet_view.rightToLeft = rtl
    for line in _lines(columns, rows, totals, on_row):
        sheet.append(line)
    book.save(out)


def write_export(out, fmt: str, ctx: Context, report, flt: ReportFilter, on_row=None, locale: str = "fa") -> None:
    columns = report.columns_for(flt)
    totals = (report.export_totals or report.totals)(ctx, report, flt, report.statement(ctx, flt))
    rows = iter_rows(ctx, report, flt)
    if fmt == "xlsx":
        write_xlsx(out, str(report.title), columns, rows, totals, on_row, rtl=locale == "fa")
    else:
        write_csv(out, columns, rows, totals, on_row)


def download_name(report_key: str, fmt: str, when: datetime) -> str:
    return f"{report_key}-{format_jalali_date(when, persian_digits=False).replace('/', '')}.{fmt}"


def request_export(session, user, report, flt: ReportFilter, fmt: str, total_rows: int, locale: str) -> ExportJob:
    job = ExportJob(user_id=user.id, report_key=report.key, format=fmt, params=flt.to_params(), locale=locale,
                    total_rows=total_rows)
    session.add(job)
    session.flush()
    return job


def _progress_to_queue(n: int) -> None:
    if n % PROGRESS_EVERY:
        return
    from rq import get_current_job

    queued = get_current_job()
    if queued is not None:
        queued.meta["done_rows"] = n
        queued.save_meta()


def run_export_job(export_id: int, export_dir: str) -> str:
    """The job (an edge: it commits). Writes the file as the user who asked would see the report."""
    session = db.session
    job = session.get(ExportJob, export_id)
    if job is None or job.status != ExportStatus.QUEUED:
        return "skipped"
    job.status = ExportStatus.RUNNING
    session.commit()
    report, user = REPORTS[job.report_key], session.get(User, job.user_id)
    now = utcnow()
    ctx = Context(session, user, now.astimezone(TEHRAN).date(), now)
    folder = Path(export_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.id}-{report.key}.{job.format}"
    counted = {"rows": 0}

    def on_row(n):
        counted["rows"] = n
        _progress_to_queue(n)

    try:
        with force_locale(job.locale), open(folder / name, "wb") as out:
            write_export(out, job.format, ctx, report, ReportFilter.from_params(job.params), on_row, job.locale)
    except Exception as exc:
        session.rollback()
        (folder / name).unlink(missing_ok=True)
        job = session.get(ExportJob, export_id)
        job.status, job.error, job.finished_at = ExportStatus.FAILED, str(exc)[:2000], utcnow()
        session.commit()
        raise
    job = session.get(ExportJob, export_id)
    job.status, job.filename, job.done_rows, job.finished_at = ExportStatus.DONE, name, counted["rows"], utcnow()
    session.commit()
    return name


def live_progress(job: ExportJob, backend) -> tuple[str, int]:
    """(status, rows written): the queue's word while the job runs, the table's once it has finished."""
    if job.status in (ExportStatus.DONE, ExportStatus.FAILED) or not (job.queue_job_id and backend.redis_url):
        return job.status, job.done_rows
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        queued = Job.fetch(job.queue_job_id, connection=backend.connection())
    except NoSuchJobError:
        return job.status, job.done_rows
    state = queued.get_status()
    if state == "failed":
        return ExportStatus.FAILED, job.done_rows
    return (ExportStatus.RUNNING if state == "started" else job.status), int(queued.meta.get("done_rows", 0))


def file_of(job: ExportJob, export_dir: str) -> Path | None:
    """The job's file, if it is done and its name is one this module wrote (never a path from elsewhere)."""
    if job.status != ExportStatus.DONE or not re.fullmatch(r"\d+-[a-z_]+\.(csv|xlsx)", job.filename or ""):
        return None
    path = Path(export_dir) / job.filename
    return path if path.is_file() else None
