"""The append-only audit log: who did what, when, and from where.

Rows are only ever inserted. On PostgreSQL a trigger (see the migrations) rejects UPDATE and
DELETE; in code there is no function that does either.
"""

import contextvars
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TZDateTime, utcnow


@dataclass(frozen=True)
class Origin:
    """Where an action came from: an address and client for a request, a name for a job."""

    address: str = ""
    client: str = ""


SYSTEM_ORIGIN = Origin("", "system")
_origin: contextvars.ContextVar[Origin] = contextvars.ContextVar("madam_origin", default=SYSTEM_ORIGIN)


def set_origin(origin: Origin) -> contextvars.Token:
    """Called by each edge (web request, API call, worker job, CLI) before any change."""
    return _origin.set(origin)


def reset_origin(token: contextvars.Token) -> None:
    _origin.reset(token)


def current_origin() -> Origin:
    """Where the current action comes from (what `audit` records)."""
    return _origin.get()


def actor_name(actor) -> str:
    """The name `audit` records for `actor` (a user, a name, or None for the system)."""
    return getattr(actor, "username", "") or ("" if actor is None else str(actor))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str] = mapped_column(String(64), default="")
    client: Mapped[str] = mapped_column(String(300), default="")


def audit(session, actor, action: str, obj=None, **detail) -> AuditEntry:
    """Record `action` by `actor` (a user or None for the system) on `obj`, in the caller's transaction."""
    origin = _origin.get()
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=actor_name(actor),
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "") or "") if obj is not None else "",
        detail=_jsonable(detail),
        address=origin.address[:64],
        client=origin.client[:300],
    )
    session.add(entry)
    return entry


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
