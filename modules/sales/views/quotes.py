"""The quotes' pages: list, form, page, print, send, accept and refuse."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from erp.auth import permission_required
from erp.clock import local_today
from erp.db import db
from erp.forms import PostForm, choices, form_view, post_action
from erp.i18n import module_i18n
from erp.mail import delivery_notice, mail_configured
from modules.crm.models import Account

from .. import services
from ..forms.quotes import QuoteForm, SendForm
from ..models import QUOTE_STATUSES, Order, Quote
from ..permissions import READ, WRITE
from . import bp
from .common import account_arg, adding_line, back_to, document_list, with_lines

_ = module_i18n(__name__).gettext


@bp.route("/quotes")
@permission_required(READ)
def quotes():
    pagination = document_list(Quote, request.args, QUOTE_STATUSES, services.quote_status_filter)
    return render_template("sales/quotes.html", pagination=pagination, statuses=QUOTE_STATUSES,
                           today=local_today(current_user))


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
            form.valid_until.data = services.default_validity(current_user).isoformat()
    return with_lines(form)


@bp.route("/quotes/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_quote():
    account = account_arg()
    form = _quote_form(account, None)
    if adding_line(form):  # "Add item" without JavaScript: the same form, one more row
        return render_template("sales/quote_form.html", form=form, account=account,
                               quote=None, back=back_to(url_for("crm.account",
                                                                account_id=account.id,
                                                                tab="sales")))
    return form_view(
        form,
        save=lambda form: services.create_quote(account, form.service_data(), user=current_user),
        template="sales/quote_form.html",
        success=(lambda quote: _("Quote %(number)s saved as a draft.",
                                 number=quote.display_number),
                 lambda quote: back_to(url_for("sales.quote", quote_id=quote.id))),
        account=account, quote=None,
        back=back_to(url_for("crm.account", account_id=account.id, tab="sales")))


@bp.route("/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def edit_quote(quote_id: int):
    quote = services.get_quote_or_404(quote_id, current_user)
    if quote.status != "draft":
        flash(_("Only a draft quote can be changed."), "warning")
        return redirect(url_for("sales.quote", quote_id=quote.id))
    form = _quote_form(quote.account, quote)
    if adding_line(form):
        return render_template("sales/quote_form.html", form=form, account=quote.account,
                               quote=quote, back=url_for("sales.quote", quote_id=quote.id))
    return form_view(
        form,
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
                           can_write=current_user.has_permission(WRITE),
                           today=local_today(current_user))


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
