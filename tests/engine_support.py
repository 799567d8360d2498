"""Test operations and helpers for engine tests: real operations that write real rows."""

import time
from pathlib import Path

from sqlalchemy import select

from core.audit import AuditEntry, audit
from core.regions import Region
from engine.catalogue import deploy
from engine.registry import operation

DATA = Path(__file__).parent / "data"
FAILURES = {"test.flaky": 0}  # how many more times the flaky operation fails


@operation("test.compute_fee")
def compute_fee(ctx, *, capacity, rate=25000):
    """The connection fee: capacity × rate, recorded in the audit log as the operation's visible effect."""
    amount = int(capacity) * int(rate)
    audit(ctx.session, ctx.actor, "test.fee_computed", ctx.instance, amount=amount, task=ctx.task_id)
    return {"amount": amount}


@operation("test.flaky")
def flaky(ctx, *, value):
    audit(ctx.session, ctx.actor, "test.flaky_applied", ctx.instance, value=value)
    if FAILURES["test.flaky"] > 0:
        FAILURES["test.flaky"] -= 1
        raise RuntimeError("the remote service did not answer")
    return {"value": value}


@operation("test.slow")
def slow(ctx, *, seconds):
    audit(ctx.session, ctx.actor, "test.slow_started", ctx.instance)
    time.sleep(float(seconds))
    return {"slept": seconds}


def read_bpmn(name: str, **replacements) -> str:
    text = (DATA / "processes" / name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def read_forms(*keys) -> dict:
    import json

    return {key: json.loads((DATA / "forms" / f"{key}.json").read_text(encoding="utf-8")) for key in keys}


def deploy_test_request(session, actor=None, **replacements):
    bpmn = read_bpmn("test_request.bpmn", **replacements)
    version, _created = deploy(session, actor, bpmn, read_forms("test_register", "test_approve"),
                               source="tests/test_request.bpmn")
    return version


def region(session, code: str) -> Region:
    return session.scalar(select(Region).where(Region.code == code))


def audit_count(session, action: str) -> int:
    return len(session.scalars(select(AuditEntry.id).where(AuditEntry.action == action)).all())


@operation("test.pure_fee", writes=False)
def pure_fee(ctx, *, capacity, rate=25000):
    """The fee computed from the parameters alone: declared to write nothing."""
    return {"amount": int(capacity) * int(rate)}


@operation("test.pure_but_writes", writes=False)
def pure_but_writes(ctx, *, capacity, rate=25000):
    """Declared to write nothing, yet it writes an audit entry (and reads after it: no autoflush may send it)."""
    audit(ctx.session, ctx.actor, "test.undeclared_write", ctx.instance)
    ctx.session.scalar(select(AuditEntry.id).limit(1))
    return {"amount": int(capacity) * int(rate)}
