"""/sales/quotes, /sales/orders, /sales/invoices: the documents of an account, read and
changed within the user's record scope (a document of an account outside it is a 404),
through the services the pages call."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp.api import Blueprint
from erp.api.conventions import equal_filters
from erp.api.etags import sends_etag
from erp.api.paging import keyset_page

from .. import services
from ..models import Invoice, Order, Quote
from ..permissions import READ, WRITE
from . import schemas as s
from .common import (
    account_in_scope,
    reads_record,
    requires,
    service_errors,
    writes_record,
    writing,
)

quotes = Blueprint("sales-quotes", __name__, description=(
    "Quotes (propostas) to an account: drafted with their lines, sent by e-mail to a "
    "contact, then accepted (an order with the same lines) or refused. A sent quote past "
    "its validity date reads as `expired`."))
orders = Blueprint("sales-orders", __name__, description=(
    "Sales orders: from an accepted quote or typed in; delivered, cancelled, or invoiced "
    "(in installments: finance makes a receivable of each)."))
invoices = Blueprint("sales-invoices", __name__, description=(
    "Sales invoices (notas fiscais) with their installments; cancelling one cancels its "
    "receivables, unless finance already received payments on them."))


def _lines(document) -> list[dict]:
    return [{"product_id": line.product_id, "description": line.description,
             "quantity": line.quantity, "unit_price": line.unit_price,
             "discount": line.discount} for line in document.lines]


def _page(model, args: dict, *filters, options=()):
    statement = services.in_scope(select(model), model, current_user).where(*filters)
    return keyset_page(statement.options(*options), model.id, args)


# --- quotes ------------------------------------------------------------------------------------


@quotes.route("/sales/quotes", methods=["GET"])
@requires(quotes, READ)
@quotes.arguments(s.QuoteListArgsSchema, location="query")
@quotes.response(200, s.QuotePageSchema)
def list_quotes(args):
    """List quotes

    The quotes of the accounts you may see, in id order, paged (`after` = the previous
    page's `next_cursor`). `status=expired`: sent quotes past their validity date (in
    your time zone's today).
    """
    filters = equal_filters(Quote, args, "account_id")
    if "status" in args:
        filters.append(services.quote_status_filter(args["status"]))
    return _page(Quote, args, *filters, options=[selectinload(Quote.lines)])


@quotes.route("/sales/quotes", methods=["POST"])
@requires(quotes, WRITE)
@quotes.arguments(s.QuoteCreateSchema)
@quotes.response(201, s.QuoteSchema)
@sends_etag
def create_quote(data):
    """Create a quote

    A draft for an account you can see, with at least one line; valid for 30 days unless
    `valid_until` says otherwise.
    """
    account = account_in_scope(data.pop("account_id"))
    data.setdefault("valid_until", services.default_validity(current_user))
    with service_errors():
        return services.create_quote(account, data, user=current_user)


@quotes.route("/sales/quotes/<int:quote_id>", methods=["GET"])
@requires(quotes, READ)
@quotes.response(200, s.QuoteSchema)
@reads_record(quotes)
def get_quote(quote_id: int):
    """Read a quote

    404 if it does not exist or its account is outside your scope. Its `ETag` is its
    `version`.
    """
    return services.get_quote_or_404(quote_id, current_user)


@quotes.route("/sales/quotes/<int:quote_id>", methods=["PATCH"])
@requires(quotes, WRITE)
@quotes.arguments(s.QuoteUpdateSchema)
@quotes.response(200, s.QuoteSchema)
@writes_record(quotes)
def update_quote(data, quote_id: int):
    """Update a draft quote

    Only the fields sent change (`lines`, when sent, replaces them all); a quote no
    longer a draft is refused (422). `If-Match` (412) or `version` (409) refuse a write
    made from a stale read.
    """
    quote = services.get_quote_or_404(quote_id, current_user)
    current = {"contact_id": quote.contact_id, "valid_until": quote.valid_until,
               "notes": quote.notes, "lines": _lines(quote)}
    with writing(quote, data):
        return services.update_quote(quote, {**current, **data}, user=current_user)


@quotes.route("/sales/quotes/<int:quote_id>/send", methods=["POST"])
@requires(quotes, WRITE)
@quotes.arguments(s.QuoteSendSchema)
@quotes.response(200, s.QuoteSchema)
@writes_record(quotes, body_version=False)
def send_quote(data, quote_id: int):
    """Send a quote by e-mail

    To a contact of the account that has an e-mail address (the mail goes through the
    outbox); the quote becomes `sent`. A draft or a sent quote still valid may be sent.
    """
    quote = services.get_quote_or_404(quote_id, current_user)
    contact_id = data.get("contact_id", quote.contact_id)
    with writing(quote):
        return services.send_quote(quote, contact_id, user=current_user,
                                   message=data.get("message"))


@quotes.route("/sales/quotes/<int:quote_id>/accept", methods=["POST"])
@requires(quotes, WRITE)
@quotes.response(201, s.SalesOrderSchema, description="The order made from the quote")
@writes_record(quotes, body_version=False)
def accept_quote(quote_id: int):
    """Mark a quote accepted

    The customer accepted: the quote becomes `accepted` and an order with the same lines
    is confirmed (answered). An expired or decided quote is refused (422).
    """
    quote = services.get_quote_or_404(quote_id, current_user)
    with writing(quote):
        return services.accept_quote(quote, user=current_user)


@quotes.route("/sales/quotes/<int:quote_id>/refuse", methods=["POST"])
@requires(quotes, WRITE)
@quotes.response(200, s.QuoteSchema)
@writes_record(quotes, body_version=False)
def refuse_quote(quote_id: int):
    """Mark a quote refused

    The customer said no. A decided quote is refused (422).
    """
    quote = services.get_quote_or_404(quote_id, current_user)
    with writing(quote):
        return services.refuse_quote(quote, user=current_user)


# --- orders ------------------------------------------------------------------------------------


@orders.route("/sales/orders", methods=["GET"])
@requires(orders, READ)
@orders.arguments(s.SalesOrderListArgsSchema, location="query")
@orders.response(200, s.OrderPageSchema)
def list_orders(args):
    """List sales orders

    The orders of the accounts you may see, in id order, paged.
    """
    return _page(Order, args, *equal_filters(Order, args, "account_id", "status"),
                 options=[selectinload(Order.lines)])


@orders.route("/sales/orders", methods=["POST"])
@requires(orders, WRITE)
@orders.arguments(s.SalesOrderCreateSchema)
@orders.response(201, s.SalesOrderSchema)
@sends_etag
def create_order(data):
    """Create a sales order

    Confirmed at once, for an account you can see, with at least one line.
    """
    account = account_in_scope(data.pop("account_id"))
    with service_errors():
        return services.create_order(account, data, user=current_user)


@orders.route("/sales/orders/<int:order_id>", methods=["GET"])
@requires(orders, READ)
@orders.response(200, s.SalesOrderSchema)
@reads_record(orders)
def get_order(order_id: int):
    """Read a sales order"""
    return services.get_order_or_404(order_id, current_user)


@orders.route("/sales/orders/<int:order_id>/deliver", methods=["POST"])
@requires(orders, WRITE)
@orders.response(200, s.SalesOrderSchema)
@writes_record(orders, body_version=False)
def deliver_order(order_id: int):
    """Mark a sales order delivered

    Only a confirmed order (422 otherwise).
    """
    order = services.get_order_or_404(order_id, current_user)
    with writing(order):
        return services.deliver_order(order, user=current_user)


@orders.route("/sales/orders/<int:order_id>/cancel", methods=["POST"])
@requires(orders, WRITE)
@orders.response(200, s.SalesOrderSchema)
@writes_record(orders, body_version=False)
def cancel_order(order_id: int):
    """Cancel a sales order

    An invoiced order's invoice must be cancelled first (422).
    """
    order = services.get_order_or_404(order_id, current_user)
    with writing(order):
        return services.cancel_order(order, user=current_user)


@orders.route("/sales/orders/<int:order_id>/invoice", methods=["POST"])
@requires(orders, WRITE)
@orders.arguments(s.SalesInvoiceCreateSchema)
@orders.response(201, s.SalesInvoiceSchema, description="The invoice issued")
@writes_record(orders, body_version=False)
def invoice_order(data, order_id: int):
    """Invoice a sales order

    Issues the order's invoice in `installments` monthly parts from `first_due_date` (the
    last part takes the remainder); the account becomes a customer and finance makes a
    receivable of each part. A cancelled or already invoiced order is refused (422).
    """
    order = services.get_order_or_404(order_id, current_user)
    data["installments"] = str(data.get("installments", 1))  # the form's text field
    with writing(order):
        return services.issue_invoice(order, data, user=current_user)


# --- invoices ----------------------------------------------------------------------------------


@invoices.route("/sales/invoices", methods=["GET"])
@requires(invoices, READ)
@invoices.arguments(s.SalesInvoiceListArgsSchema, location="query")
@invoices.response(200, s.InvoicePageSchema)
def list_invoices(args):
    """List sales invoices

    The invoices of the accounts you may see, with their installments, in id order, paged.
    """
    return _page(Invoice, args, *equal_filters(Invoice, args, "account_id", "order_id", "status"),
                 options=[selectinload(Invoice.installments)])


@invoices.route("/sales/invoices/<int:invoice_id>", methods=["GET"])
@requires(invoices, READ)
@invoices.response(200, s.SalesInvoiceSchema)
@reads_record(invoices)
def get_invoice(invoice_id: int):
    """Read a sales invoice, with its installments"""
    return services.get_invoice_or_404(invoice_id, current_user)


@invoices.route("/sales/invoices/<int:invoice_id>/cancel", methods=["POST"])
@requires(invoices, WRITE)
@invoices.response(200, s.SalesInvoiceSchema)
@writes_record(invoices, body_version=False)
def cancel_invoice(invoice_id: int):
    """Cancel a sales invoice

    Its receivables are cancelled with it; finance refuses (422) when payments were
    received on them. Already cancelled: 422.
    """
    invoice = services.get_invoice_or_404(invoice_id, current_user)
    with writing(invoice):
        return services.cancel_invoice(invoice, user=current_user)
