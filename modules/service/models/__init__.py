"""Service's tables, one file per entity: orders and their items (order.py), service
invoices and their installments (invoice.py), the service timeline (event.py).
Re-exported here: ``from modules.service.models import ServiceOrder``."""

from .event import (
    EV_INVOICE_CANCELLED,
    EV_INVOICE_ISSUED,
    EV_ORDER_CANCELLED,
    EV_ORDER_FINISHED,
    EV_ORDER_OPENED,
    EVENT_KINDS,
    ServiceEvent,
)
from .invoice import (
    INVOICE_CANCELLED,
    INVOICE_STATUSES,
    ISSUED,
    ServiceInvoice,
    ServiceInvoiceInstallment,
    invoice_document,
)
from .order import (
    ACTIVE,
    CANCELLED,
    DONE,
    EDITABLE,
    IN_PROGRESS,
    OPEN,
    ORDER_STATUSES,
    TRANSITIONS,
    ServiceOrder,
    ServiceOrderItem,
    order_document,
)

__all__ = [
    "ACTIVE", "CANCELLED", "DONE", "EDITABLE", "EVENT_KINDS", "EV_INVOICE_CANCELLED",
    "EV_INVOICE_ISSUED", "EV_ORDER_CANCELLED", "EV_ORDER_FINISHED", "EV_ORDER_OPENED",
    "INVOICE_CANCELLED", "INVOICE_STATUSES", "IN_PROGRESS", "ISSUED", "OPEN", "ORDER_STATUSES",
    "TRANSITIONS", "ServiceEvent", "ServiceInvoice", "ServiceInvoiceInstallment", "ServiceOrder",
    "ServiceOrderItem", "invoice_document", "order_document",
]
