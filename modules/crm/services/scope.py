"""Which CRM records a user may see: accounts by owner, contacts by owner or account."""

from __future__ import annotations

from flask import abort
from sqlalchemy import exists, or_, select

from erp.auth import in_scope, scope_clause
from erp.db import db

from ..models import Account, AccountContact, Contact


def account_scope(user):
    return scope_clause(Account.owner_id, user)


def contact_scope(user):
    """A contact is visible if the user may see its owner's records or one of its accounts."""
    linked_to_visible_account = exists(
        select(AccountContact.account_id)
        .join(Account, Account.id == AccountContact.account_id)
        .where(AccountContact.contact_id == Contact.id, account_scope(user))
    )
    return or_(scope_clause(Contact.owner_id, user), linked_to_visible_account)


def get_account_or_404(account_id: int, user) -> Account:
    """The account, if it exists and is within the user's scope; 404 otherwise (no leak)."""
    account = db.session.get(Account, account_id)
    if account is None or not in_scope(account.owner_id, user):
        abort(404)
    return account


def get_contact_or_404(contact_id: int, user) -> Contact:
    visible = db.session.scalar(
        select(Contact).where(Contact.id == contact_id, contact_scope(user)))
    if visible is None:
        abort(404)
    return visible
