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
from erp.forms import PostForm, choices, form_view, page_arg, page_size, post_action
from erp.mail import delivery_notice, mail_configured
from erp.money import add_months
from erp.params import id_arg
from modules.crm.models import Account
from modules.crm.services.scope import get_account_or_404

from . import services
from .forms import KIND_LABELS, InvoiceForm, OrderForm, ProductForm, QuoteForm, SendForm
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


def _account_arg() -> Account:
    account_id = id_arg("account_id")
    if account_id is None:
        abort(404)
    return get_account_or_404(account_id, current_user)


def _back(default: str) -> str:
    return safe_next_url(request.args.get("next")) or default


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

    def save(form):
        if product is None:
            return services.create_product(form.service_data())
        return services.update_product(product, form.service_data())

    return form_view(form, save=save, template="sales/product_form.html",
                     success=(_("Product saved."), url_for("sales.products")), product=product)


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
    form.contact_id.choices = choices(contacts, blank="—")
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
    return form_view(
        _quote_form(account, None),
        save=lambda form: services.create_quote(account, form.service_data(), user=current_user),
        template="sales/quote_form.html",
        success=(lambda quote: _("Quote %(number)s saved as a draft.",
                                 number=quote.display_number),
                 lambda quote: _back(url_for("sales.quote", quote_id=quote.id))),
        account=account, quote=None,
        back=_back(url_for("crm.account", account_id=account.id, tab="sales")))


@bp.route("/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    if quote.status != "draft":
        flash(_("Only a draft quote can be changed."), "warning")
        return redirect(url_for("sales.quote", quote_id=quote.id))
    return form_view(
        _quote_form(quote.account, quote),
        save=lambda form: services.update_quote(quote, form.service_data(), user=current_user),
        template="sales/quote_form.html",
        success=(_("Quote saved."), url_for("sales.quote", quote_id=quote.id)),
        account=quote.account, quote=quote, back=url_for("sales.quote", quote_id=quote.id))


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
    return form_view(
        form,
        save=lambda form: services.send_quote(quote, form.contact_id.data, user=current_user,
                                              message=form.message.data),
        template="sales/quote_send.html",
        # Only "sent" as the quote's state: the e-mail goes out if a server is configured.
        success=(lambda _sent: _("Quote marked as sent.") + " " + delivery_notice(),
                 url_for("sales.quote", quote_id=quote.id),
                 "success" if mail_configured() else "warning"),
        quote=quote, contacts=contacts)


@bp.route("/quotes/<int:quote_id>/accept", methods=["POST"])
@permission_required(WRITE)
def accept_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    return post_action(
        lambda: services.accept_quote(quote, user=current_user),
        lambda order: _("Quote accepted: order %(number)s confirmed.",
                        number=order.display_number),
        lambda order: url_for("sales.order", order_id=order.id),
        failed=url_for("sales.quote", quote_id=quote_id))


@bp.route("/quotes/<int:quote_id>/refuse", methods=["POST"])
@permission_required(WRITE)
def refuse_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    return post_action(lambda: services.refuse_quote(quote, user=current_user),
                       _("Quote marked as refused."), url_for("sales.quote", quote_id=quote_id))


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
    return form_view(
        form,
        save=lambda form: services.create_order(account, form.service_data(), user=current_user),
        template="sales/order_form.html",
        success=(lambda order: _("Order %(number)s confirmed.", number=order.display_number),
                 lambda order: _back(url_for("sales.order", order_id=order.id))),
        account=account, back=_back(url_for("crm.account", account_id=account.id, tab="sales")))


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
        form.issue_date.data = date.today().isoformat()
        form.installments.data = "1"
        form.first_due_date.data = add_months(date.today(), 1).isoformat()
    return form_view(
        form,
        save=lambda form: services.issue_invoice(order, form.service_data(), user=current_user),
        template="sales/invoice_form.html",
        success=(lambda invoice: _("Invoice %(number)s issued.", number=invoice.display_number),
                 lambda invoice: _back(url_for("sales.invoice", invoice_id=invoice.id))),
        order=order, back=_back(url_for("sales.order", order_id=order.id)))


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
    return post_action(lambda: services.cancel_invoice(invoice, user=current_user),
                       _("Invoice cancelled."), url_for("sales.invoice", invoice_id=invoice_id))


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
