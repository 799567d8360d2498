"""Operations on the request itself: how it ended (and why), and reminders, written on its timeline.

The outcome lands in the task's data (`outcome` by convention) and as a timeline entry of the request,
so the applicant's request shows why it was rejected or cancelled.
"""

from flask_babel import gettext

from core.audit import audit
from core.errors import DomainError
from core.messages import register_messages
from core.regions import Region
from engine import runtime
from engine.events import record
from engine.registry import operation

OUTCOMES = {
    "done": "انجام شد",
    "rejected": "رد شد",
    "cancelled": "لغو شد",
}


def note_on_request(ctx, note: str) -> None:
    """A line on the request's timeline, under the step that wrote it."""
    record(ctx.session, ctx.instance, ctx.actor, "commented", ctx.task_name, note=note[:4000])


@operation("request.close", result={"outcome": "rejected", "reason": "مدارک مالکیت ارائه نشده است"})
def close(ctx, *, outcome: str, reason: str = ""):
    """Record how the request ended (done, rejected or cancelled) and why, on its timeline."""
    if outcome not in OUTCOMES:
        raise DomainError("request.outcome_unknown", outcome=outcome)
    reason = (reason or "").strip()
    note_on_request(ctx, f"{OUTCOMES[outcome]}: {reason}" if reason else OUTCOMES[outcome])
    audit(ctx.session, ctx.actor, f"request.{outcome}", ctx.instance, business_key=ctx.instance.business_key,
          reason=reason)
    ctx.session.flush()
    return {"outcome": outcome, "reason": reason}


@operation("request.note", result={"noted": True})
def note(ctx, *, text: str):
    """A line written on the request's timeline by the step (a figure the next people need, a settlement)."""
    note_on_request(ctx, text)
    ctx.session.flush()
    return {"noted": True}


@operation("request.start_procedure", result={"instance_id": 88, "business_key": "1405-000088"})
def start_procedure(ctx, *, process_key: str, data: dict | None = None):
    """Start another procedure about the same subscriber and contract, in the same region (e.g. a meter
    replacement after a failed test); its first step lands in its lane's cartable."""
    region = ctx.session.get(Region, ctx.instance.region_id)
    started = runtime.start_instance(ctx.session, ctx.actor, process_key, region, data=data or {},
                                     subscriber_id=ctx.instance.subscriber_id, contract_id=ctx.instance.contract_id)
    note_on_request(ctx, f"درخواست {started.business_key} آغاز شد")
    return {"instance_id": started.id, "business_key": started.business_key}


@operation("request.remind", result={"reminded": True})
def remind(ctx, *, note: str):
    """A reminder written on the request's timeline (what the counter tells the applicant)."""
    note_on_request(ctx, note)
    audit(ctx.session, ctx.actor, "request.reminded", ctx.instance, business_key=ctx.instance.business_key)
    ctx.session.flush()
    return {"reminded": True}


register_messages({
    "request.outcome_unknown": lambda p: gettext("Unknown outcome of a request: %(outcome)s",
                                                 outcome=p.get("outcome", "")),
    "service_point.not_requested": lambda p: gettext("This service point is not awaiting a connection."),
    "contract.not_reserved": lambda p: gettext("Contract %(no)s is not awaiting activation.",
                                               no=p.get("subscription_no", "")),
    "contract.no_meter": lambda p: gettext("The contract cannot start before its meter is installed."),
    "meter.retired": lambda p: gettext("Meter %(serial)s is retired.", serial=p.get("serial", "")),
    "meter.none_in_stock": lambda p: gettext("No meter of this utility is in stock in the region."),
    "region.utility_not_served": lambda p: gettext("This region does not serve this utility."),
    "connection.service_unknown": lambda p: gettext("Unknown connection type."),
    "outage.not_found": lambda p: gettext("The outage was not found."),
})
