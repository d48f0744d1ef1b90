"""The finance rules: receivables (by hand or from an issued invoice), payments,
cancellations, the list's filters and the aging summary. Views, the signal receivers,
a future API and imports all call these functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from erp.auth import in_scope
from erp.clock import local_today
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.formats import parse_date, parse_decimal
from erp.money import CENT, installment_plan
from erp.params import id_arg
from erp.signals import Refused
from erp.validation import LIKE_ESCAPE, Errors, Invalid, choice, integer, like, text
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from .models import (
    METHODS,
    ORIGIN_MANUAL,
    STATUSES,
    ZERO,
    Payment,
    Receivable,
    status_expr,
    unpaid_clause,
)

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_INSTALLMENTS = 120
DOCUMENT_LENGTH = 80
UNPAID = "unpaid"  # a list filter: open, partially paid or overdue


def _today(today: date | None, user) -> date:
    """``today`` if given (tests, reports as of a date), else the user's today."""
    return today or local_today(user)


def to_money(value) -> Decimal:
    """A SQL sum as money (SQLite may hand back a float or an int)."""
    return Decimal(str(value or 0)).quantize(CENT)


# --- reading input -------------------------------------------------------------------


def _amount(value: Any) -> Decimal:
    """A parser: an amount greater than zero, with at most two decimals (never rounded)."""
    try:
        number = parse_decimal(value)
    except ValueError:
        raise Invalid(_("Enter an amount, e.g. 1.234,56.")) from None
    if number is None:
        raise Invalid(_("This field is required."))
    if number <= 0:
        raise Invalid(_("The amount must be greater than zero."))
    if number > MAX_AMOUNT or number != number.quantize(CENT):
        raise Invalid(_("Enter an amount with at most two decimals."))
    return number.quantize(CENT)


def _day(value: Any, *, default: date | None = None) -> date:
    """A parser: a date, ``default`` when blank; required."""
    try:
        day = parse_date(value)
    except ValueError:
        raise Invalid(_("Enter a date, e.g. 31/12/2026.")) from None
    if day is None:
        day = default
    if day is None:
        raise Invalid(_("This field is required."))
    return day


def installment_document(document: str, number: int, count: int) -> str:
    suffix = f" {number}/{count}" if count > 1 else ""
    return document[:DOCUMENT_LENGTH - len(suffix)] + suffix


# --- receivables by hand ----------------------------------------------------------------


def create_receivables(account: Account, data: dict, *, user,
                       today: date | None = None) -> list[Receivable]:
    """Receivables entered by hand: ``amount`` split in ``installments`` monthly
    receivables from ``due_date`` on, with THE installment rule of every invoice
    (:func:`erp.money.installment_plan`: the last one takes the remainder). Validates
    everything, then saves all or nothing."""
    today = _today(today, user)
    errors = Errors()
    document = errors.clean("document", text, data.get("document"), required=True,
                            max_length=DOCUMENT_LENGTH - 8, message=_("This field is required."))
    issue_date = errors.clean("issue_date", _day, data.get("issue_date"), default=today)
    due_date = errors.clean("due_date", _day, data.get("due_date"))
    amount = errors.clean("amount", _amount, data.get("amount"))
    raw_count = data.get("installments")
    count = 1 if raw_count in (None, "") else errors.clean(
        "installments", integer, raw_count, required=True, minimum=1, maximum=MAX_INSTALLMENTS,
        message=_("Between 1 and %(n)d installments.", n=MAX_INSTALLMENTS))
    if issue_date and due_date and due_date < issue_date:
        errors.add("due_date", _("The due date cannot be before the issue date."))
    if amount is not None and count is not None and amount < CENT * count:
        errors.add("amount", _("The amount is too small for that many installments."))
    errors.raise_if_any()
    receivables = [
        Receivable(account_id=account.id, document=installment_document(document, n, count),
                   origin=ORIGIN_MANUAL, origin_id=None, issue_date=issue_date,
                   due_date=due, amount=part, installment=n,
                   installments=count, cancelled=False, created_by_id=user.id)
        for n, (due, part) in enumerate(installment_plan(amount, count, due_date), start=1)]
    db.session.add_all(receivables)
    db.session.commit()
    return receivables


def cancel_receivable(receivable: Receivable, *, user) -> None:
    """Cancel a receivable entered by hand (one from an invoice: cancel the invoice)."""
    if receivable.cancelled:
        raise InvalidInput({"__all__": [_("This receivable is already cancelled.")]})
    if receivable.origin != ORIGIN_MANUAL:
        raise InvalidInput({"__all__": [
            _("This receivable comes from %(document)s: cancel that document instead.",
              document=receivable.document)]})
    if receivable.payments:
        raise InvalidInput({"__all__": [
            _("This receivable has payments: it cannot be cancelled.")]})
    receivable.cancelled = True
    receivable.cancelled_at = utcnow()
    db.session.commit()


# --- receivables from another module's documents (signal receivers) ---------------------


def receivables_from_origin(*, account_id: int, document: str, origin: str, origin_id: int,
                            issue_date: date, installments, user=None) -> list[Receivable]:
    """One receivable per installment ``(due_date, amount)`` of an issued document.

    Runs inside the sender's transaction: flushes, never commits. Idempotent: an origin
    that already has receivables gets no new ones. Raises :class:`Refused` for input
    that cannot make receivables (the sender rolls back and shows the message).
    """
    existing = db.session.scalars(select(Receivable).where(
        Receivable.origin == origin, Receivable.origin_id == origin_id)).all()
    if existing:
        return list(existing)
    if db.session.get(Account, account_id) is None:
        raise Refused(_("Finance: the account of %(document)s does not exist.",
                        document=document))
    parts = [(parse_date(due), parse_decimal(amount)) for due, amount in installments or ()]
    if not parts or any(due is None or amount is None or amount <= 0 for due, amount in parts):
        raise Refused(_("Finance: %(document)s needs installments with a due date and a "
                        "positive amount.", document=document))
    count = len(parts)
    receivables = [
        Receivable(account_id=account_id, document=installment_document(str(document), n, count),
                   origin=origin, origin_id=origin_id, issue_date=issue_date,
                   due_date=due, amount=amount.quantize(CENT), installment=n,
                   installments=count, cancelled=False,
                   created_by_id=getattr(user, "id", None))
        for n, (due, amount) in enumerate(parts, start=1)]
    db.session.add_all(receivables)
    db.session.flush()
    return receivables


def cancel_origin(*, origin: str, origin_id: int) -> list[Receivable]:
    """Cancel the receivables of a cancelled document — all or none.

    Raises :class:`Refused` if any of them has payments. Flushes, never commits.
    """
    receivables = db.session.scalars(select(Receivable).where(
        Receivable.origin == origin, Receivable.origin_id == origin_id,
        Receivable.cancelled.is_(False)).order_by(Receivable.installment)).all()
    paid = [r for r in receivables if r.payments]
    if paid:
        raise Refused(_("Payments were already received for %(documents)s: reverse them in "
                        "Finance before cancelling.",
                        documents=", ".join(r.document for r in paid)))
    now = utcnow()
    for receivable in receivables:
        receivable.cancelled = True
        receivable.cancelled_at = now
    db.session.flush()
    return receivables


# --- payments --------------------------------------------------------------------------


def record_payment(receivable: Receivable, data: dict, *, user,
                   today: date | None = None) -> Payment:
    """A payment, partial or full, of an open receivable; never more than is owed."""
    today = _today(today, user)
    # Lock the receivable (PostgreSQL): two clerks cannot both pay its last real.
    db.session.execute(select(Receivable.id).where(Receivable.id == receivable.id)
                       .with_for_update())
    db.session.refresh(receivable)
    if receivable.cancelled:
        raise InvalidInput({"__all__": [_("This receivable is cancelled.")]})
    outstanding = receivable.outstanding
    if outstanding <= 0:
        raise InvalidInput({"__all__": [_("This receivable is already paid.")]})
    errors = Errors()
    amount = errors.clean("amount", _amount, data.get("amount"))
    paid_on = errors.clean("date", _day, data.get("date"), default=today)
    method = errors.clean("method", choice, data.get("method"), choices=METHODS, required=True,
                          message=_("Choose a payment method."))
    if paid_on and paid_on > today:
        errors.add("date", _("A payment date cannot be in the future."))
    if amount is not None and amount > outstanding:
        errors.add("amount", _("The amount is more than what is still owed (%(owed)s).",
                               owed=outstanding))
    if errors:
        db.session.rollback()
        errors.raise_if_any()
    payment = Payment(receivable=receivable, account_id=receivable.account_id, date=paid_on,
                      amount=amount, method=method, created_by_id=user.id)
    db.session.add(payment)
    db.session.commit()
    return payment


# --- reading ---------------------------------------------------------------------------


def get_receivable_or_404(receivable_id: int, user) -> Receivable:
    receivable = db.session.get(Receivable, receivable_id)
    if receivable is None or not in_scope(receivable.account.owner_id, user):
        abort(404)
    return receivable


@dataclass
class Filters:
    status: str = ""
    due: str = ""  # "week": due this week (Monday to Sunday)
    account_id: int | None = None
    account: str = ""  # text in the account's names
    q: str = ""  # text in the document

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "")
        return cls(status=status if status in (*STATUSES, UNPAID) else "",
                   due=args.get("due", "") if args.get("due") == "week" else "",
                   account_id=id_arg("account_id", args),
                   account=args.get("account", "").strip()[:100],
                   q=args.get("q", "").strip()[:100])


def week_of(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def receivables_where(user, filters: Filters, today: date | None = None) -> list:
    """The WHERE clauses of the receivables list: the user's scope and the filters."""
    today = _today(today, user)
    clauses = [account_scope(user)]
    if filters.status == UNPAID:
        clauses.append(unpaid_clause())
    elif filters.status:
        clauses.append(status_expr(today) == filters.status)
    if filters.due == "week":
        start, end = week_of(today)
        clauses.append(Receivable.due_date.between(start, end))
    if filters.account_id:
        clauses.append(Receivable.account_id == filters.account_id)
    if filters.account:
        pattern = like(filters.account)
        clauses.append(or_(Account.legal_name.ilike(pattern, escape=LIKE_ESCAPE),
                           Account.trade_name.ilike(pattern, escape=LIKE_ESCAPE)))
    if filters.q:
        clauses.append(Receivable.document.ilike(like(filters.q), escape=LIKE_ESCAPE))
    return clauses


def receivables_select(user, filters: Filters, today: date | None = None):
    # The page's rows come with their account and payments: no query per row.
    return (select(Receivable).join(Account, Account.id == Receivable.account_id)
            .options(contains_eager(Receivable.account), selectinload(Receivable.payments))
            .where(*receivables_where(user, filters, today))
            .order_by(Receivable.due_date, Receivable.id))


def receivables_totals(user, filters: Filters, today: date | None = None) -> dict:
    """Amount, received and outstanding over the filtered list (cancelled ones count 0)."""
    live = Receivable.cancelled.is_(False)
    row = db.session.execute(
        select(func.coalesce(func.sum(case((live, Receivable.amount), else_=0)), 0),
               func.coalesce(func.sum(case((live, Receivable.paid), else_=0)), 0))
        .select_from(Receivable).join(Account, Account.id == Receivable.account_id)
        .where(*receivables_where(user, filters, today))).one()
    amount, paid = to_money(row[0]), to_money(row[1])
    return {"amount": amount, "paid": paid, "outstanding": amount - paid}


# --- aging -----------------------------------------------------------------------------

BUCKETS = ("current", "d0_30", "d31_60", "d61_90", "d90_plus")


def aging_select(user, today: date):
    """The aging GROUP BY: one row per account in ``user``'s scope with something owed —
    ``id``, ``legal_name``, ``trade_name``, one column per bucket (:data:`BUCKETS`) and
    ``total`` — largest total first. Also the base of finance's aging report."""
    paid = (select(Payment.receivable_id, func.sum(Payment.amount).label("paid"))
            .group_by(Payment.receivable_id).subquery())
    owed = Receivable.amount - func.coalesce(paid.c.paid, 0)
    due = Receivable.due_date

    def days(low: int, high: int | None):
        """Owed by the receivables ``low``..``high`` days overdue."""
        condition = due <= today - timedelta(days=low)
        if high is not None:
            condition = and_(condition, due >= today - timedelta(days=high))
        return func.coalesce(func.sum(case((condition, owed), else_=0)), 0)

    columns = [func.coalesce(func.sum(case((due >= today, owed), else_=0)), 0),
               days(1, 30), days(31, 60), days(61, 90), days(91, None)]
    query = (select(Account.id, Account.legal_name, Account.trade_name,
                    *(c.label(name) for c, name in zip(columns, BUCKETS, strict=True)),
                    func.sum(owed).label("total"))
             .select_from(Receivable)
             .join(Account, Account.id == Receivable.account_id)
             .outerjoin(paid, paid.c.receivable_id == Receivable.id)
             .where(account_scope(user), Receivable.cancelled.is_(False), owed > 0)
             .group_by(Account.id, Account.legal_name, Account.trade_name)
             .order_by(func.sum(owed).desc(), Account.id))
    return query


def aging(user, today: date | None = None) -> tuple[list, dict]:
    """What is still owed, by account and by days overdue: not yet due, 1–30, 31–60,
    61–90 and over 90 days. One GROUP BY query; returns (rows, totals)."""
    query = aging_select(user, _today(today, user))
    rows = []
    totals = dict.fromkeys((*BUCKETS, "total"), ZERO)
    for row in db.session.execute(query):
        values = {name: to_money(getattr(row, name)) for name in (*BUCKETS, "total")}
        rows.append({"account_id": row.id, "name": row.trade_name or row.legal_name,
                     **values})
        for name, value in values.items():
            totals[name] += value
    return rows, totals

