"""E-mail written in the CRM, from an account's page: to the account's contacts, queued
(erp.mail) and logged as a done "email" action, in one transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import abort
from sqlalchemy import func, select

from erp.auth import in_scope
from erp.db import db, utcnow
from erp.errors import InvalidInput
from erp.i18n import module_i18n
from erp.mail import queue_mail
from erp.validation import Errors, text

from ..models import Account, AccountContact, Action, Contact, Opportunity
from .actions import MAX_DESCRIPTION

_l = module_i18n(__name__).lazy_gettext

MAX_SUBJECT = 255  # Action.email_subject
MAX_EMAIL_TO = 255  # Action.email_to


def account_addresses(account: Account) -> list[tuple[str, str]]:
    """Who an e-mail from this account's page may go to: (address, label), contacts first."""
    rows = db.session.execute(
        select(Contact.name, Contact.email, AccountContact.role)
        .join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account.id, Contact.archived.is_(False),
               Contact.email.is_not(None), Contact.email != "")
        .order_by(Contact.name)).all()
    seen: set[str] = set()
    out = []
    for name, email, role in rows:
        if email.strip().lower() in seen:
            continue
        seen.add(email.strip().lower())
        label = f"{name} ({role}) <{email.strip()}>" if role else f"{name} <{email.strip()}>"
        out.append((email.strip(), label))
    if account.email and account.email.strip().lower() not in seen:
        out.append((account.email.strip(), f"{account.display_name} <{account.email.strip()}>"))
    return out


def _split_addresses(to: str | Iterable[str] | None) -> list[str]:
    if to is None:
        return []
    items = re.split(r"[,;\s]+", to) if isinstance(to, str) else [
        part for item in to for part in re.split(r"[,;\s]+", str(item or ""))]
    seen, out = set(), []
    for item in items:
        address = item.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            out.append(address)
    return out


def _clean_recipients(account: Account, to, errors: Errors) -> tuple[list[str], str]:
    """The addresses of the account's contacts (as they are written there), and the
    ``To`` they make."""
    allowed = {address.lower(): address for address, _label in account_addresses(account)}
    recipients = _split_addresses(to)
    if not recipients:
        errors.add("to", _l("Choose at least one recipient."))
    for address in recipients:
        if address.lower() not in allowed:
            errors.add("to", _l("%(address)s is not the e-mail of one of this account's "
                                "contacts.", address=address))
    recipients = [allowed.get(a.lower(), a) for a in recipients]
    email_to = ", ".join(recipients)
    if len(email_to) > MAX_EMAIL_TO:
        errors.add("to", _l("Too many recipients for one e-mail: send it in parts."))
    return recipients, email_to


def _clean_subject(subject: str | None, errors: Errors) -> str:
    subject = errors.clean("subject", text, subject, required=True,
                           message=_l("Write a subject."), max_length=MAX_SUBJECT)
    if subject and ("\n" in subject or "\r" in subject):
        errors.add("subject", _l("Write the subject on one line."))
    return subject


def send_email(account: Account, *, user, to: str | Iterable[str] | None, subject: str | None,
               body: str | None, opportunity: Opportunity | None = None) -> Action:
    """Queue an e-mail to the account's contacts and log it as a done "email" action.

    Both in one transaction: the outbox row and the action are committed together or not
    at all. Replies go to the user. Raises InvalidInput (nothing written) on bad input.
    """
    if not in_scope(account.owner_id, user):
        abort(404)
    errors = Errors()
    recipients, email_to = _clean_recipients(account, to, errors)
    subject = _clean_subject(subject, errors)
    body = errors.clean("body", text, body, required=True, message=_l("Write the message."),
                        max_length=MAX_DESCRIPTION)
    if opportunity is not None and (opportunity.account_id != account.id
                                    or not in_scope(opportunity.owner_id, user)):
        errors.add("opportunity_id", _l("Choose an opportunity of this account."))
    if not user.email:
        errors.add("__all__", _l("Your user has no e-mail address to receive the replies."))
    errors.raise_if_any()

    try:
        try:
            queue_mail(recipients, subject, body, reply_to=user.email, source="crm.email")
        except ValueError as error:  # an address the mail system cannot use
            raise InvalidInput({"to": [_l("An address cannot receive e-mail: %(error)s",
                                          error=str(error))]}) from error
        action = Action(account_id=account.id,
                        opportunity_id=opportunity.id if opportunity else None,
                        kind="email", at=utcnow().replace(microsecond=0), user_id=user.id,
                        contact_id=_single_contact(account, recipients), description=body,
                        done=True, email_to=email_to, email_subject=subject)
        db.session.add(action)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return action


def _single_contact(account: Account, recipients: list[str]) -> int | None:
    """The contact person of the logged action, when the e-mail went to exactly one."""
    if len(recipients) != 1:
        return None
    return db.session.scalar(
        select(Contact.id).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(AccountContact.account_id == account.id, Contact.archived.is_(False),
               func.lower(Contact.email) == recipients[0].lower())
        .order_by(Contact.id).limit(1))
