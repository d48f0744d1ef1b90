"""The orders' pages: list, new order, page, deliver, cancel, and the invoice form."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from erp.auth import permission_required
from erp.clock import local_today
from erp.forms import PostForm, form_view, post_action
from erp.i18n import module_i18n
from erp.money import add_months

from .. import services
from ..forms.invoices import InvoiceForm
from ..forms.orders import OrderForm
from ..models import ORDER_STATUSES, Order
from ..permissions import READ, WRITE
from . import bp
from .common import account_arg, adding_line, back_to, document_list, with_lines

_ = module_i18n(__name__).gettext


@bp.route("/orders")
@permission_required(READ)
def orders():
    pagination = document_list(Order, request.args, ORDER_STATUSES)
    return render_template("sales/orders.html", pagination=pagination, statuses=ORDER_STATUSES)


@bp.route("/orders/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_order():
    account = account_arg()
    form = OrderForm()
    if request.method == "GET":
        form.order_date.data = local_today(current_user).isoformat()
    with_lines(form)
    back = back_to(url_for("crm.account", account_id=account.id, tab="sales"))
    if adding_line(form):  # "Add item" without JavaScript: the same form, one more row
        return render_template("sales/order_form.html", form=form, account=account, back=back)
    return form_view(
        form,
        save=lambda form: services.create_order(account, form.service_data(), user=current_user),
        template="sales/order_form.html",
        success=(lambda order: _("Order %(number)s confirmed.", number=order.display_number),
                 lambda order: back_to(url_for("sales.order", order_id=order.id))),
        account=account, back=back)


@bp.route("/orders/<int:order_id>")
@permission_required(READ)
def order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    return render_template("sales/order.html", order=order, post_form=PostForm(),
                           can_write=current_user.has_permission(WRITE))


@bp.route("/orders/<int:order_id>/deliver", methods=["POST"])
@permission_required(WRITE)
def deliver_order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    return post_action(lambda: services.deliver_order(order, user=current_user),
                       _("Order marked as delivered."), url_for("sales.order", order_id=order_id))


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@permission_required(WRITE)
def cancel_order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    return post_action(lambda: services.cancel_order(order, user=current_user),
                       _("Order cancelled."), url_for("sales.order", order_id=order_id))


@bp.route("/orders/<int:order_id>/invoice", methods=["GET", "POST"])
@permission_required(WRITE)
def invoice_order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    form = InvoiceForm()
    if request.method == "GET":
        today = local_today(current_user)
        form.issue_date.data = today.isoformat()
        form.installments.data = "1"
        form.first_due_date.data = add_months(today, 1).isoformat()
    return form_view(
        form,
        save=lambda form: services.issue_invoice(order, form.service_data(), user=current_user),
        template="sales/invoice_form.html",
        success=(lambda invoice: _("Invoice %(number)s issued.", number=invoice.display_number),
                 lambda invoice: back_to(url_for("sales.invoice", invoice_id=invoice.id))),
        order=order, back=back_to(url_for("sales.order", order_id=order.id)))
