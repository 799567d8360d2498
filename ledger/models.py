"""The ledger's tables: accounts, journals and their postings, payments, open items and their
allocations, grace periods and installment plans.

Postings and allocations are insert-only: on PostgreSQL a trigger (see the migration) refuses
UPDATE and DELETE, and no function here does either. Every amount is an integer of rials; a
posting's amount is signed, debit positive.
"""

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TZDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class AccountKind(enum.StrEnum):
    RECEIVABLE = "receivable"  # one per contract: what the subscriber owes (negative: is owed)
    REVENUE = "revenue"  # one per charge type
    VAT = "vat"  # VAT payable
    LEVY = "levy"  # one per levy payable
    CASH = "cash"  # one per payment channel
    SUSPENSE = "suspense"  # money received that no contract could be found for
    WRITE_OFF = "write_off"
    ROUNDING = "rounding"  # the rials under 1,000 a bill forgoes


class JournalKind(enum.StrEnum):
    BILL = "bill"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"
    INSTALLMENT = "installment"  # a payment made against an installment's payment ID
    FEE = "fee"
    REFUND = "refund"
    WRITE_OFF = "write_off"


class Channel(enum.StrEnum):
    BANK = "bank"
    POS = "pos"
    INTERNET = "internet"
    KIOSK = "kiosk"


class Account(Base):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    # no index of its own: the reports' (kind, balance, id, region_id) serves a look-up by kind, and every
    # balance update (not HOT: the reports' index holds the balance) wrote an entry into both
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    contract_id: Mapped[int | None] = mapped_column(BIGINT, unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    bill_id: Mapped[str | None] = mapped_column(String(13), unique=True)
    # Kept only on contract accounts, in the same transaction as their postings. System accounts
    # (cash, revenue) are touched by every payment: caching theirs would serialise all payments on
    # one row, so theirs is summed when read.
    balance: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Journal(Base):
    __tablename__ = "ledger_journals"
    __table_args__ = (
        # unique among the reversals: no index entry for the other journals
        Index("uq_ledger_journals_reverses_id", "reverses_id", unique=True,
              postgresql_where=text("reverses_id IS NOT NULL"), sqlite_where=text("reverses_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # no index: no query picks journals by kind alone
    contract_id: Mapped[int | None] = mapped_column(BIGINT, index=True)
    # Idempotency: a bank reference, a bill's number. The same key never posts twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journals.id"))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


# On PostgreSQL the foreign keys of postings and charges are not constraints: statement triggers check them once
# per statement, with the same locks and refusals (migration 5c4ed0000005: REPLACED_FOREIGN_KEYS).
class Posting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="nonzero"),
        Index("ix_ledger_postings_account_journal", "account_id", "journal_id"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journals.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(String(64), default="")


class Payment(Base):
    """What the bank told us about a payment; its journal holds the money."""

    __tablename__ = "ledger_payments"
    __table_args__ = (UniqueConstraint("channel", "reference"),)

    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journals.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    contract_id: Mapped[int | None] = mapped_column(BIGINT, index=True)
    bill_id: Mapped[str] = mapped_column(String(13), default="")
    payment_id: Mapped[str] = mapped_column(String(13), default="")


class Charge(Base):
    """An open item: a debit on a contract that payments settle, oldest first."""

    __tablename__ = "ledger_charges"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journals.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date] = mapped_column(Date)
    bill_id: Mapped[str] = mapped_column(String(13), default="")
    payment_id: Mapped[str] = mapped_column(String(13), default="", index=True)
    period: Mapped[str] = mapped_column(String(16), default="")


class Allocation(Base):
    """Part of a credit applied to a charge (negative: taken back, by a reversal)."""

    __tablename__ = "ledger_allocations"
    __table_args__ = (CheckConstraint("amount <> 0", name="nonzero"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("ledger_charges.id"), index=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journals.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class GracePeriod(Base):
    """A deadline granted for a debt (مهلت). Whether it was kept is read from the postings."""

    __tablename__ = "ledger_grace_periods"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    granted_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class InstallmentPlan(Base):
    """A debt split into a down payment and N installments (تقسیط)."""

    __tablename__ = "ledger_installment_plans"
    __table_args__ = (CheckConstraint("total > 0", name="positive"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    total: Mapped[int] = mapped_column(BigInteger)
    down_payment_percent: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    granted_on: Mapped[date] = mapped_column(Date)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Installment(Base):
    __tablename__ = "ledger_installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq"), CheckConstraint("amount > 0", name="positive"))

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("ledger_installment_plans.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 0: the down payment
    amount: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date] = mapped_column(Date)
    payment_id: Mapped[str] = mapped_column(String(13), index=True)
