"""The sales rules: catalog, quotes, orders, invoices. Views, imports and APIs call these.

Every change is one transaction: the service commits, or raises :class:`InvalidInput`
after writing nothing (the caller rolls back its session). Documents belong to an
account; a user reaches them only through an account of their record scope (404 else).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import abort, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from erp import documents
from erp.db import db, utcnow
from erp.documents import (
    installment_rows,
    line_total,  # noqa: F401 (services.line_total, as before)
    schedule,
)
from erp.errors import InvalidInput
from erp.formats import parse_date
from erp.mail import format_address, queue_mail
from erp.params import parse_int
from erp.signals import send_vetoable
from erp.validation import Errors, choice, clean_field, money, record_id, text
from erp.validation import date as a_date
from modules.crm.models import Account, AccountContact, Contact
from modules.crm.services.accounts import promote_to_customer
from modules.crm.services.scope import account_scope

from . import signals
from .models import (
    INVOICE_CANCELLED,
    INVOICE_ISSUED,
    ORDER_CANCELLED,
    ORDER_CONFIRMED,
    ORDER_DELIVERED,
    PRODUCT_KINDS,
    QUOTE_ACCEPTED,
    QUOTE_DRAFT,
    QUOTE_EXPIRED,
    QUOTE_REFUSED,
    QUOTE_SENT,
    Installment,
    Invoice,
    Order,
    OrderLine,
    Product,
    Quote,
    QuoteLine,
    SalesEvent,
)

MAX_INSTALLMENTS = 60
DEFAULT_VALIDITY_DAYS = 30
NOTES_MAX = 5000

# Timeline kinds (sales_event.kind)
EV_QUOTE_SENT, EV_QUOTE_ACCEPTED, EV_QUOTE_REFUSED = (
    "sales.quote_sent", "sales.quote_accepted", "sales.quote_refused")
EV_ORDER_CONFIRMED = "sales.order_confirmed"
EV_INVOICE_ISSUED, EV_INVOICE_CANCELLED = "sales.invoice_issued", "sales.invoice_cancelled"


def _real(user):
    """The user object itself, not Flask-Login's ``current_user`` proxy: receivers may keep
    it beyond the request."""
    getter = getattr(user, "_get_current_object", None)
    return getter() if getter is not None else user


def refuse(message) -> InvalidInput:
    return InvalidInput({"__all__": [str(message)]})


# --- numbers and money ------------------------------------------------------------------


def next_number(kind: str) -> int:
    """The next number of a kind of sales document ("quote", "order", "invoice"), in this
    transaction: the host's sequence "sales.<kind>"."""
    return documents.next_number(f"sales.{kind}")


# --- scope ----------------------------------------------------------------------------


def in_scope(stmt, model, user):
    """Restrict a SELECT of a sales document to the accounts the user may see."""
    return stmt.join(Account, Account.id == model.account_id).where(account_scope(user))


def _get_or_404(model, record_id: int, user):
    record = db.session.scalar(in_scope(select(model), model, user)
                               .where(model.id == record_id))
    if record is None:
        abort(404)
    return record


def get_quote_or_404(quote_id: int, user) -> Quote:
    return _get_or_404(Quote, quote_id, user)


def get_order_or_404(order_id: int, user) -> Order:
    return _get_or_404(Order, order_id, user)


def get_invoice_or_404(invoice_id: int, user) -> Invoice:
    return _get_or_404(Invoice, invoice_id, user)


# --- catalog --------------------------------------------------------------------------


def clean_product(data: Mapping[str, Any], *, current: Product | None = None) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    out["code"] = errors.clean("code", text, data.get("code"), required=True, max_length=40,
                               message=_l("Give the product a code."))
    if out["code"]:
        clash = db.session.scalar(select(Product.id).where(Product.code == out["code"]))
        if clash is not None and (current is None or clash != current.id):
            errors.add("code", _l("Another product already has this code."))
    out["name"] = errors.clean("name", text, data.get("name"), required=True, max_length=200,
                               message=_l("Give the product a name."))
    out["kind"] = errors.clean("kind", choice, data.get("kind"), choices=PRODUCT_KINDS,
                               message=_l("Choose product or service.")) or PRODUCT_KINDS[0]
    out["price"] = errors.clean("price", money, data.get("price"),
                                message=_l("Use a price such as 1.234,56.")) or Decimal("0.00")
    out["active"] = bool(data.get("active", True))
    errors.raise_if_any()
    return out


def create_product(data: Mapping[str, Any]) -> Product:
    product = Product(**clean_product(data))
    db.session.add(product)
    db.session.commit()
    return product


def update_product(product: Product, data: Mapping[str, Any]) -> Product:
    values = clean_product(data, current=product)
    for key, value in values.items():
        setattr(product, key, value)
    db.session.commit()
    return product


def active_products() -> list[Product]:
    return list(db.session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(Product.code)))


# --- lines ----------------------------------------------------------------------------


def _catalog_product(product_id: int) -> Product | None:
    return db.session.get(Product, product_id)


def clean_lines(rows: Iterable[Mapping[str, Any]], errors: Errors) -> list[dict]:
    """Validate document lines ("lines-<i>-<field>" errors) with the host's one routine,
    products taken from the catalog; empty rows are skipped."""
    return documents.clean_lines(rows, errors, product=_catalog_product)


def _set_lines(document, line_class, lines: list[dict]) -> None:
    document.lines = [line_class(position=i, **line) for i, line in enumerate(lines)]
    document.total = sum((line["total"] for line in lines), Decimal("0.00"))


def _copy_lines(lines, line_class) -> list:
    return [line_class(position=line.position, product_id=line.product_id,
                       description=line.description, quantity=line.quantity,
                       unit_price=line.unit_price, discount=line.discount, total=line.total)
            for line in lines]


def _event(account_id: int, kind: str, document_type: str, document, user) -> None:
    """A timeline entry; its title is the document's number (the label comes from the kind)."""
    db.session.add(SalesEvent(account_id=account_id, at=utcnow(), kind=kind,
                              document_type=document_type, document_id=document.id,
                              title=document.display_number,
                              user_id=user.id if user is not None else None))


# --- quotes ---------------------------------------------------------------------------


def account_contacts(account_id: int) -> list[Contact]:
    return list(db.session.scalars(
        select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account_id, Contact.archived.is_(False))
        .order_by(Contact.name)))


def _account_contact(account_id: int, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    return db.session.scalar(
        select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account_id, Contact.id == contact_id))


def clean_quote(account: Account, data: Mapping[str, Any]) -> dict:
    errors = Errors()
    out: dict[str, Any] = {}
    message = _l("Choose a contact of this account.")
    out["contact_id"] = errors.clean("contact_id", record_id, data.get("contact_id"),
                                     message=message)
    if out["contact_id"] is not None and _account_contact(account.id, out["contact_id"]) is None:
        errors.add("contact_id", message)
    valid_until = errors.clean("valid_until", a_date, data.get("valid_until"))
    if valid_until is None and "valid_until" not in errors:
        errors.add("valid_until", _l("Give the date until which the quote is valid."))
    elif valid_until is not None and valid_until < date.today():
        errors.add("valid_until", _l("The validity date cannot be in the past."))
    out["valid_until"] = valid_until
    out["notes"] = errors.clean("notes", text, data.get("notes"), max_length=NOTES_MAX) or None
    out["lines"] = clean_lines(data.get("lines") or (), errors)
    errors.raise_if_any()
    return out


def default_validity() -> date:
    return date.today() + timedelta(days=DEFAULT_VALIDITY_DAYS)


def create_quote(account: Account, data: Mapping[str, Any], *, user) -> Quote:
    values = clean_quote(account, data)
    lines = values.pop("lines")
    quote = Quote(account_id=account.id, user_id=user.id, status=QUOTE_DRAFT,
                  number=next_number("quote"), **values)
    _set_lines(quote, QuoteLine, lines)
    db.session.add(quote)
    db.session.commit()
    return quote


def update_quote(quote: Quote, data: Mapping[str, Any], *, user) -> Quote:
    if quote.status != QUOTE_DRAFT:
        raise refuse(_l("Only a draft quote can be changed."))
    values = clean_quote(quote.account, data)
    lines = values.pop("lines")
    for key, value in values.items():
        setattr(quote, key, value)
    _set_lines(quote, QuoteLine, lines)
    db.session.commit()
    return quote


def send_quote(quote: Quote, contact_id: Any, *, user, message: str | None = None) -> Quote:
    """E-mail the quote to a contact of its account (through the outbox) and mark it sent,
    in one transaction, with its timeline entry."""
    status = quote.current_status
    if status not in (QUOTE_DRAFT, QUOTE_SENT):
        raise refuse(_l("This quote can no longer be sent."))
    if quote.valid_until < date.today():
        raise refuse(_l("This quote has expired: it can no longer be sent."))
    contact = _account_contact(quote.account_id, clean_field(
        "contact_id", record_id, contact_id, message=_("Choose a contact of this account.")))
    if contact is None:
        raise InvalidInput({"contact_id": [_("Choose a contact of this account.")]})
    if not contact.email:
        raise InvalidInput({"contact_id": [
            _("%(name)s has no e-mail address: add one to the contact first.",
              name=contact.name)]})
    subject = _("Quote %(number)s", number=quote.display_number)
    # The Jinja environment itself, not render_template: no request needed (imports, API).
    body = current_app.jinja_env.get_template("sales/quote_mail.txt").render(
        quote=quote, contact=contact, message=(message or "").strip())
    to = format_address(contact.name, contact.email)  # quoted: a name may hold '<' or '"'
    try:
        queue_mail(to, subject, body, source="sales.quote", reply_to=user.email or None)
    except ValueError:
        try:  # the sender's own address may be the bad one: then without Reply-To
            queue_mail(to, subject, body, source="sales.quote")
        except ValueError:
            raise InvalidInput({"contact_id": [
                _("The e-mail address of %(name)s is not valid.", name=contact.name)]}
            ) from None
    quote.status = QUOTE_SENT
    quote.contact_id = contact.id
    quote.sent_at = utcnow()
    _event(quote.account_id, EV_QUOTE_SENT, "quote", quote, user)
    db.session.flush()
    signals.quote_sent.send(quote, account_id=quote.account_id,
                            document=quote.display_number, to=contact.email, user=_real(user))
    db.session.commit()
    return quote


def accept_quote(quote: Quote, *, user) -> Order:
    """The customer accepted: the quote becomes an order with the same lines."""
    status = quote.current_status
    if status == QUOTE_EXPIRED:
        raise refuse(_l("This quote has expired: it can no longer be accepted."))
    if status != QUOTE_SENT:
        raise refuse(_l("Only a sent quote can be accepted."))
    quote.status = QUOTE_ACCEPTED
    quote.decided_at = utcnow()
    order = Order(account_id=quote.account_id, quote_id=quote.id, user_id=user.id,
                  status=ORDER_CONFIRMED, order_date=date.today(), notes=quote.notes,
                  number=next_number("order"), total=quote.total,
                  lines=_copy_lines(quote.lines, OrderLine))
    db.session.add(order)
    db.session.flush()
    _event(quote.account_id, EV_QUOTE_ACCEPTED, "quote", quote, user)
    _event(order.account_id, EV_ORDER_CONFIRMED, "order", order, user)
    db.session.flush()
    _order_confirmed(order, user)
    db.session.commit()
    return order


def refuse_quote(quote: Quote, *, user) -> Quote:
    if quote.status != QUOTE_SENT:  # an expired quote may still be marked refused
        raise refuse(_l("Only a sent quote can be refused."))
    quote.status = QUOTE_REFUSED
    quote.decided_at = utcnow()
    _event(quote.account_id, EV_QUOTE_REFUSED, "quote", quote, user)
    db.session.commit()
    return quote


def quote_status_filter(status: str):
    """The WHERE clause of a status filter, "expired" (and "sent") computed from today."""
    today = date.today()
    if status == QUOTE_EXPIRED:
        return and_(Quote.status == QUOTE_SENT, Quote.valid_until < today)
    if status == QUOTE_SENT:
        return and_(Quote.status == QUOTE_SENT, Quote.valid_until >= today)
    return Quote.status == status


# --- orders ---------------------------------------------------------------------------


def _order_confirmed(order: Order, user) -> None:
    signals.order_confirmed.send(order, account_id=order.account_id,
                                 document=order.display_number, total=order.total,
                                 quote_id=order.quote_id, user=_real(user))


def create_order(account: Account, data: Mapping[str, Any], *, user) -> Order:
    errors = Errors()
    order_date = errors.clean("order_date", a_date, data.get("order_date")) or date.today()
    notes = errors.clean("notes", text, data.get("notes"), max_length=NOTES_MAX) or None
    lines = clean_lines(data.get("lines") or (), errors)
    errors.raise_if_any()
    order = Order(account_id=account.id, user_id=user.id, status=ORDER_CONFIRMED,
                  order_date=order_date, notes=notes, number=next_number("order"))
    _set_lines(order, OrderLine, lines)
    db.session.add(order)
    db.session.flush()
    _event(account.id, EV_ORDER_CONFIRMED, "order", order, user)
    db.session.flush()
    _order_confirmed(order, user)
    db.session.commit()
    return order


def deliver_order(order: Order, *, user) -> Order:
    if order.status != ORDER_CONFIRMED:
        raise refuse(_l("Only a confirmed order can be delivered."))
    order.status = ORDER_DELIVERED
    db.session.commit()
    return order


def cancel_order(order: Order, *, user) -> Order:
    if order.status == ORDER_CANCELLED:
        raise refuse(_l("This order is already cancelled."))
    if order.issued_invoice is not None:
        raise refuse(_l("Cancel the order's invoice first."))
    order.status = ORDER_CANCELLED
    db.session.commit()
    return order


def uninvoiced_orders(account_id: int) -> list[Order]:
    """The account's orders that can be invoiced: not cancelled, no issued invoice."""
    invoiced = select(Invoice.order_id).where(Invoice.status == INVOICE_ISSUED)
    return list(db.session.scalars(
        select(Order).where(Order.account_id == account_id, Order.status != ORDER_CANCELLED,
                            Order.id.not_in(invoiced))
        .order_by(Order.order_date.desc(), Order.id.desc()).limit(100)))


# --- invoices -------------------------------------------------------------------------


def clean_invoice(order: Order, data: Mapping[str, Any]) -> dict:
    fail = Errors()
    out: dict[str, Any] = {}
    try:
        out["issue_date"] = parse_date(data.get("issue_date")) or date.today()
    except ValueError:
        fail("issue_date", _l("Use a date such as 31/12/2026."))
    raw = text(data.get("installments")) or "1"
    count = parse_int(raw, 0)
    if not 1 <= count <= MAX_INSTALLMENTS:
        fail("installments", _l("Use 1 to %(n)d installments.", n=MAX_INSTALLMENTS))
    out["installments"] = count
    try:
        first_due = parse_date(data.get("first_due_date"))
        if first_due is None:
            fail("first_due_date", _l("Give the (first) due date."))
        elif out.get("issue_date") and first_due < out["issue_date"]:
            fail("first_due_date", _l("The due date cannot be before the issue date."))
        out["first_due_date"] = first_due
    except ValueError:
        fail("first_due_date", _l("Use a date such as 31/12/2026."))
    if order.status == ORDER_CANCELLED:
        fail("__all__", _l("A cancelled order cannot be invoiced."))
    elif order.issued_invoice is not None:
        fail("__all__", _l("This order already has an invoice."))
    elif order.total <= 0:
        fail("__all__", _l("This order has nothing to invoice."))
    fail.raise_if_any()
    return out


def issue_invoice(order: Order, data: Mapping[str, Any], *, user) -> Invoice:
    """Invoice an order: the invoice and its installments, the account made a customer, the
    timeline entry and the ``sales.invoice_issued`` signal — all in one commit."""
    values = clean_invoice(order, data)
    invoice = Invoice(number=next_number("invoice"), account_id=order.account_id,
                      order_id=order.id, user_id=user.id, status=INVOICE_ISSUED,
                      issue_date=values["issue_date"], total=order.total,
                      installments=installment_rows(Installment, order.total,
                                                    values["installments"],
                                                    values["first_due_date"]))
    db.session.add(invoice)
    db.session.flush()
    promote_to_customer(order.account)
    _event(invoice.account_id, EV_INVOICE_ISSUED, "invoice", invoice, user)
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
    _event(invoice.account_id, EV_INVOICE_CANCELLED, "invoice", invoice, user)
    send_vetoable(signals.invoice_cancelled, invoice, origin="sales.invoice",
                  origin_id=invoice.id, user=user)
    db.session.commit()
    return invoice


# --- figures for the account page -----------------------------------------------------


def last_order_date(account_id: int) -> date | None:
    return db.session.scalar(select(func.max(Order.order_date)).where(
        Order.account_id == account_id, Order.status != ORDER_CANCELLED))


def invoiced_this_year(account_id: int) -> Decimal:
    today = date.today()
    return db.session.scalar(select(func.coalesce(func.sum(Invoice.total), 0)).where(
        Invoice.account_id == account_id, Invoice.status == INVOICE_ISSUED,
        Invoice.issue_date >= date(today.year, 1, 1),
        Invoice.issue_date <= date(today.year, 12, 31)))


def search_number(model, query: str):
    """Documents whose number matches "123", "PR 123", "NF000123"..."""
    digits = "".join(ch for ch in query if ch in "0123456789")  # not "²": int() refuses it
    if not digits or len(digits) > 9:
        return None
    return or_(model.number == int(digits))
