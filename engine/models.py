"""The engine's tables: process versions, instances, work items, timers, message waits, the event log."""

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TZDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class ProcessVersion(Base):
    """One deployed version of a process key: its BPMN, its forms and its parsed spec, stored once."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The large columns load only when asked for: a running process reads its spec once per process.
    bpmn: Mapped[str] = mapped_column(Text, deferred=True)
    forms: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)
    spec: Mapped[dict] = mapped_column(JSON, deferred=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"  # someone has work to do
    WAITING = "waiting"  # only timers or messages can move it
    ERROR = "error"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"


OPEN_STATUSES = (InstanceStatus.RUNNING, InstanceStatus.WAITING, InstanceStatus.ERROR, InstanceStatus.SUSPENDED)


class Instance(Base):
    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    business_key: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(BIGINT, index=True)
    contract_id: Mapped[int | None] = mapped_column(BIGINT, index=True)
    initiator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The serialized workflow without its spec (the version holds that), zlib-compressed JSON.
    state: Mapped[bytes] = mapped_column(LargeBinary)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    error_task: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    suspended_from: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_progress_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    version: Mapped[ProcessVersion] = relationship()
    __mapper_args__ = {"version_id_col": lock_version}


class WorkItemStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class WorkItem(Base):
    """One ready user task: the cartable is a query over this table."""

    __tablename__ = "work_items"
    __table_args__ = (
        Index("uq_work_items_open_task", "instance_id", "task_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_work_items_inbox", "status", "role_code", "region_id"),
        # The cartable reads open items only; these stay small however many items were ever completed.
        Index("ix_work_items_open_role", "role_code", "region_id", "due_at",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        # Unassigned, unclaimed open items by role and region: the cartable's role part reads this index alone.
        Index("ix_work_items_open_unclaimed", "role_code", "region_id", "due_at", "id",
              postgresql_where=text("status = 'open' AND assignee_id IS NULL AND claimed_by_id IS NULL"),
              sqlite_where=text("status = 'open' AND assignee_id IS NULL AND claimed_by_id IS NULL")),
        Index("ix_work_items_open_assignee", "assignee_id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_work_items_open_claimed", "claimed_by_id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    role_code: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    form_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=WorkItemStatus.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    due_at: Mapped[datetime | None] = mapped_column(TZDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    draft: Mapped[dict | None] = mapped_column(JSON)  # what the expert typed and saved, not yet submitted

    instance: Mapped[Instance] = relationship()


class TimerStatus(enum.StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class Timer(Base):
    """A waiting timer event (or a scheduled retry of a failed service task), fired by the worker."""

    __tablename__ = "process_timers"
    __table_args__ = (Index("ix_process_timers_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="timer")  # timer | retry
    due_at: Mapped[datetime] = mapped_column(TZDateTime())
    status: Mapped[str] = mapped_column(String(16), default=TimerStatus.PENDING)
    fired_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class MessageWait(Base):
    """An instance waiting for a named message, correlated by its business key or its contract."""

    __tablename__ = "message_waits"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),
                      Index("ix_message_waits_lookup", "name", "business_key", "contract_id"),
                      # every posted payment asks whether a procedure waits for its contract
                      Index("ix_message_waits_contract", "name", "contract_id"))

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(100))
    business_key: Mapped[str] = mapped_column(String(32))
    contract_id: Mapped[int | None] = mapped_column(BIGINT)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class OperationRun(Base):
    """A service-task operation applied for (instance, task): a retry finds it and does not apply it again."""

    __tablename__ = "operation_runs"
    __table_args__ = (UniqueConstraint("instance_id", "task_id", "operation"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    operation: Mapped[str] = mapped_column(String(100))
    result: Mapped[dict | list | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class InstanceEvent(Base):
    """The append-only history of an instance: who did what to which task, and the data it changed."""

    __tablename__ = "instance_events"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    task_name: Mapped[str | None] = mapped_column(String(100))
    work_item_id: Mapped[int | None] = mapped_column(BIGINT)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class BusinessKeySequence(Base):
    """Request numbers per Jalali year: 1405-000001, 1405-000002, …"""

    __tablename__ = "business_key_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Notification(Base):
    """In-app notices: a new item for my role, an item referred or returned to me."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # new | referred | returned
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    text: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class ProcessDraft(Base):
    """An analyst's working copy of a procedure (its BPMN and forms), saved, validated and simulated before it
    is deployed as a new version. `simulation` holds the sandbox run of the draft, never a real instance."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    bpmn: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(200), default="")
    report: Mapped[list] = mapped_column(JSON, default=list)  # what import normalised or found unrunnable
    simulation: Mapped[dict | None] = mapped_column(JSON)
    deployed_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_versions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
