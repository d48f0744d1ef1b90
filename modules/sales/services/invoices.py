"""Invoices: issued from an order with their installments (the account becomes a
customer, finance may veto), or cancelled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select

from erp.clock import local_today
from erp.db import db, utcnow
from erp.documents import installment_rows, schedule
from erp.formats import parse_date
from erp.i18n import module_i18n
from erp.params import parse_int
from erp.signals import send_vetoable
from erp.validation import Errors, text
from modules.crm.services.accounts import promote_to_customer

from .. import signals
from ..models import (
    INVOICE_CANCELLED,
    INVOICE_ISSUED,
    ORDER_CANCELLED,
    Installment,
    Invoice,
    Order,
)
from .common import (
    EV_INVOICE_CANCELLED,
    EV_INVOICE_ISSUED,
    add_event,
    get_or_404,
    next_number,
    refuse,
)

_l = module_i18n(__name__).lazy_gettext

MAX_INSTALLMENTS = 60


def get_invoice_or_404(invoice_id: int, user) -> Invoice:
    return get_or_404(Invoice, invoice_id, user)


def clean_invoice(order: Order, data: Mapping[str, Any], *, today: date) -> dict:
    """The invoice's dates and installments, clean; the issue date is ``today`` (the
    user's) when blank."""
    errors = Errors()
    out: dict[str, Any] = {}
    try:
        out["issue_date"] = parse_date(data.get("issue_date")) or today
    except ValueError:
        errors.add("issue_date", _l("Use a date such as 31/12/2026."))
    raw = text(data.get("installments")) or "1"
    count = parse_int(raw, 0)
    if not 1 <= count <= MAX_INSTALLMENTS:
        errors.add("installments", _l("Use 1 to %(n)d installments.", n=MAX_INSTALLMENTS))
    out["installments"] = count
    try:
        first_due = parse_date(data.get("first_due_date"))
        if first_due is None:
            errors.add("first_due_date", _l("Give the (first) due date."))
        elif out.get("issue_date") and first_due < out["issue_date"]:
            errors.add("first_due_date", _l("The due date cannot be before the issue date."))
        out["first_due_date"] = first_due
    except ValueError:
        errors.add("first_due_date", _l("Use a date such as 31/12/2026."))
    if order.status == ORDER_CANCELLED:
        errors.add("__all__", _l("A cancelled order cannot be invoiced."))
    elif order.issued_invoice is not None:
        errors.add("__all__", _l("This order already has an invoice."))
    elif order.total <= 0:
        errors.add("__all__", _l("This order has nothing to invoice."))
    errors.raise_if_any()
    return out


def issue_invoice(order: Order, data: Mapping[str, Any], *, user) -> Invoice:
    """Invoice an order: the invoice and its installments, the account made a customer, the
    timeline entry and the ``sales.invoice_issued`` signal — all in one commit."""
    values = clean_invoice(order, data, today=local_today(user))
    invoice = Invoice(number=next_number("invoice"), account_id=order.account_id,
                      order_id=order.id, user_id=user.id, status=INVOICE_ISSUED,
                      issue_date=values["issue_date"], total=order.total,
                      installments=installment_rows(Installment, order.total,
                                                    values["installments"],
                                                    values["first_due_date"]))
    db.session.add(invoice)
    db.session.flush()
    promote_to_customer(order.account)
    add_event(invoice.account_id, EV_INVOICE_ISSUED, "invoice", invoice, user)
    send_vetoable(signals.invoice_issued, invoice, account_id=invoice.account_id,
                  document=invoice.display_number, origin="sales.invoice",
                  origin_id=invoice.id, issue_date=invoice.issue_date,
                  installments=schedule(invoice.installments), user=user)
    db.session.commit()
    return invoice


def cancel_invoice(invoice: Invoice, *, user) -> Invoice:
    """Cancel an issued invoice; a receiver (finance) may veto with Refused."""
    if invoice.status != INVOICE_ISSUED:
        raise refuse(_l("This invoice is already cancelled."))
    invoice.status = INVOICE_CANCELLED
    invoice.cancelled_at = utcnow()
    add_event(invoice.account_id, EV_INVOICE_CANCELLED, "invoice", invoice, user)
    send_vetoable(signals.invoice_cancelled, invoice, origin="sales.invoice",
                  origin_id=invoice.id, user=user)
    db.session.commit()
    return invoice


# On every view of an account: built once, the account and the year bound when run
# (issue 15).
INVOICED_BETWEEN = select(func.coalesce(func.sum(Invoice.total), 0)).where(
    Invoice.account_id == bindparam("account_id"), Invoice.status == INVOICE_ISSUED,
    Invoice.issue_date >= bindparam("first"), Invoice.issue_date <= bindparam("last"))


def invoiced_this_year(account_id: int) -> Decimal:
    """The account page's "Invoiced this year" (the request's user's year): the issued
    invoices' total."""
    today = local_today()
    return db.session.scalar(INVOICED_BETWEEN, {
        "account_id": account_id, "first": date(today.year, 1, 1),
        "last": date(today.year, 12, 31)})
