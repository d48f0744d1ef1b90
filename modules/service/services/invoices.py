"""Service invoices (notas de serviço): who sees them, their input, issuing one for a
finished order (in installments, telling finance) and cancelling it (finance may refuse).
Same order of work as orders.py: validate, write, signal inside the transaction, commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import abort
from sqlalchemy import select

from erp.clock import local_today
from erp.db import db, utcnow
from erp.documents import installment_rows, schedule
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.money import CENT
from erp.signals import send_vetoable
from erp.validation import Errors, integer
from erp.validation import date as a_date
from modules.crm.models import Account
from modules.crm.services.accounts import promote_to_customer
from modules.crm.services.scope import account_scope

from .. import signals
from ..models import (
    DONE,
    EV_INVOICE_CANCELLED,
    EV_INVOICE_ISSUED,
    INVOICE_CANCELLED,
    ISSUED,
    ServiceInvoice,
    ServiceInvoiceInstallment,
    ServiceOrder,
)
from .common import add_event, insert_numbered

_l = module_i18n(__name__).lazy_gettext

ORIGIN = "service.invoice"
MAX_INSTALLMENTS = 60


# --- scope -------------------------------------------------------------------------------


def invoices_in_scope(user):
    return (select(ServiceInvoice).join(Account, Account.id == ServiceInvoice.account_id)
            .where(account_scope(user)))


def get_invoice_or_404(invoice_id: int, user) -> ServiceInvoice:
    invoice = db.session.scalar(invoices_in_scope(user).where(ServiceInvoice.id == invoice_id))
    if invoice is None:
        abort(404)
    return invoice


# --- invoices ------------------------------------------------------------------------------


def clean_invoice(data: Mapping[str, Any], *, today: date | None = None) -> dict[str, Any]:
    """Validate invoice input (a blank issue date is ``today``: the user's, given by the
    caller; else the request's user's)."""
    errors = Errors()
    out: dict[str, Any] = {}
    issue_date = errors.clean("issue_date", a_date, data.get("issue_date"))
    if "issue_date" not in errors:
        out["issue_date"] = issue_date or today or local_today()
    out["due_date"] = errors.clean("due_date", a_date, data.get("due_date"))
    if out["due_date"] is None and "due_date" not in errors:
        errors.add("due_date", _l("Give the due date."))
    elif out["due_date"] is not None and "issue_date" in out and (
            out["due_date"] < out["issue_date"]):
        errors.add("due_date", _l("The due date cannot be before the issue date."))
    out["installments"] = errors.clean(
        "installments", integer, data.get("installments") or "1", required=True, minimum=1,
        maximum=MAX_INSTALLMENTS,
        message=_l("From 1 to %(n)d installments.", n=MAX_INSTALLMENTS))
    errors.raise_if_any()
    return out


def _lock(order: ServiceOrder) -> ServiceOrder:
    """Re-read the order under a row lock (PostgreSQL), so two issues cannot both pass."""
    return db.session.scalar(select(ServiceOrder).where(ServiceOrder.id == order.id)
                             .with_for_update().execution_options(populate_existing=True))


def issue_invoice(order: ServiceOrder, data: Mapping[str, Any], *, user) -> ServiceInvoice:
    """Issue the nota de serviço of a finished order: one (not cancelled) per order. Makes
    the account a customer and tells finance (``service.invoice_issued``), in one commit."""
    clean = clean_invoice(data, today=local_today(user))
    order = _lock(order)
    if order.status != DONE:
        raise InvalidInput({"__all__": [_l("Only a finished (done) order can be invoiced.")]})
    if order.issued_invoice is not None:
        raise InvalidInput({"__all__": [_l(
            "This order was already invoiced (%(document)s).",
            document=order.issued_invoice.display_number)]})
    if order.total <= 0:
        raise InvalidInput({"__all__": [_l("Nothing to invoice: the order's total is zero.")]})
    if clean["installments"] > 1 and order.total < CENT * clean["installments"]:
        raise InvalidInput({"installments": [_l("Too many installments for this amount.")]})
    invoice = ServiceInvoice(
        order_id=order.id, account_id=order.account_id, amount=order.total, status=ISSUED,
        issued_by_id=user.id, issued_at=utcnow(), issue_date=clean["issue_date"],
        due_date=clean["due_date"],
        installments=installment_rows(ServiceInvoiceInstallment, order.total,
                                      clean["installments"], clean["due_date"]))
    insert_numbered(invoice, "service.invoice")
    promote_to_customer(order.account)
    add_event(EV_INVOICE_ISSUED, order.account_id, invoice.display_number, user=user,
              order=order, invoice=invoice, amount=invoice.amount)
    send_vetoable(signals.invoice_issued, invoice, account_id=invoice.account_id,
                  document=invoice.display_number, origin=ORIGIN, origin_id=invoice.id,
                  issue_date=invoice.issue_date, installments=schedule(invoice.installments),
                  user=user)
    db.session.commit()
    return invoice


def cancel_invoice(invoice: ServiceInvoice, *, user) -> ServiceInvoice:
    """Cancel an issued invoice; finance may refuse (receivables with payments)."""
    if invoice.status != ISSUED:
        raise InvalidInput({"__all__": [_l("This invoice is already cancelled.")]})
    invoice.status = INVOICE_CANCELLED
    invoice.cancelled_at = utcnow()
    invoice.cancelled_by_id = user.id
    add_event(EV_INVOICE_CANCELLED, invoice.account_id, invoice.display_number, user=user,
              order=invoice.order, invoice=invoice, amount=invoice.amount)
    send_vetoable(signals.invoice_cancelled, invoice, origin=ORIGIN, origin_id=invoice.id,
                  user=user)
    db.session.commit()
    return invoice


def default_due_date(issue: date | None = None) -> date:
    """Thirty days after ``issue`` (the invoice form's suggestion); without one, after the
    request's user's today."""
    return (issue or local_today()) + timedelta(days=30)
