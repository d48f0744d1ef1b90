"""A sales order (from an accepted quote or on its own) and its lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.db import TimestampMixin, db
from erp.documents import DocumentLineMixin
from erp.i18n import module_i18n
from erp.money import Money
from modules.crm.models import Account

from .. import labels
from .catalog import Product
from .common import document_number
from .quotes import Quote

_l = module_i18n(__name__).lazy_gettext

if TYPE_CHECKING:
    from .invoices import Invoice

ORDER_CONFIRMED, ORDER_DELIVERED, ORDER_CANCELLED = "confirmed", "delivered", "cancelled"
ORDER_STATUSES = (ORDER_CONFIRMED, ORDER_DELIVERED, ORDER_CANCELLED)


class Order(Audited, TimestampMixin, db.Model):
    __tablename__ = "sales_order"
    __audit_name__ = _l("Order")
    __audit_labels__ = labels.ORDER_FIELDS
    __audit_choices__ = labels.STATUS_CHOICES
    __table_args__ = (
        Index("ix_sales_order_account_date", "account_id", "order_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    quote_id: Mapped[int | None] = mapped_column(ForeignKey(Quote.id), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    status: Mapped[str] = mapped_column(String(10), default=ORDER_CONFIRMED, index=True)
    order_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # The API's ETag: grows by one at every save (sales 0004).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    account: Mapped[Account] = relationship()
    quote: Mapped[Quote | None] = relationship()
    user: Mapped[User] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position")
    invoices: Mapped[list[Invoice]] = relationship(back_populates="order",
                                                   order_by="Invoice.id")

    @property
    def display_number(self) -> str:
        return document_number("order", self.number)

    @property
    def issued_invoice(self) -> Invoice | None:
        from .invoices import INVOICE_ISSUED  # invoices.py imports this file

        return next((i for i in self.invoices if i.status == INVOICE_ISSUED), None)

    def __str__(self) -> str:
        return self.display_number


class OrderLine(DocumentLineMixin, db.Model):
    __tablename__ = "sales_order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(Order.id, ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey(Product.id, ondelete="SET NULL"), index=True)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()
