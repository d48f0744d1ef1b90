"""Quotes: drafted, sent by e-mail to a contact of the account, accepted (an order) or
refused; a sent quote past its validity date is expired."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, select

from erp.clock import local_today
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.mail import format_address, queue_mail
from erp.validation import Errors, clean_field, record_id, text
from erp.validation import date as a_date
from modules.crm.models import Account, AccountContact, Contact

from .. import signals
from ..models import (
    ORDER_CONFIRMED,
    QUOTE_ACCEPTED,
    QUOTE_DRAFT,
    QUOTE_EXPIRED,
    QUOTE_REFUSED,
    QUOTE_SENT,
    Order,
    OrderLine,
    Quote,
    QuoteLine,
)
from .common import (
    EV_ORDER_CONFIRMED,
    EV_QUOTE_ACCEPTED,
    EV_QUOTE_REFUSED,
    EV_QUOTE_SENT,
    NOTES_MAX,
    add_event,
    clean_lines,
    copy_lines,
    get_or_404,
    next_number,
    real_user,
    refuse,
    set_lines,
)
from .orders import order_confirmed

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext

DEFAULT_VALIDITY_DAYS = 30


def get_quote_or_404(quote_id: int, user) -> Quote:
    return get_or_404(Quote, quote_id, user)


def account_contacts(account_id: int) -> list[Contact]:
    return list(db.session.scalars(
        select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account_id, Contact.archived.is_(False))
        .order_by(Contact.name)))


def _account_contact(account_id: int, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    return db.session.scalar(
        select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account_id, Contact.id == contact_id))


def clean_quote(account: Account, data: Mapping[str, Any], *, today: date) -> dict:
    """The quote's fields and lines, clean; ``today`` is the user's (a validity date may
    not be before it)."""
    errors = Errors()
    out: dict[str, Any] = {}
    message = _l("Choose a contact of this account.")
    out["contact_id"] = errors.clean("contact_id", record_id, data.get("contact_id"),
                                     message=message)
    if out["contact_id"] is not None and _account_contact(account.id, out["contact_id"]) is None:
        errors.add("contact_id", message)
    valid_until = errors.clean("valid_until", a_date, data.get("valid_until"))
    if valid_until is None and "valid_until" not in errors:
        errors.add("valid_until", _l("Give the date until which the quote is valid."))
    elif valid_until is not None and valid_until < today:
        errors.add("valid_until", _l("The validity date cannot be in the past."))
    out["valid_until"] = valid_until
    out["notes"] = errors.clean("notes", text, data.get("notes"), max_length=NOTES_MAX) or None
    out["lines"] = clean_lines(data.get("lines") or (), errors)
    errors.raise_if_any()
    return out


def default_validity(user=None) -> date:
    """A new quote's validity date: 30 days from the user's today."""
    return local_today(user) + timedelta(days=DEFAULT_VALIDITY_DAYS)


def create_quote(account: Account, data: Mapping[str, Any], *, user) -> Quote:
    values = clean_quote(account, data, today=local_today(user))
    lines = values.pop("lines")
    quote = Quote(account_id=account.id, user_id=user.id, status=QUOTE_DRAFT,
                  number=next_number("quote"), **values)
    set_lines(quote, QuoteLine, lines)
    db.session.add(quote)
    db.session.commit()
    return quote


def update_quote(quote: Quote, data: Mapping[str, Any], *, user) -> Quote:
    if quote.status != QUOTE_DRAFT:
        raise refuse(_l("Only a draft quote can be changed."))
    values = clean_quote(quote.account, data, today=local_today(user))
    lines = values.pop("lines")
    for key, value in values.items():
        setattr(quote, key, value)
    set_lines(quote, QuoteLine, lines)
    db.session.commit()
    return quote


def send_quote(quote: Quote, contact_id: Any, *, user, message: str | None = None) -> Quote:
    """E-mail the quote to a contact of its account (through the outbox) and mark it sent,
    in one transaction, with its timeline entry."""
    today = local_today(user)
    status = quote.status_on(today)
    if status not in (QUOTE_DRAFT, QUOTE_SENT):
        raise refuse(_l("This quote can no longer be sent."))
    if quote.valid_until < today:
        raise refuse(_l("This quote has expired: it can no longer be sent."))
    contact = _account_contact(quote.account_id, clean_field(
        "contact_id", record_id, contact_id, message=_("Choose a contact of this account.")))
    if contact is None:
        raise InvalidInput({"contact_id": [_("Choose a contact of this account.")]})
    if not contact.email:
        raise InvalidInput({"contact_id": [
            _("%(name)s has no e-mail address: add one to the contact first.",
              name=contact.name)]})
    subject = _("Quote %(number)s", number=quote.display_number)
    # The Jinja environment itself, not render_template: no request needed (imports, API).
    body = current_app.jinja_env.get_template("sales/quote_mail.txt").render(
        quote=quote, contact=contact, message=(message or "").strip())
    to = format_address(contact.name, contact.email)  # quoted: a name may hold '<' or '"'
    try:
        queue_mail(to, subject, body, source="sales.quote", reply_to=user.email or None)
    except ValueError:
        try:  # the sender's own address may be the bad one: then without Reply-To
            queue_mail(to, subject, body, source="sales.quote")
        except ValueError:
            raise InvalidInput({"contact_id": [
                _("The e-mail address of %(name)s is not valid.", name=contact.name)]}
            ) from None
    quote.status = QUOTE_SENT
    quote.contact_id = contact.id
    quote.sent_at = utcnow()
    add_event(quote.account_id, EV_QUOTE_SENT, "quote", quote, user)
    db.session.flush()
    signals.quote_sent.send(quote, account_id=quote.account_id,
                            document=quote.display_number, to=contact.email, user=real_user(user))
    db.session.commit()
    return quote


# A quote the customer may still accept or refuse: sent by e-mail, or a draft never e-mailed
# (the customer agreed, or said no, by phone: issue 17). Accepted and refused are final.
DECIDABLE = (QUOTE_DRAFT, QUOTE_SENT)


def accept_quote(quote: Quote, *, user) -> Order:
    """The customer accepted: the quote becomes an order with the same lines. A draft may be
    accepted without being e-mailed (agreed by phone); neither a quote past its validity
    date (edit a draft's date first) nor a decided one."""
    today = local_today(user)
    status = quote.status_on(today)
    if status == QUOTE_EXPIRED:
        raise refuse(_l("This quote has expired: it can no longer be accepted."))
    if status not in DECIDABLE:
        raise refuse(_l("Only a draft or sent quote can be accepted."))
    if quote.valid_until < today:  # a draft past its date: the customer saw other terms
        raise refuse(_l("The validity date of this quote has passed: change it before "
                        "marking it accepted."))
    quote.status = QUOTE_ACCEPTED
    quote.decided_at = utcnow()
    order = Order(account_id=quote.account_id, quote_id=quote.id, user_id=user.id,
                  status=ORDER_CONFIRMED, order_date=today, notes=quote.notes,
                  number=next_number("order"), total=quote.total,
                  lines=copy_lines(quote.lines, OrderLine))
    db.session.add(order)
    db.session.flush()
    add_event(quote.account_id, EV_QUOTE_ACCEPTED, "quote", quote, user)
    add_event(order.account_id, EV_ORDER_CONFIRMED, "order", order, user)
    db.session.flush()
    order_confirmed(order, user)
    db.session.commit()
    return order


def refuse_quote(quote: Quote, *, user) -> Quote:
    """The customer said no: a sent quote (expired too) or a draft never e-mailed."""
    if quote.status not in DECIDABLE:  # an expired quote may still be marked refused
        raise refuse(_l("Only a draft or sent quote can be refused."))
    quote.status = QUOTE_REFUSED
    quote.decided_at = utcnow()
    add_event(quote.account_id, EV_QUOTE_REFUSED, "quote", quote, user)
    db.session.commit()
    return quote


def quote_status_filter(status: str, today: date | None = None):
    """The WHERE clause of a status filter, "expired" (and "sent") computed from ``today``
    (the request's user's today by default)."""
    today = today or local_today()
    if status == QUOTE_EXPIRED:
        return and_(Quote.status == QUOTE_SENT, Quote.valid_until < today)
    if status == QUOTE_SENT:
        return and_(Quote.status == QUOTE_SENT, Quote.valid_until >= today)
    return Quote.status == status
