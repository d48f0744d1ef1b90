"""Service's rules, shared by the web views, the demo and any future API or import: orders
(orders.py), service invoices (invoices.py), and what both write (common.py: numbers and
timeline events). Re-exported here: ``from modules.service import services;
services.create_order(...)``."""

from .invoices import (
    MAX_INSTALLMENTS,
    ORIGIN,
    cancel_invoice,
    clean_invoice,
    default_due_date,
    get_invoice_or_404,
    invoices_in_scope,
    issue_invoice,
)
from .orders import (
    ITEM_MESSAGES,
    MAX_DESCRIPTION,
    MAX_HOURS,
    MAX_ITEMS,
    change_status,
    clean_order,
    create_order,
    get_order_or_404,
    orders_in_scope,
    update_order,
)

__all__ = [
    "ITEM_MESSAGES", "MAX_DESCRIPTION", "MAX_HOURS", "MAX_INSTALLMENTS",
    "MAX_ITEMS", "ORIGIN", "cancel_invoice", "change_status", "clean_invoice", "clean_order",
    "create_order", "default_due_date", "get_invoice_or_404", "get_order_or_404",
    "invoices_in_scope", "issue_invoice", "orders_in_scope", "update_order",
]
