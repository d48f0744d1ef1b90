"""Contacts and their relationships with accounts (a role per link)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from erp.db import db
from erp.errors import Conflict, InvalidInput
from erp.i18n import module_i18n
from erp.textrules import MESSAGE_ONE_LINE, storable
from erp.validation import Errors, clean_field, text

from ..models import Account, AccountContact, Contact
from . import validation as v
from .duplicates import check_contact_duplicates

_l = module_i18n(__name__).lazy_gettext

TEXT_FIELDS = {"name": 200, "position": 120, "current_system": 120, "notes": 20_000}
FIELDS = (*TEXT_FIELDS, "phone", "mobile", "email")
ROLE_MAX = 120


def clean_contact(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    errors = Errors()
    errors.unknown(data, FIELDS)
    out: dict[str, Any] = errors.texts(data, TEXT_FIELDS)
    for field, parser in (("phone", v.normalize_phone), ("mobile", v.normalize_phone),
                          ("email", v.normalize_email)):
        if field in data:
            out[field] = errors.clean(field, parser, text(data[field])) or None
    if (not partial or "name" in data) and not out.get("name"):
        errors.add("name", _l("The name is required."))
    errors.raise_if_any()
    return out


def clean_role(role: Any) -> str | None:
    role = clean_field("role", text, role, max_length=ROLE_MAX) or None
    if role and not storable(role, multiline=False):  # read from the form as is, no field
        raise InvalidInput({"role": [MESSAGE_ONE_LINE]})
    return role


def create_contact(data: Mapping[str, Any], *, user, account: Account | None = None,
                   role: str | None = None, confirm_duplicates: bool = True) -> Contact:
    """A new contact, linked to ``account`` in ``role`` when given (one transaction).

    With ``confirm_duplicates`` false (the web form until the user confirms), contacts
    with the same e-mail or phone raise :class:`InvalidInput` listing them (issue 17)."""
    values = clean_contact(data)
    role = clean_role(role)
    check_contact_duplicates(values, None, confirm_duplicates, user)
    contact = Contact(owner_id=user.id, **values)
    db.session.add(contact)
    if account is not None:
        db.session.add(AccountContact(account=account, contact=contact, role=role))
    db.session.commit()
    return contact


def update_contact(contact: Contact, data: Mapping[str, Any], *,
                   expected_version: int | None = None, user=None,
                   confirm_duplicates: bool = True) -> Contact:
    if expected_version is not None and expected_version != contact.version:
        raise Conflict(current_version=contact.version)
    values = clean_contact(data, partial=True)
    changed = {k: v for k, v in values.items()
               if k in ("email", "phone", "mobile") and v != getattr(contact, k)}
    if changed:  # a new e-mail or phone: compared (an unchanged one asks nothing again)
        check_contact_duplicates(changed, contact.id, confirm_duplicates, user)
    for key, value in values.items():
        setattr(contact, key, value)
    db.session.commit()
    return contact


# --- an account's contacts (issue 19: archived and unlinked ones respected everywhere) ------


def active_link_clauses(account_id: int) -> list:
    """WHERE a contact (joined to its link) is one of the account's, not archived: what
    every list, picker and count of an account's contacts shows by default."""
    return [AccountContact.account_id == account_id, Contact.archived.is_(False)]


def account_contact_choices(account_id: int, keep_id: int | None = None) -> list[Contact]:
    """The contacts a picker offers for the account's records: linked and not archived,
    by name; plus ``keep_id`` (the record's current contact, archived or unlinked since),
    so that editing the record does not drop it unseen."""
    contacts = list(db.session.scalars(
        select(Contact).join(AccountContact, AccountContact.contact_id == Contact.id)
        .where(*active_link_clauses(account_id)).order_by(Contact.name, Contact.id)))
    if keep_id and keep_id not in {contact.id for contact in contacts}:
        current = db.session.get(Contact, keep_id)
        if current is not None:
            contacts.append(current)
    return contacts


def is_choosable_contact(account_id: int | None, contact_id: int,
                         current_id: int | None = None) -> bool:
    """Whether a record of the account may name the contact: one of its contacts, not
    archived; or the one it names already (unchanged, it is not a new choice)."""
    if current_id is not None and contact_id == current_id:
        return True
    link = db.session.get(AccountContact, (account_id or 0, contact_id))
    return link is not None and not link.contact.archived


def set_archived(contact: Contact, archived: bool) -> None:
    """Archived contacts leave the lists and the search; their links and history stay."""
    contact.archived = archived
    db.session.commit()


def link_contact(account: Account, contact: Contact, role: str | None) -> AccountContact:
    """Add the relationship, or change its role if it exists."""
    role = clean_role(role)
    link = db.session.get(AccountContact, (account.id, contact.id))
    if link is None:
        link = AccountContact(account=account, contact=contact, role=role)
        db.session.add(link)
    else:
        link.role = role
    db.session.commit()
    return link


def unlink_contact(account: Account, contact: Contact) -> bool:
    link = db.session.get(AccountContact, (account.id, contact.id))
    if link is None:
        return False
    db.session.delete(link)
    db.session.commit()
    return True
