"""Billing's tables: tariff types, tariff versions, meter readings and bills.

A published tariff version and an issued bill are never changed: a guard on the session refuses it
(below), and on PostgreSQL a trigger does too (see the migration). A bill's only change is to be
cancelled, once, with a reason; its journal is reversed and a new bill issued in its place.
"""

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base, TZDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ReadingSource(enum.StrEnum):
    READ = "read"  # قرائت مأمور
    ESTIMATED = "estimated"  # برآوردی
    CUSTOMER = "customer"  # اظهاری مشترک


class BillStatus(enum.StrEnum):
    ISSUED = "issued"
    CANCELLED = "cancelled"


class TariffType(Base):
    """نوع تعرفه: a code per utility ("1" residential electricity …) with its Persian name. `slug`
    is the registry's word for it (contracts may hold either)."""

    __tablename__ = "billing_tariff_types"
    __table_args__ = (UniqueConstraint("utility", "code"), UniqueConstraint("utility", "slug"))

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    utility: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(8))
    slug: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class TariffVersion(Base):
    """One version of a tariff, in force from `effective_from` until the tariff's next published one.
    A tariff type may have several tariffs, told apart by `code` (electricity residential: "E1-normal"
    for the normal zone, "E1-tropical" for the warm ones)."""

    __tablename__ = "billing_tariff_versions"
    __table_args__ = (
        Index("uq_billing_tariff_versions_published", "tariff_type_id", "code", "effective_from", unique=True,
              postgresql_where=text("status = 'published'"), sqlite_where=text("status = 'published'")),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    tariff_type_id: Mapped[int] = mapped_column(ForeignKey("billing_tariff_types.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=VersionStatus.DRAFT)
    name: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # the tariff JSON of billing/tariff.py
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)  # demo amounts, not the official booklet
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    tariff_type: Mapped[TariffType] = relationship()


class MeterReading(Base):
    """One register of a meter read on a day. `flags` are the validation's findings; a flagged
    reading is billed only once someone has written why it is right (`override_reason`)."""

    __tablename__ = "billing_meter_readings"
    __table_args__ = (Index("ix_billing_meter_readings_contract_day", "contract_id", "read_on"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    register: Mapped[str] = mapped_column(String(16))  # the registry's names: single, peak, mid, offpeak
    read_on: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(BigInteger)
    consumption: Mapped[int] = mapped_column(BigInteger)  # since the previous reading, times the multiplier
    source: Mapped[str] = mapped_column(String(16), default=ReadingSource.READ)
    reader_name: Mapped[str] = mapped_column(String(100), default="")
    flags: Mapped[list] = mapped_column(JSON, default=list)
    # The last reading billed by the system this one replaced: billing starts the day after it.
    opening: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str] = mapped_column(String(500), default="")
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("billing_bills.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    @property
    def needs_override(self) -> bool:
        return bool(self.flags) and not self.override_reason


class Bill(Base):
    """صورتحساب: a contract's bill for a period, with its lines as calculated and the journal that
    posted it. At most one bill per contract and period is in force (the partial unique index). On PostgreSQL
    its foreign keys are checked once per statement by triggers (migration 5c4ed0000005: REPLACED_FOREIGN_KEYS)."""

    __tablename__ = "billing_bills"
    __table_args__ = (
        Index("uq_billing_bills_contract_period", "contract_id", "period", unique=True,
              postgresql_where=text("status = 'issued'"), sqlite_where=text("status = 'issued'")),
        # unique among the bills that have one: no index entry for the many that do not
        Index("uq_billing_bills_replaces_id", "replaces_id", unique=True,
              postgresql_where=text("replaces_id IS NOT NULL"), sqlite_where=text("replaces_id IS NOT NULL")),
        Index("uq_billing_bills_reversal_journal_id", "reversal_journal_id", unique=True,
              postgresql_where=text("reversal_journal_id IS NOT NULL"),
              sqlite_where=text("reversal_journal_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    tariff_type_id: Mapped[int] = mapped_column(ForeignKey("billing_tariff_types.id"))
    tariff_code: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))  # Jalali year and month of the closing reading: "1404/07"
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=BillStatus.ISSUED)  # no index: nearly all 'issued'
    bill_id: Mapped[str] = mapped_column(String(13))
    payment_id: Mapped[str] = mapped_column(String(13), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    usage: Mapped[dict] = mapped_column(JSON, default=dict)  # what the quote was asked (registers, zone, …)
    readings: Mapped[dict] = mapped_column(JSON, default=dict)  # register → {"from", "to", "consumption"}
    version_ids: Mapped[list] = mapped_column(JSON, default=list)
    quote: Mapped[dict] = mapped_column(JSON, default=dict)  # Quote.to_json(): lines and totals
    charges: Mapped[int] = mapped_column(BigInteger)
    vat: Mapped[int] = mapped_column(BigInteger)
    levies: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    brought_forward: Mapped[int] = mapped_column(BigInteger)
    rounding: Mapped[int] = mapped_column(BigInteger)
    payable: Mapped[int] = mapped_column(BigInteger)
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journals.id"), unique=True)
    sequence: Mapped[int] = mapped_column(SmallInteger, default=1)  # 2, 3 … for a rebill of the period
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("billing_bills.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    reversal_journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journals.id"))


class FrozenRecord(Exception):
    """Code tried to change a published tariff version or an issued bill."""


# What may still change once a row is frozen: a published version nothing; an issued bill its cancellation.
_BILL_CANCEL_FIELDS = {"status", "cancelled_at", "cancelled_by_id", "cancel_reason", "reversal_journal_id"}


def _changed(obj) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _was(obj, key):
    history = inspect(obj).attrs[key].history
    return history.deleted[0] if history.deleted else getattr(obj, key)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_frozen_rows(session, _context, _instances):
    for obj in session.dirty:
        if isinstance(obj, TariffVersion) and _was(obj, "status") == VersionStatus.PUBLISHED and _changed(obj):
            raise FrozenRecord(f"tariff version {obj.id} is published and cannot change")
        if isinstance(obj, Bill) and (changed := _changed(obj)):
            was = _was(obj, "status")
            allowed = _BILL_CANCEL_FIELDS if was == BillStatus.ISSUED else set()
            if changed - allowed or (was == BillStatus.ISSUED and obj.status not in (BillStatus.ISSUED,
                                                                                       BillStatus.CANCELLED)):
                raise FrozenRecord(f"bill {obj.id} is {was}: {sorted(changed - allowed)} cannot change")
    for obj in session.deleted:
        if (isinstance(obj, TariffVersion) and _was(obj, "status") == VersionStatus.PUBLISHED) \
                or isinstance(obj, Bill):
            raise FrozenRecord(f"{obj.__tablename__} {obj.id} cannot be deleted")
