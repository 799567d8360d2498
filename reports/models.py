"""Export jobs: a report's rows written to a CSV or XLSX file in the background, for the user who asked."""

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.audit import AuditEntry
from core.db import Base, TZDateTime, utcnow
from ledger.models import Account, Journal, Payment
from subscribers.models import Contract, MeterInstallation, Outage, ServicePoint

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class ExportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(Base):
    __tablename__ = "report_exports"
    __table_args__ = (Index("ix_report_exports_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    report_key: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(8))  # csv | xlsx
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # the report's filter (ReportFilter.to_params)
    locale: Mapped[str] = mapped_column(String(8), default="fa")
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)  # counted when the job was asked for
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    queue_job_id: Mapped[str] = mapped_column(String(64), default="")  # RQ's id, for progress while it runs
    filename: Mapped[str] = mapped_column(String(200), default="")  # under the exports folder, never the web root
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime())


# Indexes the reports read by, on the tables of the packages below (declared here, created by the reports'
# migration): debtors from the largest debt down, collections by day (and the few reversals), a meter's audit
# entries, outages by time.
Index("ix_report_accounts_kind_balance", Account.kind, Account.balance, Account.id, Account.region_id)
Index("ix_report_payments_paid_on", Payment.paid_on)
Index("ix_report_audit_object", AuditEntry.object_type, AuditEntry.object_id)
Index("ix_report_outages_starts_at", Outage.starts_at)
Index("ix_report_journals_reversals", Journal.reverses_id, postgresql_where=Journal.reverses_id.is_not(None),
      sqlite_where=Journal.reverses_id.is_not(None))
# Outages: a region's contracts live on a day, counted or listed from the index alone, and the service points of a
# utility (the few of the other utilities). Broken meters: a meter's latest installation and a service point's latest
# contract, read from the index alone on PostgreSQL (INCLUDE; on SQLite the keys alone spare the sort).
Index("ix_report_contracts_region_end", Contract.region_id, Contract.end_date,
      postgresql_include=["id", "service_point_id"])
Index("ix_report_service_points_utility", ServicePoint.utility)
Index("ix_report_installations_meter_last", MeterInstallation.meter_id, MeterInstallation.id,
      postgresql_include=["service_point_id", "removed_on"])
Index("ix_report_contracts_point_last", Contract.service_point_id, Contract.id,
      postgresql_include=["region_id", "subscription_no", "subscriber_id"])
