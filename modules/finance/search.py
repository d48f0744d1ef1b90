"""Finance's answers to the global search box: receivables by document."""

from __future__ import annotations

import math

from flask import url_for
from sqlalchemy import func, select

from erp.db import db
from erp.i18n import date_filter, module_i18n, money
from erp.registry import SearchProvider, SearchResult
from erp.validation import LIKE_ESCAPE, like
from modules.crm.models import Account
from modules.crm.models.search_index import matching_ids
from modules.crm.services.scope import account_scope

from .models import Receivable
from .permissions import READ

_l = module_i18n(__name__).lazy_gettext

MIN_QUERY = 2
TRIGRAM = 3


def frequent_after(limit: int, rows: int) -> int:
    """How many matches make a fragment frequent: walking costs a page over the matches'
    share of the rows, reading the matches costs their number; equal at sqrt(page x rows)
    (the table's size: its largest id)."""
    return int(math.sqrt(limit * rows))


def document_contains(query: str, limit: int):
    """The receivables whose document contains ``query``, case aside, for a page of
    ``limit`` newest first.

    A rare fragment is looked up in the trigram index (finance 0007): its matches, then
    their rows, whatever the table's size (a scan of every document: 7 ms at 200,000
    accounts, 1 ms at 20,000). A frequent one ("NF 0", in most documents) is tested on
    each row walking the due date index, newest first, which finds a page of them at
    once: past sqrt(limit x rows) matches (as the accounts list's frequent_term). A
    fragment under three characters is no trigram: tested on each row. PostgreSQL's
    trigram index serves the ILIKE itself, and its planner weighs it against the walk by
    the trigram statistics."""
    tested = Receivable.document.ilike(like(query), escape=LIKE_ESCAPE)
    dialect = db.session.get_bind().dialect.name
    if len(query) < TRIGRAM or dialect != "sqlite":
        return tested
    matches = matching_ids(Receivable.__table__, [query], dialect, column="document")
    threshold = frequent_after(limit, db.session.scalar(select(func.max(Receivable.id))) or 0)
    found = db.session.scalar(
        select(func.count()).select_from(matches.limit(threshold + 1).subquery()))
    return tested if found > threshold else Receivable.id.in_(matches)


def search_receivables(query: str, user, limit: int) -> list[SearchResult]:
    query = (query or "").strip()
    if len(query) < MIN_QUERY:
        return []
    rows = db.session.execute(
        select(Receivable.id, Receivable.document, Receivable.amount, Receivable.due_date,
               Account.legal_name, Account.trade_name)
        .join(Account, Account.id == Receivable.account_id)
        .where(account_scope(user), document_contains(query, limit))
        .order_by(Receivable.due_date.desc(), Receivable.id.desc()).limit(limit))
    return [SearchResult(
        title=row.document, url=url_for("finance.receivable", receivable_id=row.id),
        subtitle=" · ".join([row.trade_name or row.legal_name, money(row.amount),
                             date_filter(row.due_date)]),
        kind="receivable") for row in rows]


PROVIDER = SearchProvider("finance.receivables", _l("Receivables"), search_receivables,
                          permission=READ, order=60)
