"""Service's answers to the global search box: service orders and service invoices by
number ("OS 12", "OS 000012", "000012", "NFS 3") and orders by a fragment of their
description — always within the user's record scope (the account's owner)."""

from __future__ import annotations

import re

from flask import url_for
from sqlalchemy.orm import contains_eager

from erp.db import db
from erp.i18n import module_i18n, money
from erp.registry import SearchProvider, SearchResult
from erp.validation import LIKE_ESCAPE, like
from modules.crm.models import Account

from . import services
from .labels import INVOICE_STATUS_LABELS, ORDER_STATUS_LABELS
from .models import ServiceInvoice, ServiceOrder
from .permissions import READ

_l = module_i18n(__name__).lazy_gettext

MIN_QUERY = 2
# "OS 12", "os000012", "NFS-3", "nfs nº 3", "000012", "12": an optional prefix, the digits.
NUMBER_RE = re.compile(r"^(?:(OS|NFS)\s*(?:N[º°O.]?\s*)?[-.#:]?\s*)?(\d{1,9})$", re.IGNORECASE)


def parse_number(query: str) -> tuple[str | None, int] | None:
    """(prefix or None, number) if the query is a document number, else None."""
    match = NUMBER_RE.match(query.strip())
    if match is None:
        return None
    prefix = match.group(1).upper() if match.group(1) else None
    return prefix, int(match.group(2))


def _subtitle(account: Account, status: str, labels, amount) -> str:
    return " · ".join(filter(None, [account.display_name, str(labels.get(status, status)),
                                    money(amount)]))


def _order_result(order: ServiceOrder) -> SearchResult:
    return SearchResult(
        title=order.display_number, url=url_for("service.order", order_id=order.id),
        subtitle=_subtitle(order.account, order.status, ORDER_STATUS_LABELS,
                           order.total),
        kind="service_order")


def _invoice_result(invoice: ServiceInvoice) -> SearchResult:
    return SearchResult(
        title=invoice.display_number, url=url_for("service.invoice", invoice_id=invoice.id),
        subtitle=_subtitle(invoice.account, invoice.status, INVOICE_STATUS_LABELS,
                           invoice.amount),
        kind="service_invoice")


def _orders(user):
    # orders_in_scope already joins the account: load it from that join (no query per row).
    return services.orders_in_scope(user).options(contains_eager(ServiceOrder.account))


def _invoices(user):
    return services.invoices_in_scope(user).options(contains_eager(ServiceInvoice.account))


def search_documents(query: str, user, limit: int) -> list[SearchResult]:
    """At most ``limit`` results. A number is looked up on the unique ``number`` columns
    (one indexed lookup per kind); any other text in the orders' descriptions, newest first.
    """
    query = (query or "").strip()
    if limit <= 0:
        return []
    number = parse_number(query)
    if number is not None:
        prefix, value = number
        results: list[SearchResult] = []
        if prefix in (None, "OS"):
            results += [_order_result(order) for order in db.session.scalars(
                _orders(user).where(ServiceOrder.number == value))]
        if prefix in (None, "NFS"):
            results += [_invoice_result(invoice) for invoice in db.session.scalars(
                _invoices(user).where(ServiceInvoice.number == value))]
        return results[:limit]
    if len(query) < MIN_QUERY:
        return []
    orders = db.session.scalars(
        _orders(user).where(ServiceOrder.description.ilike(like(query), escape=LIKE_ESCAPE))
        .order_by(ServiceOrder.id.desc()).limit(limit))
    return [_order_result(order) for order in orders]


PROVIDER = SearchProvider("service.documents", _l("Service orders"), search_documents,
                          permission=READ, order=40)
