"""Payments: a payment, partial or full, of an open receivable."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from erp.db import db
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.validation import Errors, choice

from ..models import METHODS, Payment, Receivable
from .common import amount_of, day_of, user_today

_ = module_i18n(__name__).gettext


def record_payment(receivable: Receivable, data: dict, *, user,
                   today: date | None = None) -> Payment:
    """A payment, partial or full, of an open receivable; never more than is owed."""
    today = user_today(today, user)
    # Lock the receivable (PostgreSQL): two clerks cannot both pay its last real.
    db.session.execute(select(Receivable.id).where(Receivable.id == receivable.id)
                       .with_for_update())
    db.session.refresh(receivable)
    if receivable.cancelled:
        raise InvalidInput({"__all__": [_("This receivable is cancelled.")]})
    outstanding = receivable.outstanding
    if outstanding <= 0:
        raise InvalidInput({"__all__": [_("This receivable is already paid.")]})
    errors = Errors()
    amount = errors.clean("amount", amount_of, data.get("amount"))
    paid_on = errors.clean("date", day_of, data.get("date"), default=today)
    method = errors.clean("method", choice, data.get("method"), choices=METHODS, required=True,
                          message=_("Choose a payment method."))
    if paid_on and paid_on > today:
        errors.add("date", _("A payment date cannot be in the future."))
    if amount is not None and amount > outstanding:
        errors.add("amount", _("The amount is more than what is still owed (%(owed)s).",
                               owed=outstanding))
    if errors:
        db.session.rollback()
        errors.raise_if_any()
    payment = Payment(receivable=receivable, account_id=receivable.account_id, date=paid_on,
                      amount=amount, method=method, created_by_id=user.id)
    db.session.add(payment)
    db.session.commit()
    return payment
