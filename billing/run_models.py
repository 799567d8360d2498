"""General bill issuance (صدور عمومی صورتحساب): a run over the contracts of a scope, and each contract's
fate in it. The rows of `billing_run_contracts` are the run's to-do list: a worker claims pending rows,
bills them and marks them in the same transaction, so a worker killed at any point leaves every contract
either billed and marked, or pending — resuming bills only what is missing."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TZDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class RunStatus(enum.StrEnum):
    PREVIEWED = "previewed"  # scope fixed, counts and expected totals known, awaiting approval
    APPROVED = "approved"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # every contract billed or skipped with its reason; awaiting review
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class RunContractStatus(enum.StrEnum):
    PENDING = "pending"
    BILLED = "billed"
    SKIPPED = "skipped"  # with its reason: fixable, then re-run


class BillingRun(Base):
    __tablename__ = "billing_runs"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    utility: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7))  # the Jalali month of the closing readings: "1404/07"
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    region_ids: Mapped[list] = mapped_column(JSON, default=list)  # the regions chosen (their subtrees count)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.PREVIEWED, index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    due_days: Mapped[int] = mapped_column(Integer, default=14)
    chunk_size: Mapped[int] = mapped_column(Integer, default=500)
    total: Mapped[int] = mapped_column(Integer, default=0)  # contracts in scope
    preview: Mapped[dict] = mapped_column(JSON, default=dict)  # counts, expected totals, exceptions by reason
    instance_id: Mapped[int | None] = mapped_column(BIGINT)  # the procedure instance driving the run
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")


class BillingRunContract(Base):
    __tablename__ = "billing_run_contracts"
    __table_args__ = (Index("ix_billing_run_contracts_run_status", "run_id", "status"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("billing_runs.id"), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=RunContractStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(64), default="")  # the DomainError code of a skip
    detail: Mapped[str] = mapped_column(String(300), default="")
    bill_pk: Mapped[int | None] = mapped_column(ForeignKey("billing_bills.id"))
    payable: Mapped[int | None] = mapped_column(BigInteger)
    total: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(TZDateTime())
