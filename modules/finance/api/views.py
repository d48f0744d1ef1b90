"""/finance/receivables, /finance/payments and /finance/aging: read and written within the
user's record scope (a receivable or payment of an account outside it is a 404), through
the services and the report the pages use."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from erp.api import Blueprint
from erp.api.conventions import (
    equal_filters,
    invalid,
    not_found,
    reads_record,
    referenced,
    requires,
    service_errors,
    writes_record,
    writing,
)
from erp.api.paging import keyset_page
from erp.clock import local_today
from erp.db import db
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from .. import reports, services
from ..models import Payment, Receivable
from ..permissions import READ, WRITE
from ..services.aging import account_in_scope
from . import schemas as s

receivables = Blueprint("finance-receivables", __name__, description=(
    "Receivables (contas a receber): made from the invoices of sales and service, one per "
    "installment, or entered by hand; their status (open, partial, overdue, paid, "
    "cancelled) is computed from the payments and the due date."))
payments = Blueprint("finance-payments", __name__, description=(
    "Payments received against receivables, partial or full: never more than is owed."))
aging = Blueprint("finance-aging", __name__, description=(
    "The receivables aging report: what is overdue on a day, by account and by days "
    "overdue, within your record scope."))


def _today():
    return local_today(current_user)


# --- receivables -------------------------------------------------------------------------------


@receivables.route("/finance/receivables", methods=["GET"])
@requires(receivables, READ)
@receivables.arguments(s.ReceivableListArgsSchema, location="query")
@receivables.response(200, s.ReceivablePageSchema)
def list_receivables(args):
    """List receivables

    The receivables of the accounts you may see, with their payments, in id order, paged
    (`after` = the previous page's `next_cursor`); the filters are the receivables page's.
    """
    filters = services.Filters(status=args.get("status", ""), due=args.get("due", ""),
                               account_id=args.get("account_id"),
                               account=args.get("account", "").strip(),
                               q=args.get("q", "").strip())
    statement = (select(Receivable)
                 .where(*services.receivables_where(current_user, filters, _today()))
                 .options(selectinload(Receivable.payments)))
    return keyset_page(statement, Receivable.id, args)


@receivables.route("/finance/receivables", methods=["POST"])
@requires(receivables, WRITE)
@receivables.arguments(s.ReceivableCreateSchema)
@receivables.response(201, s.ReceivablesCreatedSchema)
def create_receivables(data):
    """Enter receivables by hand

    `amount` split in `installments` monthly receivables from `due_date` on, with the
    installment rule of every invoice (the last part takes the remainder); all or none.
    """
    account = referenced(select(Account).where(Account.id == data.pop("account_id"),
                                               account_scope(current_user)),
                         "account_id", "Choose an account you can see.")
    with service_errors():
        return {"items": services.create_receivables(account, data, user=current_user)}


@receivables.route("/finance/receivables/<int:receivable_id>", methods=["GET"])
@requires(receivables, READ)
@receivables.response(200, s.ReceivableSchema)
@reads_record(receivables)
def get_receivable(receivable_id: int):
    """Read a receivable, with its payments

    404 if it does not exist or its account is outside your scope.
    """
    return services.get_receivable_or_404(receivable_id, current_user)


@receivables.route("/finance/receivables/<int:receivable_id>/cancel", methods=["POST"])
@requires(receivables, WRITE)
@receivables.response(200, s.ReceivableSchema)
@writes_record(receivables, body_version=False)
def cancel_receivable(receivable_id: int):
    """Cancel a receivable entered by hand

    One made from an invoice is cancelled with the invoice, one with payments not at all
    (422).
    """
    receivable = services.get_receivable_or_404(receivable_id, current_user)
    with writing(receivable):
        services.cancel_receivable(receivable, user=current_user)
    return receivable


# --- payments ----------------------------------------------------------------------------------


def _payments_in_scope():
    return select(Payment).where(account_in_scope(Payment.account_id, current_user))


@payments.route("/finance/payments", methods=["GET"])
@requires(payments, READ)
@payments.arguments(s.PaymentListArgsSchema, location="query")
@payments.response(200, s.PaymentPageSchema)
def list_payments(args):
    """List payments

    The payments on the receivables of the accounts you may see, in id order, paged.
    """
    statement = _payments_in_scope().where(
        *equal_filters(Payment, args, "receivable_id", "account_id"))
    return keyset_page(statement, Payment.id, args)


@payments.route("/finance/payments", methods=["POST"])
@requires(payments, WRITE)
@payments.arguments(s.PaymentCreateSchema)
@payments.response(201, s.PaymentSchema)
def record_payment(data):
    """Record a payment

    A payment, partial or full, of an open receivable you can see: never more than is
    still owed, never dated in the future (422).
    """
    try:
        receivable = services.get_receivable_or_404(data.pop("receivable_id"), current_user)
    except NotFound:
        invalid("receivable_id", "Choose a receivable you can see.")
    with service_errors():
        return services.record_payment(receivable, data, user=current_user)


@payments.route("/finance/payments/<int:payment_id>", methods=["GET"])
@requires(payments, READ)
@payments.response(200, s.PaymentSchema)
@not_found(payments)
def get_payment(payment_id: int):
    """Read a payment"""
    payment = db.session.scalar(_payments_in_scope().where(Payment.id == payment_id))
    if payment is None:
        abort(404)
    return payment


# --- the aging report ------------------------------------------------------------------------


@aging.route("/finance/aging", methods=["GET"])
@requires(aging, READ)
@aging.arguments(s.AgingArgsSchema, location="query")
@aging.response(200, s.AgingSchema)
def aging_report(args):
    """The aging report's figures

    The accounts with something overdue on `as_of` (default: your today), largest
    overdue first, `limit` a page, with the totals over all of them: the figures of the
    receivables aging report (its owner and team filters too), from the same query.
    """
    filters = reports.AgingFilters(as_of=args.get("as_of") or _today(),
                                   owner_id=args.get("owner_id"), team_id=args.get("team_id"))
    page = reports.OverduePage(user=current_user, filters=filters, page=args["page"],
                               per_page=args["limit"], max_per_page=None, error_out=False)
    rows = [{"account_id": row.account_id, "name": row.name,
             **{name: services.to_money(getattr(row, name))
                for name in reports.REPORT_FIGURES}} for row in page.items]
    return {"as_of": filters.as_of, "rows": rows, "totals": page.totals,
            "next_page": page.next_num if page.has_next else None}
