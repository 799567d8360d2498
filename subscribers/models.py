"""The registry's tables: subscribers, premises, service points, meters and their installations,
contracts, documents and outages.

History is never overwritten: a contract that changes owner is closed and a successor opened; a
meter that leaves a service point keeps its installation row, closed with the final reading.

Search columns (`search_text`) hold the Persian-normalised text the search box matches against
(see subscribers/search.py). Their trigram GIN indexes and the identifiers' prefix indexes are
declared here with PostgreSQL-only options, so the model and the migration describe the same indexes
on both backends (on SQLite they are plain b-tree indexes).
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TZDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


def trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index on PostgreSQL (fuzzy search), a plain index elsewhere."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def prefix_index(name: str, *columns: str, unique: bool = False) -> Index:
    """A b-tree index that serves `LIKE 'abc%'` whatever the database's collation."""
    return Index(name, *columns, unique=unique, postgresql_ops={columns[0]: "text_pattern_ops"})


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        prefix_index("uq_subscribers_national_id", "national_id", unique=True),
        prefix_index("ix_subscribers_mobile", "mobile"),
        trigram_index("ix_subscribers_search_trgm", "search_text"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # A natural person
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    father_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    # A legal entity
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    economic_code: Mapped[str] = mapped_column(String(14), default="")
    registration_no: Mapped[str] = mapped_column(String(20), default="")
    # Both: کد ملی (10 digits) or شناسه ملی (11 digits), one column so either is unique.
    national_id: Mapped[str] = mapped_column(String(11))
    mobile: Mapped[str] = mapped_column(String(11), default="")
    phone: Mapped[str] = mapped_column(String(16), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    # The region (امور) that keeps the file: permissions are checked against it.
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)

    region = relationship("Region")

    @property
    def display_name(self) -> str:
        if self.kind == "legal":
            return self.legal_name
        return f"{self.first_name} {self.last_name}".strip()


class Premise(Base):
    """A place served: the address, its location and what the building is used for."""

    __tablename__ = "premises"
    __table_args__ = (
        prefix_index("ix_premises_postal_code", "postal_code"),
        trigram_index("ix_premises_search_trgm", "search_text"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    province: Mapped[str] = mapped_column(String(64))
    city: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(64), default="")
    street: Mapped[str] = mapped_column(String(128), default="")
    alley: Mapped[str] = mapped_column(String(128), default="")
    plaque: Mapped[str] = mapped_column(String(16), default="")
    unit: Mapped[str] = mapped_column(String(16), default="")
    postal_code: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    climate_zone: Mapped[str] = mapped_column(String(16), default="normal")
    building_use: Mapped[str] = mapped_column(String(16), default="residential")
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, onupdate=utcnow)

    region = relationship("Region")
    subscriber: Mapped[Subscriber | None] = relationship()
    service_points: Mapped[list["ServicePoint"]] = relationship(back_populates="premise",
                                                                order_by="ServicePoint.id")

    @property
    def address(self) -> str:
        parts = [self.city, self.district, self.street, self.alley]
        text_ = "، ".join(p for p in parts if p)
        if self.plaque:
            text_ += f"، پلاک {self.plaque}"
        if self.unit:
            text_ += f"، واحد {self.unit}"
        return text_


class ServicePoint(Base):
    """The connection (انشعاب) of one utility at a premise, with its capacity."""

    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    premise_id: Mapped[int] = mapped_column(ForeignKey("premises.id"), index=True)
    utility: Mapped[str] = mapped_column(String(16))
    phases: Mapped[int | None] = mapped_column(SmallInteger)  # electricity: 1 or 3
    amperage: Mapped[int | None] = mapped_column(Integer)  # electricity: the breaker's amperes
    pipe_diameter: Mapped[str] = mapped_column(String(8), default="")  # water: inches, "1/2"
    gas_meter_size: Mapped[str] = mapped_column(String(8), default="")  # gas: G4, G6, …
    status: Mapped[str] = mapped_column(String(16), default="requested")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    premise: Mapped[Premise] = relationship(back_populates="service_points")


class Meter(Base):
    __tablename__ = "meters"
    __table_args__ = (prefix_index("uq_meters_serial", "serial", unique=True),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    serial: Mapped[str] = mapped_column(String(32))
    utility: Mapped[str] = mapped_column(String(16))
    manufacturer: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(16))
    register_set: Mapped[str] = mapped_column(String(8), default="single")
    has_reactive: Mapped[bool] = mapped_column(Boolean, default=False)
    digits: Mapped[int] = mapped_column(SmallInteger, default=6)
    multiplier: Mapped[int] = mapped_column(Integer, default=1)
    manufacture_year: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default="in_stock", index=True)
    # Where the meter is kept while in stock; permissions are checked against it.
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class MeterInstallation(Base):
    """A meter on a service point from one day to another, with the readings at both ends."""

    __tablename__ = "meter_installations"
    __table_args__ = (
        Index("uq_meter_installations_open_meter", "meter_id", unique=True,
              postgresql_where=text("removed_on IS NULL"), sqlite_where=text("removed_on IS NULL")),
        Index("uq_meter_installations_open_point", "service_point_id", unique=True,
              postgresql_where=text("removed_on IS NULL"), sqlite_where=text("removed_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    installed_on: Mapped[date] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    initial_readings: Mapped[dict] = mapped_column(JSON, default=dict)  # {"single": 120} or peak/mid/offpeak
    final_readings: Mapped[dict | None] = mapped_column(JSON)
    removal_reason: Mapped[str] = mapped_column(String(200), default="")
    installed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    meter: Mapped[Meter] = relationship()
    service_point: Mapped[ServicePoint] = relationship()


class Contract(Base):
    """A subscription (اشتراک). A change of owner closes the row and opens its successor, which keeps
    the subscription number, file number and bill ID with the next `revision`."""

    __tablename__ = "contracts"
    __table_args__ = (
        prefix_index("uq_contracts_subscription_no", "subscription_no", "revision", unique=True),
        prefix_index("ix_contracts_file_no", "file_no"),
        prefix_index("ix_contracts_bill_id", "bill_id"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    subscription_no: Mapped[str] = mapped_column(String(10))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    file_no: Mapped[str] = mapped_column(String(8))
    bill_id: Mapped[str] = mapped_column(String(13))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    tariff_type: Mapped[str] = mapped_column(String(32))
    contracted_demand: Mapped[int | None] = mapped_column(Integer)  # kW, m³/day or m³/h by utility
    discount_category: Mapped[str] = mapped_column(String(32), default="none")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    close_reason: Mapped[str] = mapped_column(String(16), default="")
    predecessor_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    subscriber: Mapped[Subscriber] = relationship()
    service_point: Mapped[ServicePoint] = relationship()


class NumberCounter(Base):
    """The last number handed out per series ("file", "subscription:<region id>"), read under a row lock."""

    __tablename__ = "number_counters"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BIGINT, default=0)


class Document(Base):
    """A file kept under its content hash; the row says whose it is and who brought it."""

    __tablename__ = "documents"
    # Identity papers for a new subscriber arrive with the request, before the subscriber exists.
    __table_args__ = (CheckConstraint("subscriber_id IS NOT NULL OR request_id IS NOT NULL", name="owner"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(BIGINT, index=True)  # a procedure instance
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


outage_service_points = Table(
    "outage_service_points",
    Base.metadata,
    Column("outage_id", BIGINT, ForeignKey("outages.id", ondelete="CASCADE"), primary_key=True),
    Column("service_point_id", BIGINT, ForeignKey("service_points.id"), primary_key=True, index=True),
)


class Outage(Base):
    """An interruption of a utility in a region, or at named service points."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    utility: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(TZDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    cause: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    region = relationship("Region")
    service_points: Mapped[list[ServicePoint]] = relationship(secondary=outage_service_points)
