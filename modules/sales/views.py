"""Sales pages: thin routes over services.py. Every route checks a permission and the
record scope of the document's account (404 outside it); bad input is a 422 form."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from erp.admin import SecureModelView
from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.db import db
from erp.mail import delivery_notice, mail_configured
from erp.money import add_months
from erp.params import id_arg
from modules.crm.models import Account
from modules.crm.services.errors import InvalidInput
from modules.crm.services.scope import get_account_or_404
from modules.crm.views.helpers import apply_errors, page_arg, page_size

from . import services
from .forms import KIND_LABELS, InvoiceForm, OrderForm, PostForm, ProductForm, QuoteForm, SendForm
from .labels import STATUS_LABELS
from .models import (
    INVOICE_STATUSES,
    ORDER_STATUSES,
    PRODUCT_KINDS,
    QUOTE_STATUSES,
    Invoice,
    Order,
    Product,
    Quote,
)
from .permissions import CATALOG_WRITE, READ, WRITE

bp = Blueprint("sales", __name__, url_prefix="/sales", template_folder="templates",
               static_folder="static")

@bp.app_template_filter("sales_status")
def sales_status(value: str) -> str:
    return str(STATUS_LABELS.get(value, value))


def _account_arg() -> Account:
    account_id = id_arg("account_id")
    if account_id is None:
        abort(404)
    return get_account_or_404(account_id, current_user)


def _back(default: str) -> str:
    return safe_next_url(request.args.get("next")) or default


def _fail(form, error: InvalidInput) -> None:
    db.session.rollback()
    apply_errors(form, error)


def _flash_error(error: InvalidInput) -> None:
    for messages in error.errors.values():
        for message in messages:
            flash(str(message), "danger")


def _list(model, args, statuses, status_clause=None):
    stmt = services.in_scope(select(model), model, current_user)
    status = args.get("status", "")
    if status in statuses:
        stmt = stmt.where(status_clause(status) if status_clause else model.status == status)
    query = args.get("q", "").strip()
    if query:
        number = services.search_number(model, query)
        name = or_(Account.legal_name.ilike(f"%{query}%"),
                   Account.trade_name.ilike(f"%{query}%"))
        stmt = stmt.where(or_(number, name) if number is not None else name)
    if (account_id := id_arg("account_id", args)) is not None:
        stmt = stmt.where(model.account_id == account_id)
    stmt = stmt.order_by(model.id.desc())
    return db.paginate(stmt, page=page_arg(), per_page=page_size(), error_out=False)


@bp.route("/")
@permission_required(READ)
def index():
    return redirect(url_for("sales.quotes"))


# --- catalog --------------------------------------------------------------------------


@bp.route("/products")
@permission_required(READ)
def products():
    stmt = select(Product)
    query = request.args.get("q", "").strip()
    if query:
        stmt = stmt.where(or_(Product.code.ilike(f"%{query}%"), Product.name.ilike(f"%{query}%")))
    kind = request.args.get("kind", "")
    if kind in PRODUCT_KINDS:
        stmt = stmt.where(Product.kind == kind)
    if request.args.get("inactive") != "1":
        stmt = stmt.where(Product.active.is_(True))
    pagination = db.paginate(stmt.order_by(Product.code), page=page_arg(),
                             per_page=page_size(), error_out=False)
    return render_template("sales/products.html", pagination=pagination, kinds=KIND_LABELS,
                           can_write=current_user.has_permission(CATALOG_WRITE))


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required(CATALOG_WRITE)
def product_form(product_id: int | None = None):
    """The shared catalog: sales.catalog.write (managers), not sales.write (every rep)."""
    product = db.get_or_404(Product, product_id) if product_id else None
    form = ProductForm(obj=product)
    if request.method == "GET" and product is not None:
        form.price.data = f"{product.price:.2f}"
    if form.validate_on_submit():
        try:
            if product is None:
                services.create_product(form.service_data())
            else:
                services.update_product(product, form.service_data())
        except InvalidInput as error:
            _fail(form, error)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("sales.products"))
    status = 422 if request.method == "POST" else 200
    return render_template("sales/product_form.html", form=form, product=product), status


# --- quotes ---------------------------------------------------------------------------


@bp.route("/quotes")
@permission_required(READ)
def quotes():
    pagination = _list(Quote, request.args, QUOTE_STATUSES, services.quote_status_filter)
    return render_template("sales/quotes.html", pagination=pagination, statuses=QUOTE_STATUSES,
                           today=date.today())


def _quote_form(account: Account, quote: Quote | None) -> QuoteForm:
    form = QuoteForm(obj=None)
    contacts = services.account_contacts(account.id)
    form.contact_id.choices = [("", "—")] + [(str(c.id), c.name) for c in contacts]
    if request.method == "GET":
        if quote is not None:
            form.contact_id.data = str(quote.contact_id or "")
            form.valid_until.data = quote.valid_until.isoformat()
            form.notes.data = quote.notes
            form.fill_lines(quote.lines)
        else:
            form.valid_until.data = services.default_validity().isoformat()
    form.set_products(services.active_products())
    return form


@bp.route("/quotes/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_quote():
    account = _account_arg()
    form = _quote_form(account, None)
    if form.validate_on_submit():
        try:
            quote = services.create_quote(account, form.service_data(), user=current_user)
        except InvalidInput as error:
            _fail(form, error)
        else:
            flash(_("Quote %(number)s saved as a draft.", number=quote.display_number),
                  "success")
            return redirect(_back(url_for("sales.quote", quote_id=quote.id)))
    status = 422 if request.method == "POST" else 200
    return render_template("sales/quote_form.html", form=form, account=account, quote=None,
                           back=_back(url_for("crm.account", account_id=account.id,
                                              tab="sales"))), status


@bp.route("/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    if quote.status != "draft":
        flash(_("Only a draft quote can be changed."), "warning")
        return redirect(url_for("sales.quote", quote_id=quote.id))
    form = _quote_form(quote.account, quote)
    if form.validate_on_submit():
        try:
            services.update_quote(quote, form.service_data(), user=current_user)
        except InvalidInput as error:
            _fail(form, error)
        else:
            flash(_("Quote saved."), "success")
            return redirect(url_for("sales.quote", quote_id=quote.id))
    status = 422 if request.method == "POST" else 200
    return render_template("sales/quote_form.html", form=form, account=quote.account,
                           quote=quote, back=url_for("sales.quote", quote_id=quote.id)), status


@bp.route("/quotes/<int:quote_id>")
@permission_required(READ)
def quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    order = db.session.scalar(select(Order).where(Order.quote_id == quote.id))
    return render_template("sales/quote.html", quote=quote, order=order, post_form=PostForm(),
                           can_write=current_user.has_permission(WRITE))


@bp.route("/quotes/<int:quote_id>/print")
@permission_required(READ)
def print_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    return render_template("sales/quote_print.html", quote=quote)


@bp.route("/quotes/<int:quote_id>/send", methods=["GET", "POST"])
@permission_required(WRITE)
def send_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    form = SendForm()
    contacts = services.account_contacts(quote.account_id)
    form.contact_id.choices = [("", "—")] + [
        (str(c.id), f"{c.name} <{c.email}>" if c.email else _("%(name)s (no e-mail)", name=c.name))
        for c in contacts]
    if request.method == "GET" and quote.contact_id:
        form.contact_id.data = str(quote.contact_id)
    if form.validate_on_submit():
        try:
            services.send_quote(quote, form.contact_id.data, user=current_user,
                                message=form.message.data)
        except InvalidInput as error:
            _fail(form, error)
        else:
            # Only "sent" as the quote's state: the e-mail goes out if a server is configured.
            flash(_("Quote marked as sent.") + " " + delivery_notice(),
                  "success" if mail_configured() else "warning")
            return redirect(url_for("sales.quote", quote_id=quote.id))
    status = 422 if request.method == "POST" else 200
    return render_template("sales/quote_send.html", form=form, quote=quote,
                           contacts=contacts), status


def _post_action(action, record, success: str, target: str):
    form = PostForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = action(record, user=current_user)
    except InvalidInput as error:
        db.session.rollback()
        _flash_error(error)
        return redirect(target), 303
    flash(success, "success")
    return result


@bp.route("/quotes/<int:quote_id>/accept", methods=["POST"])
@permission_required(WRITE)
def accept_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    form = PostForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        order = services.accept_quote(quote, user=current_user)
    except InvalidInput as error:
        db.session.rollback()
        _flash_error(error)
        return redirect(url_for("sales.quote", quote_id=quote_id)), 303
    flash(_("Quote accepted: order %(number)s confirmed.", number=order.display_number),
          "success")
    return redirect(url_for("sales.order", order_id=order.id), 303)


@bp.route("/quotes/<int:quote_id>/refuse", methods=["POST"])
@permission_required(WRITE)
def refuse_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    target = url_for("sales.quote", quote_id=quote_id)
    result = _post_action(services.refuse_quote, quote, _("Quote marked as refused."), target)
    return result if isinstance(result, tuple) else redirect(target, 303)


# --- orders ---------------------------------------------------------------------------


@bp.route("/orders")
@permission_required(READ)
def orders():
    pagination = _list(Order, request.args, ORDER_STATUSES)
    return render_template("sales/orders.html", pagination=pagination, statuses=ORDER_STATUSES)


@bp.route("/orders/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_order():
    account = _account_arg()
    form = OrderForm()
    if request.method == "GET":
        form.order_date.data = date.today().isoformat()
    form.set_products(services.active_products())
    if form.validate_on_submit():
        try:
            order = services.create_order(account, form.service_data(), user=current_user)
        except InvalidInput as error:
            _fail(form, error)
        else:
            flash(_("Order %(number)s confirmed.", number=order.display_number), "success")
            return redirect(_back(url_for("sales.order", order_id=order.id)))
    status = 422 if request.method == "POST" else 200
    return render_template("sales/order_form.html", form=form, account=account,
                           back=_back(url_for("crm.account", account_id=account.id,
                                              tab="sales"))), status


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
    target = url_for("sales.order", order_id=order_id)
    result = _post_action(services.deliver_order, order, _("Order marked as delivered."),
                          target)
    return result if isinstance(result, tuple) else redirect(target, 303)


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@permission_required(WRITE)
def cancel_order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    target = url_for("sales.order", order_id=order_id)
    result = _post_action(services.cancel_order, order, _("Order cancelled."), target)
    return result if isinstance(result, tuple) else redirect(target, 303)


@bp.route("/orders/<int:order_id>/invoice", methods=["GET", "POST"])
@permission_required(WRITE)
def invoice_order(order_id: int):
    order = services.get_order_or_404(order_id, current_user)
    form = InvoiceForm()
    if request.method == "GET":
        form.issue_date.data = date.today().isoformat()
        form.installments.data = "1"
        form.first_due_date.data = add_months(date.today(), 1).isoformat()
    if form.validate_on_submit():
        try:
            invoice = services.issue_invoice(order, form.service_data(), user=current_user)
        except InvalidInput as error:
            _fail(form, error)
        else:
            flash(_("Invoice %(number)s issued.", number=invoice.display_number), "success")
            return redirect(_back(url_for("sales.invoice", invoice_id=invoice.id)))
    status = 422 if request.method == "POST" else 200
    return render_template("sales/invoice_form.html", form=form, order=order,
                           back=_back(url_for("sales.order", order_id=order.id))), status


# --- invoices -------------------------------------------------------------------------


@bp.route("/invoices")
@permission_required(READ)
def invoices():
    pagination = _list(Invoice, request.args, INVOICE_STATUSES)
    return render_template("sales/invoices.html", pagination=pagination,
                           statuses=INVOICE_STATUSES)


@bp.route("/invoices/new")
@permission_required(WRITE)
def new_invoice():
    """An invoice comes from an order: pick one of the account's uninvoiced orders."""
    account = _account_arg()
    return render_template("sales/invoice_choose_order.html", account=account,
                           orders=services.uninvoiced_orders(account.id),
                           next=safe_next_url(request.args.get("next")))


@bp.route("/invoices/<int:invoice_id>")
@permission_required(READ)
def invoice(invoice_id: int):
    invoice = services.get_invoice_or_404(invoice_id, current_user)
    return render_template("sales/invoice.html", invoice=invoice, post_form=PostForm(),
                           can_write=current_user.has_permission(WRITE))


@bp.route("/invoices/<int:invoice_id>/cancel", methods=["POST"])
@permission_required(WRITE)
def cancel_invoice(invoice_id: int):
    invoice = services.get_invoice_or_404(invoice_id, current_user)
    target = url_for("sales.invoice", invoice_id=invoice_id)
    result = _post_action(services.cancel_invoice, invoice, _("Invoice cancelled."), target)
    return result if isinstance(result, tuple) else redirect(target, 303)


# --- admin ----------------------------------------------------------------------------


class ProductAdmin(SecureModelView):
    column_list = ("code", "name", "kind", "price", "active")
    column_searchable_list = ("code", "name")
    form_columns = ("code", "name", "kind", "price", "active")


class DocumentAdmin(SecureModelView):
    """Documents are made through the sales pages (sequences, events, signals)."""

    can_create = False
    can_delete = False
    column_exclude_list = ("lines", "installments")
    column_default_sort = ("id", True)


class QuoteAdmin(DocumentAdmin):
    column_list = ("number", "account", "status", "valid_until", "total", "created_at")
    form_columns = ("notes",)


class OrderAdmin(DocumentAdmin):
    column_list = ("number", "account", "status", "order_date", "total")
    form_columns = ("notes",)


class InvoiceAdmin(DocumentAdmin):
    column_list = ("number", "account", "status", "issue_date", "total")
    can_edit = False


class EventAdmin(DocumentAdmin):
    column_list = ("at", "account_id", "kind", "title")
    can_edit = False
