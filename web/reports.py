"""The reports pages: an index, one page per report (filters, chart, a page of rows, totals), its print
view, and exports — at once when small, by a background job with progress and a download link otherwise."""

import io
import logging
from datetime import datetime
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from core.db import db, utcnow
from core.jalali import TEHRAN, InvalidJalaliDate, format_jalali_date, parse_jalali_date
from core.permissions import REPORTS_VIEW
from core.text import to_ascii_digits
from core.utilities import Utility
from engine.models import ProcessVersion
from ledger.models import Channel
from reports import exports
from reports.base import Context, ReportFilter, count_rows, run_page, with_defaults
from reports.catalogue import REPORTS
from reports.labels import label
from reports.models import ExportJob, ExportStatus
from subscribers.enums import TARIFF_TYPES
from web.access import region_choices, requires, user_regions
from web.filters import ui_language

log = logging.getLogger(__name__)
bp = Blueprint("reports", __name__, url_prefix="/reports")

DEFAULT_ROW_LIMIT = 5000  # rows an export writes within the request, and the most a print view shows
PAGE_SIZES = (25, 50, 100)

FILTER_LABELS = {
    "date_from": _l("From"), "date_to": _l("To"), "as_of": _l("As of"), "region_id": _l("Region"),
    "utility": _l("Utility"), "tariff_type": _l("Tariff type"), "min_amount": _l("Amount at least (rials)"),
    "max_amount": _l("Amount at most (rials)"), "channel": _l("Channel"), "planned": _l("Planned or not"),
    "process_key": _l("Procedure"), "group": _l("Show"),
}
DATE_FIELDS = ("date_from", "date_to", "as_of")
AMOUNT_FIELDS = ("min_amount", "max_amount")


def row_limit() -> int:
    return int(current_app.config.get("MADAM_REPORTS_EXPORT_ROW_LIMIT", DEFAULT_ROW_LIMIT))


def export_dir() -> str:
    return str(Path(current_app.config["MADAM_DATA_DIR"]) / "exports")


def _context() -> Context:
    now = utcnow()
    return Context(db.session, current_user, now.astimezone(TEHRAN).date(), now)


def _report(key: str):
    report = REPORTS.get(key)
    if report is None:
        abort(404)
    return report


def _choices(report, name: str) -> list[tuple[str, str]]:
    """(value, label) options of a select filter."""
    if name == "region_id":
        return [(str(i), text) for i, text in region_choices(user_regions(REPORTS_VIEW))]
    if name == "utility":
        return [(u.value, label(u.value)) for u in Utility]
    if name == "tariff_type":
        return [(t, label(t)) for t in TARIFF_TYPES]
    if name == "channel":
        return [(c.value, label(c.value)) for c in Channel]
    if name == "planned":
        return [("planned", label("planned")), ("unplanned", label("unplanned"))]
    if name == "process_key":
        rows = db.session.execute(select(ProcessVersion.process_key, func.max(ProcessVersion.name))
                                  .group_by(ProcessVersion.process_key).order_by(ProcessVersion.process_key))
        return [(key, name or key) for key, name in rows]
    if name == "group":
        return [(value, str(text)) for value, text in report.groups]
    return []


def parse_filter(report, args) -> tuple[ReportFilter, dict[str, str], set[str]]:
    """The filter from the query string: (filter, {field: message in the user's language}, fields given)."""
    flt, errors, given = ReportFilter(), {}, set()
    for name in report.filters:
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        given.add(name)
        field_label = FILTER_LABELS[name]
        if name in DATE_FIELDS:
            try:
                setattr(flt, name, parse_jalali_date(raw))
            except InvalidJalaliDate:
                errors[name] = _("%(field)s: enter a Jalali date like 1403/12/30.", field=field_label)
        elif name in AMOUNT_FIELDS:
            digits = to_ascii_digits(raw).replace(",", "").replace("٬", "").replace(" ", "")
            if digits.isdigit():
                setattr(flt, name, int(digits))
            else:
                errors[name] = _("%(field)s: enter a whole number of rials.", field=field_label)
        elif raw in {value for value, _text in _choices(report, name)}:
            setattr(flt, name, int(raw) if name == "region_id" else raw)
        else:
            errors[name] = _("%(field)s: choose one of the options.", field=field_label)
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        errors["date_to"] = _("%(field)s: the end of the period comes before its start.",
                              field=FILTER_LABELS["date_to"])
    if flt.min_amount is not None and flt.max_amount is not None and flt.min_amount > flt.max_amount:
        errors["max_amount"] = _("%(field)s: less than the lower bound.", field=FILTER_LABELS["max_amount"])
    return flt, errors, given


def _given_args(flt: ReportFilter, report) -> dict[str, str]:
    """The filter as the form shows it: Jalali dates, plain numbers (what the hidden export fields carry)."""
    shown = {}
    for name in report.filters:
        value = getattr(flt, name)
        if value is None:
            continue
        shown[name] = format_jalali_date(value, persian_digits=False) if name in DATE_FIELDS else str(value)
    return shown


def _prepared(report):
    flt, errors, given = parse_filter(report, request.args)
    ctx = _context()
    return ctx, with_defaults(ctx, report, flt, given), errors


@bp.app_template_global()
def report_label(value) -> str:
    return label(value)


@bp.get("/")
@requires(REPORTS_VIEW)
def index():
    return render_template("reports/index.html", reports=list(REPORTS.values()))


def _page_size() -> int:
    size = request.args.get("size", type=int)
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


@bp.get("/<key>")
@requires(REPORTS_VIEW)
def show(key: str):
    report = _report(key)
    ctx, flt, errors = _prepared(report)
    printing = request.args.get("print") == "1"
    page = None
    if not errors:
        size = row_limit() if printing else _page_size()
        page = run_page(ctx, report, flt, max(request.args.get("page", 1, type=int), 1), size)
        if printing and report.export_totals:  # the printed list carries the totals a file would
            page.totals = report.export_totals(ctx, report, flt, None)
            page.totals.pop("count", None)
    template = "reports/print.html" if printing else "reports/report.html"
    return render_template(template, report=report, flt=flt, errors=errors, page=page,
                           columns=report.columns_for(flt), args=_given_args(flt, report),
                           choices={name: _choices(report, name) for name in report.filters},
                           labels=FILTER_LABELS, date_fields=DATE_FIELDS, row_limit=row_limit(),
                           printed_at=datetime.now(TEHRAN)), 422 if errors else 200


@bp.get("/<key>/chart.json")
@requires(REPORTS_VIEW)
def chart(key: str):
    report = _report(key)
    if report.chart is None:
        abort(404)
    ctx, flt, errors = _prepared(report)
    if errors:
        return jsonify({"errors": errors}), 422
    return jsonify(report.chart(ctx, flt))


@bp.post("/<key>/export")
@requires(REPORTS_VIEW)
def export(key: str):
    report = _report(key)
    fmt = request.form.get("format")
    if fmt not in exports.FORMATS:
        abort(400)
    flt, errors, given = parse_filter(report, request.form)
    ctx = _context()
    flt = with_defaults(ctx, report, flt, given)
    if errors:
        for message in errors.values():
            flash(message, "danger")
        return redirect(url_for(".show", key=key))
    total = count_rows(ctx, report, flt)
    if total <= row_limit():
        out = io.BytesIO()
        exports.write_export(out, fmt, ctx, report, flt, locale=ui_language())
        out.seek(0)
        return send_file(out, mimetype=exports.CONTENT_TYPES[fmt], as_attachment=True,
                         download_name=exports.download_name(report.key, fmt, ctx.now))
    job = exports.request_export(db.session, current_user, report, flt, fmt, total, ui_language())
    db.session.commit()
    backend = current_app.extensions["madam_jobs"]
    try:
        queued = backend.enqueue(exports.run_export_job, job.id, export_dir(), queue="reports",
                                 **({"job_timeout": 3600} if backend.redis_url else {}))
    except Exception:  # the in-process run failed: the job page says so
        log.exception("export %s failed", job.id)
        db.session.rollback()
    else:
        if backend.redis_url:
            job.queue_job_id = queued.id
            db.session.commit()
    return redirect(url_for(".export_job", export_id=job.id))


def _my_job(export_id: int) -> ExportJob:
    job = db.session.get(ExportJob, export_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


@bp.get("/exports")
@requires(REPORTS_VIEW)
def my_exports():
    jobs = db.session.scalars(select(ExportJob).where(ExportJob.user_id == current_user.id)
                              .order_by(ExportJob.id.desc()).limit(50)).all()
    return render_template("reports/exports.html", jobs=jobs, reports=REPORTS)


@bp.get("/exports/<int:export_id>")
@requires(REPORTS_VIEW)
def export_job(export_id: int):
    job = _my_job(export_id)
    status, done = exports.live_progress(job, current_app.extensions["madam_jobs"])
    return render_template("reports/export_job.html", job=job, status=status, done=done,
                           report=REPORTS.get(job.report_key))


@bp.get("/exports/<int:export_id>/progress")
@requires(REPORTS_VIEW)
def export_progress(export_id: int):
    job = _my_job(export_id)
    status, done = exports.live_progress(job, current_app.extensions["madam_jobs"])
    return jsonify({"status": status, "done_rows": done, "total_rows": job.total_rows,
                    "finished": status in (ExportStatus.DONE, ExportStatus.FAILED)})


@bp.get("/exports/<int:export_id>/download")
@requires(REPORTS_VIEW)
def export_download(export_id: int):
    job = _my_job(export_id)
    path = exports.file_of(job, export_dir())
    if path is None:
        abort(404)
    return send_file(path, mimetype=exports.CONTENT_TYPES[job.format], as_attachment=True,
                     download_name=exports.download_name(job.report_key, job.format, job.created_at))
