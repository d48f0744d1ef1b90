"""The invoices' pages: list, choosing the order to invoice, page, cancel."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from erp.auth import permission_required
from erp.auth.services import safe_next_url
from erp.forms import PostForm, post_action
from erp.i18n import module_i18n
from erp.links import page_link

from .. import services
from ..models import INVOICE_STATUSES, Invoice
from ..permissions import READ, WRITE
from . import bp
from .common import account_arg, document_list

_ = module_i18n(__name__).gettext


@bp.route("/invoices")
@permission_required(READ)
def invoices():
    pagination = document_list(Invoice, request.args, INVOICE_STATUSES)
    return render_template("sales/invoices.html", pagination=pagination,
                           statuses=INVOICE_STATUSES)


@bp.route("/invoices/new")
@permission_required(WRITE)
def new_invoice():
    """An invoice comes from an order: pick one of the account's uninvoiced orders."""
    account = account_arg()
    return render_template("sales/invoice_choose_order.html", account=account,
                           orders=services.uninvoiced_orders(account.id),
                           next=safe_next_url(request.args.get("next")))


@bp.route("/invoices/<int:invoice_id>")
@permission_required(READ)
def invoice(invoice_id: int):
    invoice = services.get_invoice_or_404(invoice_id, current_user)
    return render_template("sales/invoice.html", invoice=invoice, post_form=PostForm(),
                           can_write=current_user.has_permission(WRITE),
                           receivable_url=_receivable_url(invoice))


# Finance, when enabled, finds the receivable of an installment by the origin the invoice's
# signal gave it (sales does not depend on finance: only its address and permission).
RECEIVABLE_OF, FINANCE_READ = "finance.receivable_of", "finance.read"


def _receivable_url(invoice: Invoice):
    """A function of an installment's position to its receivable's page, or None when
    finance is off or the user may not see receivables (issue 17)."""
    link = page_link(RECEIVABLE_OF, FINANCE_READ)
    if link is None:
        return None
    return lambda position: link(origin="sales.invoice", origin_id=invoice.id, installment=position)


@bp.route("/invoices/<int:invoice_id>/cancel", methods=["POST"])
@permission_required(WRITE)
def cancel_invoice(invoice_id: int):
    invoice = services.get_invoice_or_404(invoice_id, current_user)
    return post_action(lambda: services.cancel_invoice(invoice, user=current_user),
                       _("Invoice cancelled."), url_for("sales.invoice", invoice_id=invoice_id))
