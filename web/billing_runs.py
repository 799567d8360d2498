"""General bill issuance pages: the runs, each run's progress (live), its exceptions to fix, its totals by
tariff type and region, pause and resume, and the file for the bank and the printing house."""

import csv
import io

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from billing import runs
from billing.models import Bill
from billing.run_models import BillingRun, BillingRunContract, RunStatus
from core import permissions as p
from core.db import db
from core.errors import DomainError
from core.jalali import format_jalali_date
from core.jobs import after_commit
from core.messages import message_for, register_messages
from core.regions import Region
from engine.models import Instance
from subscribers.models import Contract
from web.access import requires, user_regions

bp = Blueprint("billing_runs", __name__, url_prefix="/billing/runs")

register_messages({
    "billing.run_period_invalid": lambda _p: _("Write the period as a Jalali year and month, like 1404/07."),
    "billing.run_regions_invalid": lambda _p: _("Choose the regions of the run."),
    "billing.run_due_days_invalid": lambda _p: _("The days to pay are 1 to 90."),
    "billing.run_overlaps": lambda params: _("Run %(run)s of the same period already covers some of these "
                                             "contracts.", run=params.get("run")),
    "billing.run_state": lambda _p: _("The run is not in a state that allows this."),
    "billing.run_approver_same": lambda _p: _("The run must be approved by someone other than who scoped it."),
    "billing.run_not_found": lambda _p: _("There is no such billing run."),
    "billing.reading_outside_period": lambda params: _(
        "The latest reading falls in %(period)s, not in the run's month.", period=params.get("period")),
    "billing.tariff_missing": lambda _p: _("No published tariff applies to the contract's tariff type."),
})

def _labels() -> dict:
    return {RunStatus.PREVIEWED: _("Awaiting approval"), RunStatus.APPROVED: _("Approved"),
            RunStatus.RUNNING: _("Running"), RunStatus.PAUSED: _("Paused"), RunStatus.FINISHED: _("Awaiting review"),
            RunStatus.PUBLISHED: _("Published"), RunStatus.CANCELLED: _("Cancelled")}


def _visible(permission: str = p.BILLING_VIEW):
    """The runs whose every region lies in the user's regions for `permission`."""
    mine = {r.id for r in user_regions(permission)}
    return mine, lambda run: set(run.region_ids or []) <= mine


def _run_for_me(run_id: int, permission: str = p.BILLING_VIEW) -> BillingRun:
    run = db.session.get(BillingRun, run_id)
    _mine, visible = _visible(permission)
    if run is None or not visible(run):
        abort(404)
    return run


def _reason(code: str) -> str:
    return message_for(DomainError(code)) if code else ""


@bp.get("")
@requires(p.BILLING_VIEW)
def index():
    _mine, visible = _visible()
    all_runs = db.session.scalars(select(BillingRun).order_by(BillingRun.id.desc()).limit(200)).all()
    shown = [r for r in all_runs if visible(r)]
    regions = {r.id: r for r in db.session.scalars(select(Region))}
    return render_template("billing_runs/index.html", runs=shown, regions=regions, labels=_labels(),
                           progress={r.id: runs.progress(db.session, r.id) for r in shown})


@bp.get("/<int:run_id>")
@requires(p.BILLING_VIEW)
def show(run_id: int):
    run = _run_for_me(run_id)
    skipped = runs.exceptions(db.session, run.id)
    contracts = {c.id: c for c in db.session.scalars(select(Contract).where(
        Contract.id.in_([row.contract_id for row in skipped])))} if skipped else {}
    instance = db.session.get(Instance, run.instance_id) if run.instance_id else None
    regions = {r.id: r for r in db.session.scalars(select(Region).where(Region.id.in_(run.region_ids)))}
    _mine, may_run = _visible(p.BILLING_RUN)
    return render_template(
        "billing_runs/show.html", run=run, labels=_labels(), progress=runs.progress(db.session, run.id),
        exception_counts=runs.exception_counts(db.session, run.id), skipped=skipped, contracts=contracts,
        reason=_reason, summary=runs.summary(db.session, run.id), instance=instance, regions=regions,
        may_run=may_run(run), pdf_parts=range(1, -(-runs.progress(db.session, run.id)["billed"] // PDF_PART) + 1))


@bp.get("/<int:run_id>/progress.json")
@requires(p.BILLING_VIEW)
def progress(run_id: int):
    run = _run_for_me(run_id)
    return jsonify({"status": run.status, "status_label": _labels()[RunStatus(run.status)],
                    **runs.progress(db.session, run.id)})


def _act(run_id: int, action, done: str):
    run = _run_for_me(run_id, p.BILLING_RUN)
    try:
        action(run)
    except DomainError as error:
        db.session.rollback()
        flash(message_for(error), "danger")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for(".show", run_id=run_id))


def _enqueue():
    backend = current_app.extensions["madam_jobs"]
    return lambda func, run_id: after_commit(db.session, backend.enqueue, func, run_id, queue="billing")


@bp.post("/<int:run_id>/pause")
@requires(p.BILLING_RUN)
def pause(run_id: int):
    return _act(run_id, lambda run: runs.pause(db.session, current_user, run.id),
                _("The run will pause after the contracts in hand."))


@bp.post("/<int:run_id>/resume")
@requires(p.BILLING_RUN)
def resume(run_id: int):
    """Go on after a pause, or after its workers stopped (a crash): only the contracts still pending."""
    return _act(run_id, lambda run: runs.start(db.session, current_user, run.id, enqueue=_enqueue()),
                _("The run goes on with the contracts still to bill."))


@bp.get("/<int:run_id>/bills.csv")
@requires(p.BILLING_VIEW)
def export(run_id: int):
    """The bank's and the printing house's file, streamed: bill ID, payment ID, amount, due date (Jalali),
    subscriber, address."""
    run = _run_for_me(run_id)
    session = db.session

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["bill_id", "payment_id", "amount", "due_date", "subscriber", "address"])
        for row in runs.export_rows(session, run.id):
            writer.writerow([row["bill_id"], row["payment_id"], row["amount"],
                             format_jalali_date(row["due_date"], persian_digits=False), row["subscriber"],
                             row["address"]])
            if out.tell() > 64 * 1024:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    name = f"bills-{run.utility}-{run.period.replace('/', '-')}-run{run.id}.csv"
    return Response(stream_with_context(lines()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


PDF_PART = 50  # bills per PDF: a part renders within a request; the printing house takes the parts in turn


@bp.get("/<int:run_id>/bills.pdf")
@requires(p.BILLING_VIEW)
def bills_pdf(run_id: int):
    """Part `part` (1, 2, …) of the run's printable bills, A4 or A5, one bill a page, in contract order."""
    from pathlib import Path

    from weasyprint import HTML

    from billing.printing import font_faces_css
    from web.billing import CSS_PATH, LABELS, _print_context

    run = _run_for_me(run_id)
    part = max(request.args.get("part", 1, type=int), 1)
    size = "a5" if request.args.get("size") == "a5" else "a4"
    pks = db.session.scalars(select(BillingRunContract.bill_pk).where(
        BillingRunContract.run_id == run.id, BillingRunContract.bill_pk.is_not(None))
        .order_by(BillingRunContract.contract_id).offset((part - 1) * PDF_PART).limit(PDF_PART)).all()
    if not pks:
        abort(404)
    css = font_faces_css() + "\n" + (Path(current_app.static_folder) / CSS_PATH).read_text(encoding="utf-8")
    documents = [HTML(string=render_template("billing/bill_print.html", pdf=True, inline_css=css, labels=LABELS,
                                             **_print_context(db.session.get(Bill, pk), size))).render()
                 for pk in pks]
    pages = [page for document in documents for page in document.pages]
    name = f"bills-run{run.id}-part{part}-{size}.pdf"
    return Response(documents[0].copy(pages).write_pdf(), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
