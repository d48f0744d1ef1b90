"""Receivables: entered by hand (split in installments), cancelled, made from another
module's issued invoice and cancelled with it (the signal receivers), and read one at a
time within the user's scope."""

from __future__ import annotations

from datetime import date

from flask import abort
from sqlalchemy import select

from erp.auth import in_scope
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.formats import parse_date, parse_decimal
from erp.i18n import module_i18n
from erp.money import CENT, installment_plan
from erp.signals import Refused
from erp.validation import Errors, integer, text
from modules.crm.models import Account

from ..models import ORIGIN_MANUAL, Receivable
from .common import amount_of, day_of, user_today

_ = module_i18n(__name__).gettext

MAX_INSTALLMENTS = 120
DOCUMENT_LENGTH = 80


def installment_document(document: str, number: int, count: int) -> str:
    suffix = f" {number}/{count}" if count > 1 else ""
    return document[:DOCUMENT_LENGTH - len(suffix)] + suffix


# --- receivables by hand ----------------------------------------------------------------


def create_receivables(account: Account, data: dict, *, user,
                       today: date | None = None) -> list[Receivable]:
    """Receivables entered by hand: ``amount`` split in ``installments`` monthly
    receivables from ``due_date`` on, with THE installment rule of every invoice
    (:func:`erp.money.installment_plan`: the last one takes the remainder). Validates
    everything, then saves all or nothing."""
    today = user_today(today, user)
    errors = Errors()
    document = errors.clean("document", text, data.get("document"), required=True,
                            max_length=DOCUMENT_LENGTH - 8, message=_("This field is required."))
    issue_date = errors.clean("issue_date", day_of, data.get("issue_date"), default=today)
    due_date = errors.clean("due_date", day_of, data.get("due_date"))
    amount = errors.clean("amount", amount_of, data.get("amount"))
    raw_count = data.get("installments")
    count = 1 if raw_count in (None, "") else errors.clean(
        "installments", integer, raw_count, required=True, minimum=1, maximum=MAX_INSTALLMENTS,
        message=_("Between 1 and %(n)d installments.", n=MAX_INSTALLMENTS))
    if issue_date and due_date and due_date < issue_date:
        errors.add("due_date", _("The due date cannot be before the issue date."))
    if amount is not None and count is not None and amount < CENT * count:
        errors.add("amount", _("The amount is too small for that many installments."))
    errors.raise_if_any()
    receivables = [
        Receivable(account_id=account.id, document=installment_document(document, n, count),
                   origin=ORIGIN_MANUAL, origin_id=None, issue_date=issue_date,
                   due_date=due, amount=part, installment=n,
                   installments=count, cancelled=False, created_by_id=user.id)
        for n, (due, part) in enumerate(installment_plan(amount, count, due_date), start=1)]
    db.session.add_all(receivables)
    db.session.commit()
    return receivables


def cancel_receivable(receivable: Receivable, *, user) -> None:
    """Cancel a receivable entered by hand (one from an invoice: cancel the invoice)."""
    if receivable.cancelled:
        raise InvalidInput({"__all__": [_("This receivable is already cancelled.")]})
    if receivable.origin != ORIGIN_MANUAL:
        raise InvalidInput({"__all__": [
            _("This receivable comes from %(document)s: cancel that document instead.",
              document=receivable.document)]})
    if receivable.payments:
        raise InvalidInput({"__all__": [
            _("This receivable has payments: it cannot be cancelled.")]})
    receivable.cancelled = True
    receivable.cancelled_at = utcnow()
    db.session.commit()


# --- receivables from another module's documents (signal receivers) ---------------------


def receivables_from_origin(*, account_id: int, document: str, origin: str, origin_id: int,
                            issue_date: date, installments, user=None) -> list[Receivable]:
    """One receivable per installment ``(due_date, amount)`` of an issued document.

    Runs inside the sender's transaction: flushes, never commits. Idempotent: an origin
    that already has receivables gets no new ones. Raises :class:`Refused` for input
    that cannot make receivables (the sender rolls back and shows the message).
    """
    existing = db.session.scalars(select(Receivable).where(
        Receivable.origin == origin, Receivable.origin_id == origin_id)).all()
    if existing:
        return list(existing)
    if db.session.get(Account, account_id) is None:
        raise Refused(_("Finance: the account of %(document)s does not exist.",
                        document=document))
    parts = [(parse_date(due), parse_decimal(amount)) for due, amount in installments or ()]
    if not parts or any(due is None or amount is None or amount <= 0 for due, amount in parts):
        raise Refused(_("Finance: %(document)s needs installments with a due date and a "
                        "positive amount.", document=document))
    count = len(parts)
    receivables = [
        Receivable(account_id=account_id, document=installment_document(str(document), n, count),
                   origin=origin, origin_id=origin_id, issue_date=issue_date,
                   due_date=due, amount=amount.quantize(CENT), installment=n,
                   installments=count, cancelled=False,
                   created_by_id=getattr(user, "id", None))
        for n, (due, amount) in enumerate(parts, start=1)]
    db.session.add_all(receivables)
    db.session.flush()
    return receivables


def cancel_origin(*, origin: str, origin_id: int) -> list[Receivable]:
    """Cancel the receivables of a cancelled document — all or none.

    Raises :class:`Refused` if any of them has payments. Flushes, never commits.
    """
    receivables = db.session.scalars(select(Receivable).where(
        Receivable.origin == origin, Receivable.origin_id == origin_id,
        Receivable.cancelled.is_(False)).order_by(Receivable.installment)).all()
    paid = [r for r in receivables if r.payments]
    if paid:
        raise Refused(_("Payments were already received for %(documents)s: reverse them in "
                        "Finance before cancelling.",
                        documents=", ".join(r.document for r in paid)))
    now = utcnow()
    for receivable in receivables:
        receivable.cancelled = True
        receivable.cancelled_at = now
    db.session.flush()
    return receivables


# --- reading ---------------------------------------------------------------------------


def get_receivable_or_404(receivable_id: int, user) -> Receivable:
    receivable = db.session.get(Receivable, receivable_id)
    if receivable is None or not in_scope(receivable.account.owner_id, user):
        abort(404)
    return receivable
