"""A quote (proposta) to an account: its lines, its validity and its status moves."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.clock import local_today
from erp.db import TimestampMixin, db
from erp.documents import DocumentLineMixin
from erp.i18n import module_i18n
from erp.money import Money
from modules.crm.models import Account, Contact

from .. import labels
from .catalog import Product
from .common import document_number

_l = module_i18n(__name__).lazy_gettext

QUOTE_DRAFT, QUOTE_SENT, QUOTE_ACCEPTED, QUOTE_REFUSED = "draft", "sent", "accepted", "refused"
QUOTE_EXPIRED = "expired"  # never stored: a sent quote past its validity date
QUOTE_STORED_STATUSES = (QUOTE_DRAFT, QUOTE_SENT, QUOTE_ACCEPTED, QUOTE_REFUSED)
QUOTE_STATUSES = (QUOTE_DRAFT, QUOTE_SENT, QUOTE_EXPIRED, QUOTE_ACCEPTED, QUOTE_REFUSED)


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
    # The API's ETag: grows by one at every save (sales 0004).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

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
