"""The service timeline: what the account page shows, written by the services as things
happen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.auth.models import User
from erp.db import db, utcnow
from erp.money import Money
from modules.crm.models import Account

from .invoice import ServiceInvoice
from .order import ServiceOrder

# --- timeline event kinds (service_event.kind) ----------------------------------------------

EV_ORDER_OPENED = "service.order_opened"
EV_ORDER_FINISHED = "service.order_finished"
EV_ORDER_CANCELLED = "service.order_cancelled"
EV_INVOICE_ISSUED = "service.invoice_issued"
EV_INVOICE_CANCELLED = "service.invoice_cancelled"
EVENT_KINDS = (EV_ORDER_OPENED, EV_ORDER_FINISHED, EV_ORDER_CANCELLED, EV_INVOICE_ISSUED,
               EV_INVOICE_CANCELLED)


class ServiceEvent(db.Model):
    """What the account timeline shows, written by the services as things happen."""

    __tablename__ = "service_event"
    __table_args__ = (
        # The timeline's keyset query: WHERE account_id = ? AND (at, id) < cursor
        # ORDER BY at DESC, id DESC — a range scan of this index.
        Index("ix_service_event_account_at", "account_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    document: Mapped[str] = mapped_column(String(20))  # "OS 000012", "NFS 000003"
    order_id: Mapped[int | None] = mapped_column(ForeignKey(ServiceOrder.id), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey(ServiceInvoice.id), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    amount: Mapped[Decimal | None] = mapped_column(Money)

    account: Mapped[Account] = relationship()
    user: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.kind} {self.document}"
