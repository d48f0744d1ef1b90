"""Finance's answers to the global search box: receivables by document."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from erp.db import db
from erp.i18n import date_filter, module_i18n, money
from erp.registry import SearchProvider, SearchResult
from erp.validation import LIKE_ESCAPE, like
from modules.crm.models import Account
from modules.crm.services.scope import account_scope

from .models import Receivable
from .permissions import READ

_l = module_i18n(__name__).lazy_gettext

MIN_QUERY = 2


def search_receivables(query: str, user, limit: int) -> list[SearchResult]:
    query = (query or "").strip()
    if len(query) < MIN_QUERY:
        return []
    rows = db.session.execute(
        select(Receivable.id, Receivable.document, Receivable.amount, Receivable.due_date,
               Account.legal_name, Account.trade_name)
        .join(Account, Account.id == Receivable.account_id)
        .where(account_scope(user), Receivable.document.ilike(like(query), escape=LIKE_ESCAPE))
        .order_by(Receivable.due_date.desc(), Receivable.id.desc()).limit(limit))
    return [SearchResult(
        title=row.document, url=url_for("finance.receivable", receivable_id=row.id),
        subtitle=" · ".join([row.trade_name or row.legal_name, money(row.amount),
                             date_filter(row.due_date)]),
        kind="receivable") for row in rows]


PROVIDER = SearchProvider("finance.receivables", _l("Receivables"), search_receivables,
                          permission=READ, order=60)
