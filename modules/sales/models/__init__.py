"""Sales records, one file per entity: the catalog (catalog.py), quotes and their lines
(quotes.py), orders and their lines (orders.py), invoices with their installments
(invoices.py), and the events the account timeline shows (events.py); the documents'
numbers as people read them in common.py. Every document belongs to an account (plain
foreign key, no cascade: financial records are never deleted with their account).
Re-exported here: ``from modules.sales.models import Quote``."""

from .catalog import KIND_PRODUCT, KIND_SERVICE, PRODUCT_KINDS, Product
from .common import NUMBER_PREFIX, document_number
from .events import SalesEvent
from .invoices import INVOICE_CANCELLED, INVOICE_ISSUED, INVOICE_STATUSES, Installment, Invoice
from .orders import (
    ORDER_CANCELLED,
    ORDER_CONFIRMED,
    ORDER_DELIVERED,
    ORDER_STATUSES,
    Order,
    OrderLine,
)
from .quotes import (
    QUOTE_ACCEPTED,
    QUOTE_DRAFT,
    QUOTE_EXPIRED,
    QUOTE_REFUSED,
    QUOTE_SENT,
    QUOTE_STATUSES,
    QUOTE_STORED_STATUSES,
    Quote,
    QuoteLine,
)

__all__ = [
    "INVOICE_CANCELLED", "INVOICE_ISSUED", "INVOICE_STATUSES", "KIND_PRODUCT", "KIND_SERVICE",
    "NUMBER_PREFIX", "ORDER_CANCELLED", "ORDER_CONFIRMED", "ORDER_DELIVERED", "ORDER_STATUSES",
    "PRODUCT_KINDS", "QUOTE_ACCEPTED", "QUOTE_DRAFT", "QUOTE_EXPIRED", "QUOTE_REFUSED",
    "QUOTE_SENT", "QUOTE_STATUSES", "QUOTE_STORED_STATUSES", "Installment", "Invoice", "Order",
    "OrderLine", "Product", "Quote", "QuoteLine", "SalesEvent", "document_number",
]
