"""A service invoice (nota de serviço) of a finished order, and its installments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.auth.models import User
from erp.db import db, utcnow
from erp.documents import InstallmentMixin
from erp.money import Money
from modules.crm.models import Account

from .order import ServiceOrder

ISSUED, INVOICE_CANCELLED = "issued", "cancelled"
INVOICE_STATUSES = (ISSUED, INVOICE_CANCELLED)


def invoice_document(number: int) -> str:
    return f"NFS {number:06d}"


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
    # The API's ETag: grows by one at every save (service 0005).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

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
