"""Sales records: the catalog, quotes, orders, invoices (with installments), and the
events the account timeline shows. Every document belongs to an account (plain foreign
key, no cascade: financial records are never deleted with their account)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.clock import local_today
from erp.db import TimestampMixin, db, utcnow
from erp.documents import DocumentLineMixin, InstallmentMixin
from erp.money import Money
from modules.crm.models import Account, Contact

from . import labels

KIND_PRODUCT, KIND_SERVICE = "product", "service"
PRODUCT_KINDS = (KIND_PRODUCT, KIND_SERVICE)

QUOTE_DRAFT, QUOTE_SENT, QUOTE_ACCEPTED, QUOTE_REFUSED = "draft", "sent", "accepted", "refused"
QUOTE_EXPIRED = "expired"  # never stored: a sent quote past its validity date
QUOTE_STORED_STATUSES = (QUOTE_DRAFT, QUOTE_SENT, QUOTE_ACCEPTED, QUOTE_REFUSED)
QUOTE_STATUSES = (QUOTE_DRAFT, QUOTE_SENT, QUOTE_EXPIRED, QUOTE_ACCEPTED, QUOTE_REFUSED)

ORDER_CONFIRMED, ORDER_DELIVERED, ORDER_CANCELLED = "confirmed", "delivered", "cancelled"
ORDER_STATUSES = (ORDER_CONFIRMED, ORDER_DELIVERED, ORDER_CANCELLED)

INVOICE_ISSUED, INVOICE_CANCELLED = "issued", "cancelled"
INVOICE_STATUSES = (INVOICE_ISSUED, INVOICE_CANCELLED)

NUMBER_PREFIX = {"quote": "PR", "order": "PV", "invoice": "NF"}


def document_number(kind: str, number: int | None) -> str:
    """'NF 000123': the number as people read it (the invoice's is the contract's document)."""
    return f"{NUMBER_PREFIX[kind]} {number or 0:06d}"


class Product(TimestampMixin, db.Model):
    """A product or a service of the catalog, with its list price."""

    __tablename__ = "sales_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default=KIND_PRODUCT)
    price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Quote(Audited, TimestampMixin, db.Model):
    __tablename__ = "sales_quote"
    __audit_name__ = _l("Quote")
    __audit_labels__ = labels.QUOTE_FIELDS
    __audit_choices__ = labels.STATUS_CHOICES
    __table_args__ = (
        Index("ix_sales_quote_account_created", "account_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey(Contact.id, ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(User.id), index=True)
    status: Mapped[str] = mapped_column(String(10), default=QUOTE_DRAFT, index=True)
    valid_until: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    account: Mapped[Account] = relationship()
    contact: Mapped[Contact | None] = relationship()
    user: Mapped[User] = relationship()
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", order_by="QuoteLine.position")

    @property
    def display_number(self) -> str:
        return document_number("quote", self.number)

    def status_on(self, today: date) -> str:
        """The status as of ``today``: a sent quote past its validity date is expired."""
        if self.status == QUOTE_SENT and self.valid_until and self.valid_until < today:
            return QUOTE_EXPIRED
        return self.status

    @property
    def current_status(self) -> str:
        """The status as of the (request's) user's today."""
        return self.status_on(local_today())

    def __str__(self) -> str:
        return self.display_number


class QuoteLine(DocumentLineMixin, db.Model):
    __tablename__ = "sales_quote_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey(Quote.id, ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey(Product.id, ondelete="SET NULL"), index=True)

    quote: Mapped[Quote] = relationship(back_populates="lines")
    product: Mapped[Product | None] = relationship()


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
