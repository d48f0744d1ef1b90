"""Contacts with the same e-mail or phone as the one being saved, named only when the
user may see them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    select,
    union,
)

from erp.auth import in_scope
from erp.db import db
from erp.errors import Duplicate, InvalidInput

from ...models import Contact
from ..scope import contact_scope
from .names import SHOWN


def contact_duplicate_checks(values: Mapping[str, Any], exclude_id: int | None = None) -> list:
    """``(reason, statement)``: the contacts with the same e-mail, or either phone."""
    checks = []
    if values.get("email"):
        checks.append(("email", select(Contact).where(Contact.email == values["email"])))
    phones = [p for p in (values.get("phone"), values.get("mobile")) if p]
    if phones:
        either = union(select(Contact.id).where(Contact.phone.in_(phones)),
                       select(Contact.id).where(Contact.mobile.in_(phones))).subquery()
        checks.append(("phone", select(Contact).join(either, Contact.id == either.c.id)))
    out = []
    for reason, statement in checks:
        statement = statement.where(Contact.archived.is_(False)).order_by(Contact.id).limit(
            SHOWN)
        if exclude_id is not None:
            statement = statement.where(Contact.id != exclude_id)
        out.append((reason, statement))
    return out


def _contact_visible(contact: Contact, user) -> bool:
    if user is None or in_scope(contact.owner_id, user):
        return True
    return db.session.scalar(select(Contact.id).where(Contact.id == contact.id,
                                                      contact_scope(user))) is not None


def find_contact_duplicates(values: Mapping[str, Any], exclude_id: int | None = None,
                            user=None) -> list[Duplicate]:
    """Contacts with the same e-mail or phone (never blocking: two people may share an
    office's phone). One outside the user's scope is reported without name or link."""
    found: dict[int, Duplicate] = {}
    for reason, statement in contact_duplicate_checks(values, exclude_id):
        for contact in db.session.scalars(statement):
            if contact.id not in found:
                found[contact.id] = Duplicate(contact, reason, False,
                                              _contact_visible(contact, user))
    return list(found.values())


def check_contact_duplicates(values: Mapping[str, Any], exclude_id: int | None,
                             confirmed: bool, user) -> None:
    if confirmed:
        return
    duplicates = find_contact_duplicates(values, exclude_id, user)
    if duplicates:
        raise InvalidInput({}, duplicates)
