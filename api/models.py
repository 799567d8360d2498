"""The API's own tables: integration clients and their tokens, webhook subscriptions and deliveries.

A token is stored only as its SHA-256 hash (tokens are 256 random bits, so a fast hash is enough);
the plain token is shown once, when it is issued. A webhook's secret is kept as it is: it signs
every delivery.
"""

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TZDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class ApiClient(Base):
    """A system that talks to Madam (a bank, the MDM, the GIS…): what it may do, and where."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    scopes: Mapped[list] = mapped_column(JSON, default=list)  # permission codes
    region_ids: Mapped[list] = mapped_column(JSON, default=list)  # the client reaches these and below
    rate_limit: Mapped[int] = mapped_column(Integer, default=600)  # requests per minute per token
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="client", order_by="ApiToken.id")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    client: Mapped[ApiClient] = relationship(back_populates="tokens")


class WebhookSubscription(Base):
    """A URL that receives some events. With a client, only the events in the client's regions."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)

    client: Mapped[ApiClient | None] = relationship()


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt


class WebhookDelivery(Base):
    """One event for one subscription, written in the transaction that caused the event (so a rolled
    back change sends nothing), then sent by a job."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZDateTime(), index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(TZDateTime())

    subscription: Mapped[WebhookSubscription] = relationship()
