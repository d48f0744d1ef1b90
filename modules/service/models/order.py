"""A service order: what is to be done (description, items, hours), its status moves and
totals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import TimestampMixin, db
from erp.documents import DocumentLineMixin
from erp.i18n import module_i18n
from erp.money import Money, Quantity
from modules.crm.models import Account

from .. import labels

_l = module_i18n(__name__).lazy_gettext

if TYPE_CHECKING:
    from .invoice import ServiceInvoice

# --- order statuses and the allowed moves ------------------------------------------------

OPEN, IN_PROGRESS, DONE, CANCELLED = "open", "in_progress", "done", "cancelled"
ORDER_STATUSES = (OPEN, IN_PROGRESS, DONE, CANCELLED)
# open -> in progress -> done; open / in progress -> cancelled; done and cancelled are final
# (a done order may still be invoiced, which does not change its status).
TRANSITIONS = {
    OPEN: (IN_PROGRESS, CANCELLED),
    IN_PROGRESS: (DONE, CANCELLED),
    DONE: (),
    CANCELLED: (),
}
EDITABLE = (OPEN, IN_PROGRESS)
ACTIVE = (OPEN, IN_PROGRESS)  # the "Open service orders" figure


def order_document(number: int) -> str:
    return f"OS {number:06d}"


class ServiceOrder(Audited, TimestampMixin, db.Model):
    __tablename__ = "service_order"
    __audit_name__ = _l("Service order")
    __audit_labels__ = labels.ORDER_FIELDS
    __audit_choices__ = labels.ORDER_CHOICES
    __table_args__ = (
        Index("ix_service_order_account_status", "account_id", "status"),
        Index("ix_service_order_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    # A plain (RESTRICT) foreign key: an account with service records cannot vanish.
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    description: Mapped[str] = mapped_column(Text)
    technician_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    status: Mapped[str] = mapped_column(String(12), default=OPEN)
    hours: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    hourly_rate: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    items_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    hours_total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    created_by_id: Mapped[int] = mapped_column(ForeignKey(User.id))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The API's ETag: grows by one at every save (service 0005).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    account: Mapped[Account] = relationship()
    technician: Mapped[User] = relationship(foreign_keys=[technician_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    items: Mapped[list[ServiceOrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan",
        order_by="ServiceOrderItem.position")
    invoices: Mapped[list[ServiceInvoice]] = relationship(
        back_populates="order", order_by="ServiceInvoice.id")

    @property
    def display_number(self) -> str:
        return order_document(self.number)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def issued_invoice(self) -> ServiceInvoice | None:
        from .invoice import ISSUED  # invoice.py imports this file

        return next((i for i in self.invoices if i.status == ISSUED), None)

    def __str__(self) -> str:
        return self.display_number


class ServiceOrderItem(DocumentLineMixin, db.Model):
    """A line of a service order (parts, material): a document line without a product."""

    __tablename__ = "service_order_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(ServiceOrder.id, ondelete="CASCADE"),
                                          index=True)

    order: Mapped[ServiceOrder] = relationship(back_populates="items")

    def __str__(self) -> str:
        return self.description
