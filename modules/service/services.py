"""Service's rules: orders (items, hours, totals, status moves) and service invoices.

The web views call these functions (as a future API or import would). They validate
everything first and raise ``InvalidInput`` (per-field messages) before writing anything,
then write, flush, send their signal inside the transaction and commit: a receiver's
``Refused`` rolls everything back and comes out as ``InvalidInput({"__all__": [...]})``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp.auth.models import User
from erp.db import db, utcnow
from erp.documents import clean_lines, installment_rows, next_number, schedule
from erp.errors import InvalidInput
from erp.formats import parse_decimal
from erp.money import CENT, MAX_MONEY, QUANTITY_STEP
from erp.signals import send_vetoable
from erp.validation import Errors, Invalid, integer, record, text
from erp.validation import date as a_date
from modules.crm.models import Account
from modules.crm.services.accounts import promote_to_customer
from modules.crm.services.scope import account_scope

from . import signals
from .labels import INVOICE_STATUS_LABELS, ORDER_STATUS_LABELS  # noqa: F401 (INVOICE_: for views, search)
from .models import (
    CANCELLED,
    DONE,
    EV_INVOICE_CANCELLED,
    EV_INVOICE_ISSUED,
    EV_ORDER_CANCELLED,
    EV_ORDER_FINISHED,
    EV_ORDER_OPENED,
    IN_PROGRESS,
    INVOICE_CANCELLED,
    ISSUED,
    OPEN,
    TRANSITIONS,
    ServiceEvent,
    ServiceInvoice,
    ServiceInvoiceInstallment,
    ServiceOrder,
    ServiceOrderItem,
)

ORIGIN = "service.invoice"
# The line routine's messages that service words its own way.
ITEM_MESSAGES = {"description": _l("Describe the item."),
                 "unit_price_required": _l("Give the unit price.")}
MAX_DESCRIPTION = 5000
MAX_ITEMS = 200
MAX_INSTALLMENTS = 60
MAX_HOURS = Decimal("100000")

# The button that moves an order to each status.
ACTION_LABELS = {IN_PROGRESS: _l("Start work"), DONE: _l("Finish"),
                 CANCELLED: _l("Cancel order")}


# --- scope -------------------------------------------------------------------------------


def orders_in_scope(user):
    """SELECT of the orders the user may see: those of accounts in the user's scope."""
    return (select(ServiceOrder).join(Account, Account.id == ServiceOrder.account_id)
            .where(account_scope(user)))


def invoices_in_scope(user):
    return (select(ServiceInvoice).join(Account, Account.id == ServiceInvoice.account_id)
            .where(account_scope(user)))


def get_order_or_404(order_id: int, user) -> ServiceOrder:
    order = db.session.scalar(orders_in_scope(user).where(ServiceOrder.id == order_id))
    if order is None:
        abort(404)
    return order


def get_invoice_or_404(invoice_id: int, user) -> ServiceInvoice:
    invoice = db.session.scalar(invoices_in_scope(user).where(ServiceInvoice.id == invoice_id))
    if invoice is None:
        abort(404)
    return invoice


# --- input -------------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _clean_items(rows: Iterable[Mapping[str, Any]], errors: Errors) -> list[dict]:
    """The order's items ("items-<i>-<field>" errors) with the host's one line routine: no
    catalog, none required (an order may be hours only); the total is checked with the
    hours."""
    return clean_lines(rows, errors, field="items", required=False, max_lines=MAX_ITEMS,
                       max_total=None, messages=ITEM_MESSAGES)


def _number(value: Any, *, maximum: Decimal, message: Any,
            places: Decimal | None = None) -> Decimal:
    """A parser: a number from 0 to below ``maximum`` (blank: 0) with no more decimals than
    ``places`` has, when given; kept as typed."""
    try:
        number = parse_decimal(value) or Decimal(0)
    except ValueError:
        raise Invalid(message) from None
    if not 0 <= number < maximum or (places is not None and number != number.quantize(places)):
        raise Invalid(message)
    return number


def clean_order(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate order input; returns clean values with the totals, or raises InvalidInput."""
    errors = Errors()
    out: dict[str, Any] = {}
    out["description"] = errors.clean(
        "description", text, data.get("description"), required=True,
        max_length=MAX_DESCRIPTION, message=_l("Describe the service to be done."))
    message = _l("Choose the responsible technician.")
    technician = errors.clean("technician_id", record, data.get("technician_id"), model=User,
                              required=True, message=message)
    if technician is not None and not technician.active:
        errors.add("technician_id", message)
    elif technician is not None:
        out["technician_id"] = technician.id
    out["hours"] = errors.clean("hours", _number, data.get("hours"), maximum=MAX_HOURS,
                                places=QUANTITY_STEP,
                                message=_l("Use a number of hours such as 2,5."))
    out["hourly_rate"] = errors.clean("hourly_rate", _number, data.get("hourly_rate"),
                                      maximum=MAX_MONEY,
                                      message=_l("Use a price such as 1.234,56."))
    out["items"] = _clean_items(data.get("items") or [], errors)
    errors.raise_if_any()
    out["items_total"] = sum((i["total"] for i in out["items"]), Decimal(0))
    out["hours_total"] = _money(out["hours"] * out["hourly_rate"])
    out["total"] = out["items_total"] + out["hours_total"]
    if out["total"] >= MAX_MONEY:
        raise InvalidInput({"__all__": [_l("The order's total is too large.")]})
    return out


def _apply(order: ServiceOrder, clean: dict[str, Any]) -> None:
    for field in ("description", "technician_id", "hours", "hourly_rate", "items_total",
                  "hours_total", "total"):
        setattr(order, field, clean[field])
    order.items = [ServiceOrderItem(position=i, **item) for i, item in enumerate(clean["items"])]


# --- numbers, events, signals --------------------------------------------------------------


def _insert_numbered(record, key: str) -> None:
    """Give ``record`` the next number of the host's sequence ``key`` ("service.order",
    "service.invoice": :func:`erp.documents.next_number`, safe under concurrency) and
    flush it."""
    record.number = next_number(key)
    db.session.add(record)
    db.session.flush()


def _event(kind: str, account_id: int, document: str, *, user, order=None, invoice=None,
           amount=None) -> None:
    db.session.add(ServiceEvent(
        kind=kind, account_id=account_id, document=document, at=utcnow(),
        order_id=order.id if order is not None else None,
        invoice_id=invoice.id if invoice is not None else None,
        user_id=user.id if user is not None else None, amount=amount))


# --- orders --------------------------------------------------------------------------------


def create_order(account: Account, data: Mapping[str, Any], *, user) -> ServiceOrder:
    """Open a service order on ``account`` (already checked to be in the user's scope)."""
    clean = clean_order(data)
    order = ServiceOrder(account_id=account.id, status=OPEN, created_by_id=user.id)
    _apply(order, clean)
    _insert_numbered(order, "service.order")
    _event(EV_ORDER_OPENED, account.id, order.display_number, user=user, order=order,
           amount=order.total)
    send_vetoable(signals.order_opened, order, account_id=account.id, user=user)
    db.session.commit()
    return order


def update_order(order: ServiceOrder, data: Mapping[str, Any], *, user) -> ServiceOrder:
    if not order.editable:
        raise InvalidInput({"__all__": [_l("A done or cancelled order cannot be changed.")]})
    clean = clean_order(data)
    _apply(order, clean)
    db.session.commit()
    return order


def change_status(order: ServiceOrder, status: str, *, user) -> ServiceOrder:
    """Move an order along open -> in progress -> done, or to cancelled; others refused."""
    if status not in TRANSITIONS.get(order.status, ()):
        raise InvalidInput({"status": [_l(
            "A %(current)s order cannot become %(new)s.",
            current=str(ORDER_STATUS_LABELS.get(order.status, order.status)).lower(),
            new=str(ORDER_STATUS_LABELS.get(status, status)).lower())]})
    now = utcnow()
    order.status = status
    if status == IN_PROGRESS:
        order.started_at = now
    elif status == DONE:
        order.finished_at = now
        _event(EV_ORDER_FINISHED, order.account_id, order.display_number, user=user, order=order,
               amount=order.total)
        send_vetoable(signals.order_finished, order, account_id=order.account_id,
                      total=order.total, user=user)
    elif status == CANCELLED:
        order.cancelled_at = now
        _event(EV_ORDER_CANCELLED, order.account_id, order.display_number, user=user, order=order)
    db.session.commit()
    return order


# --- invoices ------------------------------------------------------------------------------


def invoice_installments(invoice: ServiceInvoice) -> list[tuple[date, Decimal]]:
    """The invoice's installments (its rows) as ``[(due date, amount), ...]``."""
    return schedule(invoice.installments)


def clean_invoice(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = Errors()
    out: dict[str, Any] = {}
    issue_date = errors.clean("issue_date", a_date, data.get("issue_date"))
    if "issue_date" not in errors:
        out["issue_date"] = issue_date or date.today()
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
    clean = clean_invoice(data)
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
    _insert_numbered(invoice, "service.invoice")
    promote_to_customer(order.account)
    _event(EV_INVOICE_ISSUED, order.account_id, invoice.display_number, user=user, order=order,
           invoice=invoice, amount=invoice.amount)
    send_vetoable(signals.invoice_issued, invoice, account_id=invoice.account_id,
                  document=invoice.display_number, origin=ORIGIN, origin_id=invoice.id,
                  issue_date=invoice.issue_date, installments=invoice_installments(invoice),
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
    _event(EV_INVOICE_CANCELLED, invoice.account_id, invoice.display_number, user=user,
           order=invoice.order, invoice=invoice, amount=invoice.amount)
    send_vetoable(signals.invoice_cancelled, invoice, origin=ORIGIN, origin_id=invoice.id,
                  user=user)
    db.session.commit()
    return invoice


def default_due_date(issue: date | None = None) -> date:
    return (issue or date.today()) + timedelta(days=30)
