"""Service-task operations of the general bill issuance procedure (processes/billing_run.bpmn): scope and
preview a run, approve and start it (its chunks run as background jobs once the step commits), bill the
skipped contracts again, publish or cancel it."""

from datetime import date

from flask import current_app

from billing import readings, runs
from billing.settlement import settlement_bill as issue_settlement_bill
from core.db import utcnow
from core.errors import DomainError
from core.jalali import TEHRAN
from core.jobs import after_commit
from engine.operations.registry_ops import day_of, refused
from engine.registry import operation


def _today() -> date:
    return utcnow().astimezone(TEHRAN).date()


def _enqueue(session):
    backend = current_app.extensions["madam_jobs"]
    return lambda func, run_id: after_commit(session, backend.enqueue, func, run_id, queue="billing",
                                             **({"job_timeout": 6 * 3600} if backend.redis_url else {}))


def _outcome(session, run) -> dict:
    preview = run.preview or {}
    expected = preview.get("expected") or {}
    exceptions = preview.get("exceptions") or {}
    return {"run_id": run.id, "contracts": run.total, "ready": preview.get("ready", 0),
            "expected_payable": expected.get("payable", 0), "expected_total": expected.get("total", 0),
            "exceptions": sum(exceptions.values()), "estimate": bool(preview.get("estimate"))}


@operation("billing.prepare_run", result={"run_id": 1, "contracts": 1200, "ready": 1150, "expected_payable": 0,
                                          "expected_total": 0, "exceptions": 50, "estimate": False})
def prepare_run(ctx, *, utility: str, period: str, due_days: int = 14):
    """Fix the run's scope — the utility's active contracts in the request's region — and preview it."""
    run = runs.create_run(ctx.session, ctx.actor, utility=utility, period=period,
                          region_ids=[ctx.instance.region_id], issued_on=_today(), due_days=int(due_days),
                          instance_id=ctx.instance.id)
    return _outcome(ctx.session, run)


@operation("billing.start_run", result={"run_id": 1, "status": "running"})
def start_run(ctx, *, run_id: int, workers: int = 2):
    """Approve the run as the user who completed the approval, and set its workers going."""
    runs.approve(ctx.session, ctx.actor, int(run_id))
    run = runs.start(ctx.session, ctx.actor, int(run_id), enqueue=_enqueue(ctx.session), workers=int(workers))
    return {"run_id": run.id, "status": str(run.status)}


@operation("billing.rerun_skipped", result={"run_id": 1, "contracts": 12})
def rerun_skipped(ctx, *, run_id: int):
    """Bill again the contracts the run skipped, once their readings or flags were put right."""
    again = runs.rerun_skipped(ctx.session, ctx.actor, int(run_id), enqueue=_enqueue(ctx.session))
    return {"run_id": int(run_id), "contracts": again}


@operation("billing.publish_run", result={"run_id": 1, "bills": 1150, "skipped": 50})
def publish_run(ctx, *, run_id: int):
    run = runs.publish(ctx.session, ctx.actor, int(run_id))
    done = runs.progress(ctx.session, run.id)
    return {"run_id": run.id, "bills": done["billed"], "skipped": done["skipped"]}


@operation("billing.cancel_run", result={"run_id": 1, "status": "cancelled"})
def cancel_run(ctx, *, run_id: int, reason: str = ""):
    run = runs.cancel(ctx.session, ctx.actor, int(run_id), reason)
    return {"run_id": run.id, "status": str(run.status)}


@operation("billing.settlement_bill", result={"ok": True, "problem": "", "bill_pk": 1, "bill_id": "1234567890123",
                                              "payment_id": "1500001", "period": "1405/09", "amount": 1_500_000,
                                              "payable": 1_500_000, "journal_id": 4411})
def settlement_bill(ctx, *, contract_id: int, reading, read_on, registers=None, confirmed=False, note=""):
    """The old owner's last bill, at the final reading: `reading` for a single-register meter,
    `registers` ({"peak", "mid", "offpeak"}) for a time-of-use one; a flagged reading passes only when the
    reader ticked that it was confirmed on site (the note is kept as the reason)."""
    values = {"single": reading, **{k: v for k, v in (registers or {}).items() if v is not None}}
    values = {k: (int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in values.items()}
    reason = (note or "").strip() or "قرائت نهایی در محل تأیید شد"
    try:
        bill = issue_settlement_bill(ctx.session, ctx.actor, int(contract_id), values, day_of(read_on),
                                     issued_on=_today(), confirmed=reason if confirmed else "",
                                     reader_name=getattr(ctx.actor, "full_name", "") or "")
    except DomainError as error:
        return refused(ctx, error)
    return {"ok": True, "problem": "", "bill_pk": bill.id, "bill_id": bill.bill_id, "payment_id": bill.payment_id,
            "period": bill.period, "amount": bill.total, "payable": bill.payable, "journal_id": bill.journal_id}


@operation("billing.carry_over_readings", result={"readings": 1})
def carry_over_readings(ctx, *, predecessor_id: int, successor_id: int):
    """The new owner's contract starts from the old owner's final reading."""
    return {"readings": len(readings.carry_over(ctx.session, ctx.actor, int(predecessor_id), int(successor_id)))}
