"""Finance pages: the receivables list, a receivable with its payments, the "new
receivable" form (the account page's Create → Receivable), the aging summary, and the
admin views. Thin: the rules are in ``services``."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from erp.admin import SecureModelView
from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.clock import local_today
from erp.db import db
from erp.forms import form_data, form_view, page_arg, page_size, post_action
from erp.params import id_arg
from modules.crm.services.scope import get_account_or_404

from . import services
from .labels import METHOD_LABELS
from .models import METHODS, OVERDUE, PAID
from .permissions import READ, WRITE

bp = Blueprint("finance", __name__, url_prefix="/finance", template_folder="templates")


class ReceivableForm(FlaskForm):  # FlaskForm: the CSRF token is checked on POST
    document = StringField(_l("Document"), render_kw={"maxlength": services.DOCUMENT_LENGTH - 8},
                           description=_l("E.g. the contract or bill number."))
    issue_date = StringField(_l("Issue date"), render_kw={"placeholder": "31/12/2026"})
    due_date = StringField(_l("Due date"), render_kw={"placeholder": "31/12/2026"},
                           description=_l("Of the first installment; the next ones are "
                                          "a month apart."))
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"},
                         description=_l("The total, split evenly among the installments."))
    installments = StringField(_l("Installments"), default="1",
                               render_kw={"inputmode": "numeric"})


class PaymentForm(FlaskForm):
    date = StringField(_l("Payment date"), render_kw={"placeholder": "31/12/2026"})
    amount = StringField(_l("Amount"), render_kw={"inputmode": "decimal"})
    method = SelectField(_l("Method"), default="pix")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [(m, METHOD_LABELS[m]) for m in METHODS]


# --- the list --------------------------------------------------------------------------


@bp.route("/")
@permission_required(READ)
def index():
    """The receivables list: filters (status, due this week, account, document), totals."""
    today = local_today()
    filters = services.Filters.from_args(request.args)
    pagination = db.paginate(services.receivables_select(current_user, filters, today),
                             page=page_arg(), per_page=page_size(), error_out=False)
    totals = services.receivables_totals(current_user, filters, today)
    account = None
    if filters.account_id:
        account = get_account_or_404(filters.account_id, current_user)
    return render_template("finance/list.html", pagination=pagination, filters=filters,
                           totals=totals, today=today, account=account,
                           statuses=(*services.STATUSES, services.UNPAID))


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
    form.amount.data = str(receivable.outstanding) if receivable.outstanding > 0 else ""
    return _detail(receivable, form)


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


# --- aging --------------------------------------------------------------------------------


@bp.route("/aging")
@permission_required(READ)
def aging():
    today = local_today()
    rows, totals = services.aging(current_user, today)
    return render_template("finance/aging.html", rows=rows, totals=totals, today=today)


# --- admin ----------------------------------------------------------------------------------


class ReceivableAdmin(SecureModelView):
    column_list = ("document", "account", "origin", "issue_date", "due_date", "amount",
                   "installment", "installments", "cancelled")
    column_labels = {"document": _l("Document"), "account": _l("Account"),
                     "origin": _l("Origin"), "issue_date": _l("Issue date"),
                     "due_date": _l("Due date"), "amount": _l("Amount"),
                     "installment": _l("Installment"), "installments": _l("Installments"),
                     "cancelled": _l("Cancelled")}
    column_searchable_list = ("document",)
    column_filters = ("due_date", "cancelled", "origin")
    column_default_sort = ("due_date", True)
    form_columns = ("document", "due_date", "cancelled")
    can_create = False


class PaymentAdmin(SecureModelView):
    column_list = ("date", "receivable", "account", "amount", "method", "created_at")
    column_labels = {"date": _l("Payment date"), "receivable": _l("Receivable"),
                     "account": _l("Account"), "amount": _l("Amount"),
                     "method": _l("Method"), "created_at": _l("Recorded")}
    column_default_sort = ("created_at", True)
    form_columns = ("date", "method")
    can_create = False
