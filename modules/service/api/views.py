"""/service/orders and /service/invoices: read and changed within the user's record scope
(an order or invoice of an account outside it is a 404), through the services the pages
call."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp.api import Blueprint
from erp.api.conventions import (
    equal_filters,
    reads_record,
    referenced,
    requires,
    service_errors,
    writes_record,
    writing,
)
from erp.api.etags import sends_etag
from erp.api.paging import keyset_page
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from .. import services
from ..models import ServiceInvoice, ServiceOrder
from ..permissions import READ, WRITE
from . import schemas as s

orders = Blueprint("service-orders", __name__, description=(
    "Service orders: what is to be done at an account, its items (parts, material) and "
    "hours; open -> in progress -> done (then invoiced), or cancelled."))
invoices = Blueprint("service-invoices", __name__, description=(
    "Service invoices (notas de serviço) of done orders, with their installments; finance "
    "makes a receivable of each, and refuses a cancellation once payments were received."))

def _current(order: ServiceOrder) -> dict:
    return {"description": order.description, "technician_id": order.technician_id,
            "hours": order.hours, "hourly_rate": order.hourly_rate,
            "items": [{"description": item.description, "quantity": item.quantity,
                       "unit_price": item.unit_price, "discount": item.discount}
                      for item in order.items]}


# --- orders ------------------------------------------------------------------------------------


@orders.route("/service/orders", methods=["GET"])
@requires(orders, READ)
@orders.arguments(s.ServiceOrderListArgsSchema, location="query")
@orders.response(200, s.ServiceOrderPageSchema)
def list_service_orders(args):
    """List service orders

    The orders of the accounts you may see, with their items, in id order, paged (`after`
    = the previous page's `next_cursor`).
    """
    statement = services.orders_in_scope(current_user).where(
        *equal_filters(ServiceOrder, args, "account_id", "technician_id", "status"))
    return keyset_page(statement.options(selectinload(ServiceOrder.items)), ServiceOrder.id,
                       args)


@orders.route("/service/orders", methods=["POST"])
@requires(orders, WRITE)
@orders.arguments(s.ServiceOrderCreateSchema)
@orders.response(201, s.ServiceOrderSchema)
@sends_etag
def create_service_order(data):
    """Open a service order

    For an account you can see; its total is the items' plus hours × hourly rate.
    """
    account = referenced(select(Account).where(Account.id == data.pop("account_id"),
                                               account_scope(current_user)),
                         "account_id", "Choose an account you can see.")
    with service_errors():
        return services.create_order(account, data, user=current_user)


@orders.route("/service/orders/<int:service_order_id>", methods=["GET"])
@requires(orders, READ)
@orders.response(200, s.ServiceOrderSchema)
@reads_record(orders)
def get_service_order(service_order_id: int):
    """Read a service order

    Its `ETag` is its `version`: send it back as `If-Match` when you change it.
    """
    return services.get_order_or_404(service_order_id, current_user)


@orders.route("/service/orders/<int:service_order_id>", methods=["PATCH"])
@requires(orders, WRITE)
@orders.arguments(s.ServiceOrderUpdateSchema)
@orders.response(200, s.ServiceOrderSchema)
@writes_record(orders)
def update_service_order(data, service_order_id: int):
    """Update a service order

    Only the fields sent change (`items`, when sent, replaces them all); a done or
    cancelled order is refused (422). `If-Match` (412) or `version` (409) refuse a write
    made from a stale read.
    """
    order = services.get_order_or_404(service_order_id, current_user)
    with writing(order, data):
        return services.update_order(order, {**_current(order), **data}, user=current_user)


@orders.route("/service/orders/<int:service_order_id>/status", methods=["POST"])
@requires(orders, WRITE)
@orders.arguments(s.StatusMoveSchema)
@orders.response(200, s.ServiceOrderSchema)
@writes_record(orders, body_version=False)
def move_service_order(data, service_order_id: int):
    """Move a service order to another status

    open -> in_progress -> done, or open / in_progress -> cancelled; any other move is
    refused (422 on `status`).
    """
    order = services.get_order_or_404(service_order_id, current_user)
    with writing(order):
        return services.change_status(order, data["status"], user=current_user)


@orders.route("/service/orders/<int:service_order_id>/invoice", methods=["POST"])
@requires(orders, WRITE)
@orders.arguments(s.ServiceInvoiceCreateSchema)
@orders.response(201, s.ServiceInvoiceSchema, description="The invoice issued")
@writes_record(orders, body_version=False)
def invoice_service_order(data, service_order_id: int):
    """Invoice a done service order

    Issues its nota de serviço in `installments` monthly parts from `due_date` (the last
    part takes the remainder); the account becomes a customer and finance makes a
    receivable of each. An order not done, or already invoiced, is refused (422).
    """
    order = services.get_order_or_404(service_order_id, current_user)
    with writing(order):
        return services.issue_invoice(order, data, user=current_user)


# --- invoices ----------------------------------------------------------------------------------


@invoices.route("/service/invoices", methods=["GET"])
@requires(invoices, READ)
@invoices.arguments(s.ServiceInvoiceListArgsSchema, location="query")
@invoices.response(200, s.ServiceInvoicePageSchema)
def list_service_invoices(args):
    """List service invoices

    The invoices of the accounts you may see, with their installments, in id order, paged.
    """
    statement = services.invoices_in_scope(current_user).where(
        *equal_filters(ServiceInvoice, args, "account_id", "order_id", "status"))
    return keyset_page(statement.options(selectinload(ServiceInvoice.installments)),
                       ServiceInvoice.id, args)


@invoices.route("/service/invoices/<int:service_invoice_id>", methods=["GET"])
@requires(invoices, READ)
@invoices.response(200, s.ServiceInvoiceSchema)
@reads_record(invoices)
def get_service_invoice(service_invoice_id: int):
    """Read a service invoice, with its installments"""
    return services.get_invoice_or_404(service_invoice_id, current_user)


@invoices.route("/service/invoices/<int:service_invoice_id>/cancel", methods=["POST"])
@requires(invoices, WRITE)
@invoices.response(200, s.ServiceInvoiceSchema)
@writes_record(invoices, body_version=False)
def cancel_service_invoice(service_invoice_id: int):
    """Cancel a service invoice

    Its receivables are cancelled with it; finance refuses (422) when payments were
    received on them. Already cancelled: 422.
    """
    invoice = services.get_invoice_or_404(service_invoice_id, current_user)
    with writing(invoice):
        return services.cancel_invoice(invoice, user=current_user)
