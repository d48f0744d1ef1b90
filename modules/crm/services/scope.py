"""Which CRM records a user may see: accounts by owner, contacts by owner or account."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import func, or_, select, true

from erp.auth import in_scope, scope_clause
from erp.auth.models import SCOPE_ALL
from erp.db import db
from erp.validation import Invalid, record

from ..models import Account, AccountContact, Action, Contact


def account_scope(user):
    return scope_clause(Account.owner_id, user)


# Below this many visible accounts, a user's actions and contacts are read from their
# accounts (a new rep); above it, from each action or contact (issue 15).
SMALL_SCOPE = 2000


def small_scope(user) -> bool:
    """Whether the user sees fewer than SMALL_SCOPE accounts: one count on the owner
    index, bounded by SMALL_SCOPE. Never for the ALL scope."""
    if getattr(user, "record_scope", SCOPE_ALL) == SCOPE_ALL:
        return False
    visible_accounts = select(Account.id).where(account_scope(user)).limit(SMALL_SCOPE)
    return db.session.scalar(
        select(func.count()).select_from(visible_accounts.subquery())) < SMALL_SCOPE


def contact_scope(user):
    """A contact is visible if the user may see its owner's records or one of its accounts.

    For a large scope the accounts are read from the contact, for each contact: its links
    by contact_id, each linked account's owner by the account's primary key. Both
    subqueries are scalar on purpose: with the account joined, SQLite drove the test from
    the user's accounts (a manager sees tens of thousands) for every contact; as an
    EXISTS, PostgreSQL may hash every visible link once per query instead. For a small
    scope (a new rep) that per-contact test costs more than gathering the few visible
    accounts' contacts once: ``contact id IN (their links)``.
    """
    if small_scope(user):
        linked = select(AccountContact.contact_id).where(
            AccountContact.account_id.in_(select(Account.id).where(account_scope(user))))
        return or_(scope_clause(Contact.owner_id, user), Contact.id.in_(linked))
    account_owner = (select(Account.owner_id).where(Account.id == AccountContact.account_id)
                     .scalar_subquery())
    visible_link = (
        select(AccountContact.account_id)
        .where(AccountContact.contact_id == Contact.id, scope_clause(account_owner, user))
        .limit(1)
        .scalar_subquery()
    )
    return or_(scope_clause(Contact.owner_id, user), visible_link.is_not(None))


def action_scope(user):
    """An action is visible if it is the user's own or on an account within their scope.

    Written as a correlated EXISTS (one primary-key probe of the action's account per
    row), not ``account_id IN (visible accounts)``: a list ordered by id then walks the
    actions' primary key and stops at the page's end, instead of gathering every visible
    action and sorting them (issue 15).

    A user whose scope holds fewer than SMALL_SCOPE accounts (a new rep) keeps the
    ``IN`` form: a walk in id order would pass over nearly every action to fill a page,
    while their few accounts' actions are quickly gathered and sorted. One bounded count
    on the owner index tells which.
    """
    if getattr(user, "record_scope", None) == SCOPE_ALL:
        return true()  # every action is on an account (a required key, deleted with it)
    if small_scope(user):
        visible_accounts = select(Account.id).where(account_scope(user))
        return or_(Action.user_id == user.id, Action.account_id.in_(visible_accounts))
    # The account's owner as a scalar subquery, tested per action: as an EXISTS,
    # PostgreSQL hashed every visible account once (a manager's 160,000 at 200K: 134 ms)
    # before reading the page's 51 actions.
    owner = select(Account.owner_id).where(Account.id == Action.account_id).scalar_subquery()
    return or_(Action.user_id == user.id, scope_clause(owner, user))


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


def visible_record(value: Any, *, model, user, required: bool = False, message) -> Any:
    """A parser of :mod:`erp.validation`: the record with an ``owner_id`` (an account, an
    opportunity) that ``value`` names, if the user's scope covers its owner; ``None`` when
    blank and optional; else :class:`~erp.validation.Invalid` with ``message``."""
    found = record(value, model=model, required=required, message=message)
    if found is not None and not in_scope(found.owner_id, user):
        raise Invalid(message)
    return found


def pick_accounts(query: str, user, limit: int = 20) -> list[Account]:
    """The account picker ("choose the account" before a new action, opportunity or
    service order): the atomic search for ``query`` within the user's scope, archived
    accounts left out; nothing for a blank query."""
    from .search import search_accounts  # the search builds on this module's scope

    query = (query or "").strip()
    return search_accounts(query, user, limit) if query else []
