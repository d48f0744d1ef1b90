"""Webhook endpoints (registered by an admin) and their deliveries: the webhook outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db, utcnow
from ..outbox import QUEUED, SENDING

DELIVERED, FAILED = "delivered", "failed"  # and the outbox's QUEUED, SENDING
STATUSES = (QUEUED, SENDING, DELIVERED, FAILED)

URL_MAX = 500
EVENT_MAX = 80


class WebhookEndpoint(db.Model):
    """A URL that hears about the events it subscribed to, signed with its secret."""

    __tablename__ = "erp_webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(URL_MAX))
    # The HMAC-SHA256 key of the signatures. Kept as is (it signs every delivery); shown to
    # admins on the endpoint's page, so the receiving side can be configured.
    secret: Mapped[str] = mapped_column(String(80))
    # The WebhookEvent keys it wants (erp.registry.WebhookEvent).
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True)

    def __str__(self) -> str:
        return self.name or self.url


class WebhookDelivery(db.Model):
    """One event for one endpoint: written in the transaction of the change, then posted by
    the worker (``queued`` → ``sending`` → ``delivered``, or back to ``queued`` with a
    backoff after a failure, ``failed`` after too many)."""

    __tablename__ = "erp_webhook_delivery"
    __table_args__ = (
        # The worker's query: status = 'queued' and next_attempt_at <= now, oldest first.
        Index("ix_erp_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        # An endpoint's log, newest first.
        Index("ix_erp_webhook_delivery_endpoint_id_id", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("erp_webhook_endpoint.id", ondelete="CASCADE"))
    # The event's id (a UUID), the same for every endpoint that hears of it: receivers
    # use it to ignore a delivery they already had (delivery is at least once).
    event_id: Mapped[str] = mapped_column(String(36))
    event: Mapped[str] = mapped_column(String(EVENT_MAX))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When queued: not before. When sending: the time of the claim.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last attempt: the receiver's HTTP status (None: no answer), why it failed, and
    # how long it took.
    status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"
