"""Receivables' pages: the list (the menu's entry), a receivable with its payments (record
one, cancel it), and the "new receivable" form (the account page's Create → Receivable)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.clock import local_today
from erp.db import db
from erp.forms import form_data, form_view, page_size, post_action
from erp.i18n import module_i18n, number
from erp.paging import keyset_page, sort_keys
from erp.params import id_arg
from modules.crm.services.scope import get_account_or_404

from .. import services
from ..forms.payments import PaymentForm
from ..forms.receivables import ReceivableForm
from ..models import OVERDUE, PAID, STATUSES, Receivable
from ..permissions import READ, WRITE
from . import bp

_ = module_i18n(__name__).gettext

# --- the list --------------------------------------------------------------------------


@bp.route("/")
@permission_required(READ)
def index():
    """The receivables list: filters (status, due this week, account, document), totals.
    Paged by keyset over the (due_date, id) index with a capped count (issue 15): a deep
    page costs what the first does."""
    today = local_today()
    filters = services.Filters.from_args(request.args)
    pagination = keyset_page(services.receivables_select(current_user, filters, today),
                             sort_keys(Receivable.due_date, Receivable.id),
                             per_page=page_size())
    totals = services.receivables_totals(current_user, filters, today)
    account = None
    if filters.account_id:
        account = get_account_or_404(filters.account_id, current_user)
    return render_template("finance/list.html", pagination=pagination, filters=filters,
                           totals=totals, today=today, account=account,
                           statuses=(*STATUSES, services.UNPAID))


# --- one receivable ---------------------------------------------------------------------


def _detail(receivable, payment_form) -> str:
    today = local_today()
    return render_template(
        "finance/receivable.html", receivable=receivable, form=payment_form, today=today,
        status=receivable.status_on(today), can_write=current_user.has_permission(WRITE),
        paid=PAID, overdue=OVERDUE)


@bp.route("/receivables/<int:receivable_id>")
@permission_required(READ)
def receivable(receivable_id: int):
    receivable = services.get_receivable_or_404(receivable_id, current_user)
    form = PaymentForm(formdata=None)
    # In the user's locale ("2.750,00" in pt-BR, "2,750.00" in English), which the money
    # parser reads back (issue 17).
    form.amount.data = number(receivable.outstanding, 2) if receivable.outstanding > 0 else ""
    return _detail(receivable, form)


@bp.route("/receivables/of/<origin>/<int:origin_id>/<int:installment>")
@permission_required(READ)
def receivable_of(origin: str, origin_id: int, installment: int):
    """The receivable of an invoice's installment ("sales.invoice" 7, 2/3): a billing module
    links its installments here without knowing finance's ids (issue 17); within the
    viewer's scope, else a 404."""
    found = db.session.scalar(select(Receivable.id).where(
        Receivable.origin == origin, Receivable.origin_id == origin_id,
        Receivable.installment == installment))
    if found is None:
        abort(404)
    receivable = services.get_receivable_or_404(found, current_user)
    return redirect(url_for("finance.receivable", receivable_id=receivable.id))


@bp.route("/receivables/<int:receivable_id>/payments", methods=["POST"])
@permission_required(WRITE)
def record_payment(receivable_id: int):
    receivable = services.get_receivable_or_404(receivable_id, current_user)
    # The form is on the receivable's page: a refusal shows that page again.
    return form_view(
        PaymentForm(),
        save=lambda form: services.record_payment(receivable, form_data(form), user=current_user),
        template=lambda form: _detail(receivable, form),
        success=(_("Payment recorded."),
                 url_for("finance.receivable", receivable_id=receivable.id)))


@bp.route("/receivables/<int:receivable_id>/cancel", methods=["POST"])
@permission_required(WRITE)
def cancel(receivable_id: int):
    receivable = services.get_receivable_or_404(receivable_id, current_user)
    return post_action(lambda: services.cancel_receivable(receivable, user=current_user),
                       _("Receivable cancelled."),
                       url_for("finance.receivable", receivable_id=receivable.id))


@bp.route("/receivables/new", methods=["GET", "POST"])
@permission_required(WRITE)
def new_receivable():
    """GET/POST /finance/receivables/new?account_id=<id>&next=<where to go back to>."""
    account_id = id_arg("account_id")
    if account_id is None:
        abort(404)
    account = get_account_or_404(account_id, current_user)
    back = safe_next_url(request.args.get("next"))
    return form_view(
        ReceivableForm(),
        save=lambda form: services.create_receivables(account, form_data(form),
                                                      user=current_user),
        template="finance/new.html",
        success=(_("Receivable saved."),
                 lambda created: back or url_for("finance.receivable",
                                                 receivable_id=created[0].id)),
        account=account,
        back=back or url_for("crm.account", account_id=account.id, tab="finance"))
