"""The sales rules: catalog, quotes, orders, invoices. Views, imports and APIs call these.

One file per entity (catalog, quotes, orders, invoices) over what they share (common:
scope, numbers, lines, timeline entries). Every change is one transaction: the service
commits, or raises :class:`InvalidInput` after writing nothing (the caller rolls back its
session). Documents belong to an account; a user reaches them only through an account of
their record scope (404 else). This package re-exports the public names of its files:
``from modules.sales import services; services.create_quote(...)``.
"""

from .catalog import (
    INLINE_PRODUCTS_MAX,
    PICK_LIMIT,
    PICK_LIMIT_MAX,
    active_products,
    clean_product,
    create_product,
    line_products,
    pick_products,
    product_search,
    update_product,
)
from .common import (
    EV_INVOICE_CANCELLED,
    EV_INVOICE_ISSUED,
    EV_ORDER_CONFIRMED,
    EV_QUOTE_ACCEPTED,
    EV_QUOTE_REFUSED,
    EV_QUOTE_SENT,
    NOTES_MAX,
    clean_lines,
    in_scope,
    next_number,
    refuse,
    search_number,
)
from .invoices import (
    MAX_INSTALLMENTS,
    cancel_invoice,
    clean_invoice,
    get_invoice_or_404,
    invoiced_this_year,
    issue_invoice,
)
from .orders import (
    cancel_order,
    create_order,
    deliver_order,
    get_order_or_404,
    last_order_date,
    uninvoiced_orders,
)
from .quotes import (
    DEFAULT_VALIDITY_DAYS,
    accept_quote,
    account_contacts,
    clean_quote,
    create_quote,
    default_validity,
    get_quote_or_404,
    quote_status_filter,
    refuse_quote,
    send_quote,
    update_quote,
)

__all__ = [
    "DEFAULT_VALIDITY_DAYS", "EV_INVOICE_CANCELLED", "EV_INVOICE_ISSUED", "EV_ORDER_CONFIRMED",
    "EV_QUOTE_ACCEPTED", "EV_QUOTE_REFUSED", "EV_QUOTE_SENT", "MAX_INSTALLMENTS", "NOTES_MAX",
    "accept_quote", "account_contacts", "active_products", "cancel_invoice", "cancel_order",
    "clean_invoice", "clean_lines", "clean_product", "clean_quote", "create_order",
    "create_product", "create_quote", "default_validity", "deliver_order",
    "get_invoice_or_404", "get_order_or_404", "get_quote_or_404", "in_scope",
    "invoiced_this_year", "issue_invoice", "last_order_date", "next_number",
    "quote_status_filter", "refuse", "refuse_quote", "search_number", "send_quote",
    "uninvoiced_orders", "update_product", "update_quote",
    "INLINE_PRODUCTS_MAX", "PICK_LIMIT", "PICK_LIMIT_MAX", "line_products", "pick_products",
    "product_search",
]
