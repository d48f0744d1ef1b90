"""Service invoices' pages: the list, an invoice, its cancel button (issuing one is on
the order's page: views/orders.py)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import String, cast, or_
from sqlalchemy.orm import contains_eager, selectinload

from erp.auth import permission_required
from erp.forms import PostForm, page_size, post_action
from erp.i18n import module_i18n
from erp.links import page_link
from erp.paging import keyset_page, sort_keys
from erp.params import id_arg
from erp.validation import LIKE_ESCAPE, like
from modules.crm.models import Account

from .. import services
from ..models import INVOICE_STATUSES, ServiceInvoice
from ..permissions import READ, WRITE
from . import DIGITS, bp

_ = module_i18n(__name__).gettext


def filtered_invoices(args):
    # A row shows its account (joined already), order and number of installments: they come
    # with the page (no query per row).
    statement = services.invoices_in_scope(current_user).options(
        contains_eager(ServiceInvoice.account), selectinload(ServiceInvoice.order),
        selectinload(ServiceInvoice.installments))
    if args.get("status") in INVOICE_STATUSES:
        statement = statement.where(ServiceInvoice.status == args["status"])
    if (account_id := id_arg("account_id", args)) is not None:
        statement = statement.where(ServiceInvoice.account_id == account_id)
    query = args.get("q", "").strip()
    if query:
        pattern = like(query)
        conditions = [Account.legal_name.ilike(pattern, escape=LIKE_ESCAPE),
                      Account.trade_name.ilike(pattern, escape=LIKE_ESCAPE),
                      cast(ServiceInvoice.number, String).ilike(pattern, escape=LIKE_ESCAPE)]
        digits = "".join(ch for ch in query if ch in DIGITS)  # not "²": int() refuses it
        if digits and len(digits) <= 9:
            conditions.append(ServiceInvoice.number == int(digits))
        statement = statement.where(or_(*conditions))
    return statement.order_by(ServiceInvoice.id.desc())


@bp.route("/invoices")
@permission_required(READ)
def invoices():
    pagination = keyset_page(filtered_invoices(request.args),
                             sort_keys(ServiceInvoice.id, descending=True), per_page=page_size())
    return render_template("service/invoices.html", pagination=pagination,
                           statuses=INVOICE_STATUSES)


def _render_invoice(invoice: ServiceInvoice) -> str:
    return render_template("service/invoice.html", invoice=invoice,
                           action_form=PostForm(), errors=[],
                           receivable_url=_receivable_url(invoice))


# Finance, when enabled, finds the receivable of an installment by the origin the invoice's
# signal gave it (service does not depend on finance: only its address and permission), as
# the sales invoice page does.
RECEIVABLE_OF, FINANCE_READ = "finance.receivable_of", "finance.read"


def _receivable_url(invoice: ServiceInvoice):
    """A function of an installment's position to its receivable's page, or None when
    finance is off or the user may not see receivables (issue 17)."""
    link = page_link(RECEIVABLE_OF, FINANCE_READ)
    if link is None:
        return None
    return lambda position: link(origin=services.ORIGIN, origin_id=invoice.id, installment=position)


@bp.route("/invoices/<int:invoice_id>")
@permission_required(READ)
def invoice(invoice_id: int):
    return _render_invoice(services.get_invoice_or_404(invoice_id, current_user))


@bp.route("/invoices/<int:invoice_id>/cancel", methods=["POST"])
@permission_required(WRITE)
def cancel_invoice(invoice_id: int):
    invoice = services.get_invoice_or_404(invoice_id, current_user)
    return post_action(
        lambda: services.cancel_invoice(invoice, user=current_user),
        lambda _cancelled: _("Service invoice %(doc)s cancelled.", doc=invoice.display_number),
        url_for("service.invoice", invoice_id=invoice.id))
