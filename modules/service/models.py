"""Service orders (with items and hours), service invoices, and the service timeline."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import TimestampMixin, db, utcnow
from erp.documents import DocumentLineMixin, InstallmentMixin
from erp.money import Money, Quantity
from modules.crm.models import Account

from . import labels

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

ISSUED, INVOICE_CANCELLED = "issued", "cancelled"
INVOICE_STATUSES = (ISSUED, INVOICE_CANCELLED)

# --- timeline event kinds (service_event.kind) ----------------------------------------------

EV_ORDER_OPENED = "service.order_opened"
EV_ORDER_FINISHED = "service.order_finished"
EV_ORDER_CANCELLED = "service.order_cancelled"
EV_INVOICE_ISSUED = "service.invoice_issued"
EV_INVOICE_CANCELLED = "service.invoice_cancelled"
EVENT_KINDS = (EV_ORDER_OPENED, EV_ORDER_FINISHED, EV_ORDER_CANCELLED, EV_INVOICE_ISSUED,
               EV_INVOICE_CANCELLED)


def order_document(number: int) -> str:
    return f"OS {number:06d}"


def invoice_document(number: int) -> str:
    return f"NFS {number:06d}"


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


class ServiceInvoice(db.Model):
    """A nota de serviço. At most one *issued* invoice per order (checked under a row lock);
    a cancelled one may be followed by a new one. Its installments are rows, as a sales
    invoice's (erp.documents.InstallmentMixin); ``due_date`` is the first one's."""

    __tablename__ = "service_invoice"
    __table_args__ = (
        Index("ix_service_invoice_account_status", "account_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(ServiceOrder.id), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)  # the first (or only) installment's
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10), default=ISSUED)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey(User.id))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    order: Mapped[ServiceOrder] = relationship(back_populates="invoices")
    account: Mapped[Account] = relationship()
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    installments: Mapped[list[ServiceInvoiceInstallment]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan",
        order_by="ServiceInvoiceInstallment.position")

    @property
    def display_number(self) -> str:
        return invoice_document(self.number)

    def __str__(self) -> str:
        return self.display_number


class ServiceInvoiceInstallment(InstallmentMixin, db.Model):
    """One due date of a service invoice and the amount due then (n of m)."""

    __tablename__ = "service_invoice_installment"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey(ServiceInvoice.id, ondelete="CASCADE"),
                                            index=True)

    invoice: Mapped[ServiceInvoice] = relationship(back_populates="installments")


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
