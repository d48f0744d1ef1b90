"""Service orders' pages: the list (the menu's entry), the form (new, edit), the order's
page with its status buttons and the invoice form."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, selectinload

from erp.auth import permission_required
from erp.auth.models import User
from erp.auth.services import safe_next_url
from erp.clock import local_today
from erp.db import db
from erp.forms import PostForm, form_view, page_size, post_action
from erp.i18n import module_i18n
from erp.paging import keyset_page, sort_keys
from erp.params import id_arg
from erp.validation import LIKE_ESCAPE, like
from modules.crm.models import Account
from modules.crm.services.scope import get_account_or_404, pick_accounts

from .. import services
from ..forms.invoices import InvoiceForm
from ..forms.orders import OrderForm
from ..labels import ORDER_STATUS_LABELS
from ..models import ORDER_STATUSES, TRANSITIONS, ServiceOrder
from ..permissions import READ, WRITE
from . import DIGITS, bp

_ = module_i18n(__name__).gettext


def _technicians() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True))
                                   .order_by(User.name)))


def filtered_orders(args):
    # A row shows its account (joined already) and technician: they come with the page, not
    # one query per row (issue 15).
    statement = services.orders_in_scope(current_user).options(
        contains_eager(ServiceOrder.account), selectinload(ServiceOrder.technician))
    if args.get("status") in ORDER_STATUSES:
        statement = statement.where(ServiceOrder.status == args["status"])
    elif args.get("status") == "active":
        statement = statement.where(ServiceOrder.status.in_(("open", "in_progress")))
    for arg, column in (("technician", ServiceOrder.technician_id),
                        ("account_id", ServiceOrder.account_id)):
        if (wanted := id_arg(arg, args)) is not None:
            statement = statement.where(column == wanted)
    query = args.get("q", "").strip()
    if query:
        pattern = like(query)
        conditions = [ServiceOrder.description.ilike(pattern, escape=LIKE_ESCAPE),
                      Account.legal_name.ilike(pattern, escape=LIKE_ESCAPE),
                      Account.trade_name.ilike(pattern, escape=LIKE_ESCAPE)]
        digits = "".join(ch for ch in query if ch in DIGITS)  # not "²": int() refuses it
        if digits and len(digits) <= 9:
            conditions.append(ServiceOrder.number == int(digits))
        statement = statement.where(or_(*conditions))
    return statement.order_by(ServiceOrder.id.desc())


# Paged by keyset on the id (issue 15): Next / Previous cost the same at any depth.
NEWEST_FIRST = sort_keys(ServiceOrder.id, descending=True)


@bp.route("/")
@permission_required(READ)
def index():
    """The service orders list (the menu's entry)."""
    pagination = keyset_page(filtered_orders(request.args), NEWEST_FIRST,
                             per_page=page_size())
    return render_template("service/orders.html", pagination=pagination,
                           technicians=_technicians(), statuses=ORDER_STATUSES)


def _order_form(order: ServiceOrder | None) -> OrderForm:
    form = OrderForm(obj=order) if request.method == "GET" else OrderForm()
    form.set_choices(_technicians())
    if request.method == "GET":
        if order is None:
            # Whoever is logged in is the technician only when they are one (they do service
            # orders: service.write by a role, not an admin's every permission); otherwise
            # the field starts empty and must be chosen (issue 17).
            form.technician_id.data = (str(current_user.id)
                                       if WRITE in current_user.permission_set else "")
        else:
            form.technician_id.data = str(order.technician_id)
            form.hours.data = f"{order.hours.normalize():f}" if order.hours else ""
            form.hourly_rate.data = f"{order.hourly_rate:.2f}" if order.hourly_rate else ""
            while len(form.items) < len(order.items) + 1:
                form.items.append_entry()
            for entry, item in zip(form.items, order.items, strict=False):
                entry.form.description.data = item.description
                entry.form.quantity.data = f"{item.quantity.normalize():f}"
                entry.form.unit_price.data = f"{item.unit_price:.2f}"
    return form


def _adding_item(form: OrderForm) -> bool:
    """The form was posted by its "Add item" button without JavaScript: it gets one more
    row and is shown again, nothing saved nor checked yet (the script adds rows in the
    page instead). Its default button, first in the form, is Save: Enter saves."""
    if request.method != "POST" or "add_line" not in request.form:
        return False
    if len(form.items) < form.items.max_entries:
        form.items.append_entry()
    return True


@bp.route("/orders/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_order():
    """GET/POST /service/orders/new?account_id=<id>&next=<where to go back to>."""
    account_id = id_arg("account_id")
    if account_id is None:
        query = request.args.get("account_q", "").strip()
        return render_template("service/choose_account.html", query=query,
                               found=pick_accounts(query, current_user))
    account = get_account_or_404(account_id, current_user)
    back = safe_next_url(request.args.get("next"))
    form = _order_form(None)
    if _adding_item(form):
        return render_template("service/order_form.html", form=form, account=account,
                               order=None, back=back)
    return form_view(
        form,
        save=lambda form: services.create_order(account, form.service_data(), user=current_user),
        template="service/order_form.html",
        success=(lambda order: _("Service order %(doc)s opened.", doc=order.display_number),
                 lambda order: back or url_for("service.order", order_id=order.id)),
        account=account, order=None, back=back)


@bp.route("/orders/<int:order_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    if not order.editable:
        flash(_("A done or cancelled order cannot be changed."), "warning")
        return redirect(url_for("service.order", order_id=order.id))
    form = _order_form(order)
    if _adding_item(form):
        return render_template("service/order_form.html", form=form, account=order.account,
                               order=order, back=None)
    return form_view(
        form,
        save=lambda form: services.update_order(order, form.service_data(), user=current_user),
        template="service/order_form.html",
        success=(_("Service order saved."), url_for("service.order", order_id=order.id)),
        account=order.account, order=order, back=None)


def _render_order(order: ServiceOrder, invoice_form: InvoiceForm | None = None,
                  errors: list | None = None) -> str:
    if invoice_form is None:
        invoice_form = InvoiceForm()
        today = local_today()
        invoice_form.issue_date.data = today.isoformat()
        invoice_form.due_date.data = services.default_due_date(today).isoformat()
    return render_template("service/order.html", order=order, invoice_form=invoice_form,
                           action_form=PostForm(), errors=errors or [],
                           moves=TRANSITIONS.get(order.status, ()))


@bp.route("/orders/<int:order_id>")
@permission_required(READ)
def order(order_id: int):
    return _render_order(services.get_order_or_404(order_id, current_user))


@bp.route("/orders/<int:order_id>/status", methods=["POST"])
@permission_required(WRITE)
def set_status(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    return post_action(
        lambda: services.change_status(order, request.form.get("status", ""), user=current_user),
        lambda _moved: _("Service order %(doc)s: %(status)s.", doc=order.display_number,
                         status=ORDER_STATUS_LABELS[order.status]),
        url_for("service.order", order_id=order.id))


@bp.route("/orders/<int:order_id>/invoice", methods=["POST"])
@permission_required(WRITE)
def issue_invoice(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    # The form is on the order's page: a refusal shows that page again, the messages in it.
    return form_view(
        InvoiceForm(),
        save=lambda form: services.issue_invoice(order, form.service_data(), user=current_user),
        template=lambda form: _render_order(order, invoice_form=form,
                                            errors=list(form.form_errors)),
        success=(lambda invoice: _("Service invoice %(doc)s issued.", doc=invoice.display_number),
                 lambda invoice: url_for("service.invoice", invoice_id=invoice.id)))
