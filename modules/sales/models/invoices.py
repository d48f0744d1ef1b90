"""A sales invoice (nota fiscal) of an order, and its installments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import TimestampMixin, db
from erp.documents import InstallmentMixin
from erp.i18n import module_i18n
from erp.money import Money
from modules.crm.models import Account

from .. import labels
from .common import document_number
from .orders import Order

_l = module_i18n(__name__).lazy_gettext

INVOICE_ISSUED, INVOICE_CANCELLED = "issued", "cancelled"
INVOICE_STATUSES = (INVOICE_ISSUED, INVOICE_CANCELLED)


class Invoice(Audited, TimestampMixin, db.Model):
    __tablename__ = "sales_invoice"
    __audit_name__ = _l("Invoice")
    __audit_labels__ = labels.INVOICE_FIELDS
    __audit_choices__ = labels.STATUS_CHOICES
    __table_args__ = (
        Index("ix_sales_invoice_account_issue_date", "account_id", "issue_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    order_id: Mapped[int] = mapped_column(ForeignKey(Order.id), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    status: Mapped[str] = mapped_column(String(10), default=INVOICE_ISSUED, index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The API's ETag: grows by one at every save (sales 0004).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    account: Mapped[Account] = relationship()
    order: Mapped[Order] = relationship(back_populates="invoices")
    user: Mapped[User] = relationship()
    installments: Mapped[list[Installment]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan",
        order_by="Installment.position")

    @property
    def display_number(self) -> str:
        return document_number("invoice", self.number)

    def __str__(self) -> str:
        return self.display_number


class Installment(InstallmentMixin, db.Model):
    """One due date of an invoice and the amount due then (n of m)."""

    __tablename__ = "sales_invoice_installment"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey(Invoice.id, ondelete="CASCADE"),
                                            index=True)

    invoice: Mapped[Invoice] = relationship(back_populates="installments")
