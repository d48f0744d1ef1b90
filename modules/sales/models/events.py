"""The sales timeline: what the account page shows, written by the services with each
change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.auth.models import User
from erp.db import db, utcnow
from modules.crm.models import Account


class SalesEvent(db.Model):
    """What the account timeline shows: written by the services with each change."""

    __tablename__ = "sales_event"
    __table_args__ = (
        Index("ix_sales_event_account_at", "account_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    document_type: Mapped[str] = mapped_column(String(10))  # quote, order, invoice
    document_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id, ondelete="SET NULL"),
                                                index=True)

    user: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.title
