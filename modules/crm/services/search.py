"""The atomic search: any fragment of a name, CNPJ/CPF, phone or e-mail finds accounts
and contacts, with or without punctuation, within the user's scope."""

from __future__ import annotations

from sqlalchemy import false, select

from erp.db import db

from ..models import Account, Contact
from ..models.search_index import matching_ids
from ..models.search_text import compact, query_terms
from .scope import account_scope, contact_scope


def _dialect() -> str:
    return db.engine.dialect.name


def search_accounts(query: str, user, limit: int = 20, include_archived: bool = False
                    ) -> list[Account]:
    """Accounts matching ``query``: the one with exactly that tax id first, then the newest.

    Two indexed queries: an equality on the tax id, and the trigram index.
    """
    terms = query_terms(query)
    if not terms:
        return []
    visible = [account_scope(user)]
    if not include_archived:
        visible.append(Account.archived.is_(False))
    exact = db.session.scalars(
        select(Account).where(Account.tax_id == compact(query).upper(), *visible)).first()
    # Joined (not "IN"), newest first by the index's own row order: SQLite then reads
    # the trigram index first and stops at `limit`, instead of scanning the table.
    matches = matching_ids(Account.__table__, terms, _dialect()).subquery()
    statement = select(Account).join(matches, Account.id == matches.c.id).where(*visible)
    if exact is not None:
        statement = statement.where(Account.id != exact.id)
    rest = db.session.scalars(statement.order_by(matches.c.id.desc()).limit(limit))
    return ([exact] if exact is not None else []) + list(rest)[: limit - (exact is not None)]


def accounts_matching(query: str):
    """The atomic search as a WHERE clause, for lists paged by the caller (the JSON API):
    the account with exactly that tax id, or any whose search text has one of the terms."""
    exact = Account.tax_id == compact(query).upper()
    terms = query_terms(query)
    if not terms:
        return exact
    return exact | Account.id.in_(matching_ids(Account.__table__, terms, _dialect()))


def contacts_matching(query: str):
    """Like :func:`accounts_matching`, for contacts (no tax id: the terms only)."""
    terms = query_terms(query)
    if not terms:
        return false()
    return Contact.id.in_(matching_ids(Contact.__table__, terms, _dialect()))


def search_contacts(query: str, user, limit: int = 20) -> list[Contact]:
    terms = query_terms(query)
    if not terms:
        return []
    matches = matching_ids(Contact.__table__, terms, _dialect()).subquery()
    statement = (
        select(Contact)
        .join(matches, Contact.id == matches.c.id)
        .where(Contact.archived.is_(False), contact_scope(user))
        .order_by(matches.c.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))
