"""Receivables (contas a receber) and the payments received against them.

A receivable's status is never stored (but for "cancelled"): it is computed from its
payments and its due date, in Python (:meth:`Receivable.status_on`) and in SQL
(:func:`status_expr`), so it cannot go stale.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    case,
    func,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.audit import Audited
from erp.auth.models import User
from erp.clock import local_today
from erp.db import db, utcnow
from erp.i18n import module_i18n
from erp.money import Money
from modules.crm.models import Account
from modules.crm.models.search_index import install_search_index

from .. import labels

_l = module_i18n(__name__).lazy_gettext

ZERO = Decimal("0.00")

ORIGIN_MANUAL = "manual"

OPEN, PARTIAL, PAID, OVERDUE, CANCELLED = "open", "partial", "paid", "overdue", "cancelled"
STATUSES = (OPEN, PARTIAL, OVERDUE, PAID, CANCELLED)

METHODS = ("cash", "pix", "boleto", "card", "transfer")


class Receivable(Audited, db.Model):
    __tablename__ = "finance_receivable"
    __audit_name__ = _l("Receivable")
    __audit_labels__ = labels.RECEIVABLE_FIELDS
    __audit_choices__ = labels.RECEIVABLE_CHOICES
    __table_args__ = (
        # The timeline ("receivable created"): a keyset range scan.
        Index("ix_finance_receivable_account_created", "account_id", "created_at", "id"),
        # The timeline ("overdue", at the due date) and the tab's list by due date.
        Index("ix_finance_receivable_account_due", "account_id", "due_date", "id"),
        # The account page's open and overdue figures: a sum over an index range that
        # covers it (ids for the join to the payments).
        Index("ix_finance_receivable_account_open", "account_id", "cancelled", "due_date",
              "amount", "id"),
        # The receivables list, by due date: its keyset pages are ranges of (due_date, id).
        Index("ix_finance_receivable_due", "due_date", "id"),
        # One receivable per installment of an origin (an invoice): a signal delivered
        # twice cannot duplicate them. Manual receivables have no origin_id (NULLs differ).
        UniqueConstraint("origin", "origin_id", "installment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    document: Mapped[str] = mapped_column(String(80))
    origin: Mapped[str] = mapped_column(String(40), default=ORIGIN_MANUAL)
    origin_id: Mapped[int | None] = mapped_column(Integer)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    installment: Mapped[int] = mapped_column(Integer, default=1)
    installments: Mapped[int] = mapped_column(Integer, default=1)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))
    # The API's ETag: grows by one at every save (finance 0004).
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    account: Mapped[Account] = relationship()
    created_by: Mapped[User | None] = relationship()
    payments: Mapped[list[Payment]] = relationship(
        back_populates="receivable", order_by="Payment.date, Payment.id")

    def __str__(self) -> str:
        return self.document

    @property
    def installment_label(self) -> str:
        return f"{self.installment}/{self.installments}"

    # --- money, computed from the payments -------------------------------------------

    @hybrid_property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), ZERO)

    @paid.inplace.expression
    @classmethod
    def _paid_expression(cls):
        return (select(func.coalesce(func.sum(Payment.amount), 0))
                .where(Payment.receivable_id == cls.id)
                .correlate_except(Payment)
                .scalar_subquery())

    @hybrid_property
    def outstanding(self) -> Decimal:
        return ZERO if self.cancelled else self.amount - self.paid

    @outstanding.inplace.expression
    @classmethod
    def _outstanding_expression(cls):
        return case((cls.cancelled.is_(True), 0), else_=cls.amount - cls.paid)

    # --- the status, computed ----------------------------------------------------------

    def status_on(self, today: date) -> str:
        paid = self.paid
        if self.cancelled:
            return CANCELLED
        if paid >= self.amount:
            return PAID
        if self.due_date < today:
            return OVERDUE
        return PARTIAL if paid > 0 else OPEN

    @hybrid_property
    def status(self) -> str:
        return self.status_on(local_today())

    @status.inplace.expression
    @classmethod
    def _status_expression(cls):
        return status_expr(local_today())


# The global search's "document contains" (issue 15): a trigram index, not a scan of
# every receivable (finance 0007).
install_search_index(Receivable.__table__, column="document")


def status_expr(today: date):
    """The status as a SQL expression (for filters), as of ``today``."""
    paid = Receivable.paid
    return case(
        (Receivable.cancelled.is_(True), CANCELLED),
        (paid >= Receivable.amount, PAID),
        (Receivable.due_date < today, OVERDUE),
        (paid > 0, PARTIAL),
        else_=OPEN)


def unpaid_clause():
    """Neither cancelled nor paid in full: what is still to be received."""
    return (Receivable.cancelled.is_(False)) & (Receivable.paid < Receivable.amount)


class Payment(Audited, db.Model):
    __tablename__ = "finance_payment"
    __audit_name__ = _l("Payment")
    __audit_labels__ = labels.PAYMENT_FIELDS
    __audit_choices__ = labels.PAYMENT_CHOICES
    __audit_parent__ = "receivable_id"  # its entries show in the receivable's History
    __table_args__ = (
        # The timeline ("payment received"): a keyset range scan.
        Index("ix_finance_payment_account_created", "account_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receivable_id: Mapped[int] = mapped_column(ForeignKey(Receivable.id), index=True)
    # The receivable's account, copied (it never changes): the timeline's index needs it.
    account_id: Mapped[int] = mapped_column(ForeignKey(Account.id))
    date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(User.id))

    receivable: Mapped[Receivable] = relationship(back_populates="payments")
    account: Mapped[Account] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.receivable_id}: {self.amount}"
