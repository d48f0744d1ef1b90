"""Sales' search provider: quotes, orders and invoices by number in the global search."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from erp.db import db
from erp.i18n import module_i18n
from erp.registry import SearchProvider, SearchResult

from . import services
from .models import NUMBER_PREFIX, Invoice, Order, Quote
from .permissions import READ

_ = module_i18n(__name__).gettext
_l = module_i18n(__name__).lazy_gettext


def search_documents(query: str, user, limit: int) -> list[SearchResult]:
    """Quotes, orders and invoices by number ("123", "NF 000123"), in the user's scope."""
    results: list[SearchResult] = []
    prefix = "".join(ch for ch in query if ch.isalpha()).upper()
    for model, endpoint, arg, kind, own in (
            (Quote, "sales.quote", "quote_id", _("Quote"), NUMBER_PREFIX["quote"]),
            (Order, "sales.order", "order_id", _("Order"), NUMBER_PREFIX["order"]),
            (Invoice, "sales.invoice", "invoice_id", _("Invoice"), NUMBER_PREFIX["invoice"])):
        if prefix and prefix != own:
            continue  # "NF 12" looks for invoices only
        clause = services.search_number(model, query)
        if clause is None:
            return []
        for record in db.session.scalars(services.in_scope(select(model), model, user)
                                         .where(clause).limit(limit)):
            results.append(SearchResult(
                title=f"{kind} {record.display_number}",
                url=url_for(endpoint, **{arg: record.id}),
                subtitle=record.account.display_name, kind=kind))
    return results[:limit]


SEARCH = SearchProvider("sales.documents", _l("Sales documents"), search_documents,
                        permission=READ, order=30)
