"""Sales' webhook events (issue 18): quotes, orders and invoices created, updated and
deleted, emitted by the host from the audit trail in the transaction of the change."""

from erp.i18n import module_i18n
from erp.webhooks import record_events

_l = module_i18n(__name__).lazy_gettext

WEBHOOK_EVENTS = (
    *record_events("sales.quote", "sales_quote",
                   (_l("Quote created"), _l("Quote updated"), _l("Quote deleted"))),
    *record_events("sales.order", "sales_order",
                   (_l("Order created"), _l("Order updated"), _l("Order deleted"))),
    *record_events("sales.invoice", "sales_invoice",
                   (_l("Invoice created"), _l("Invoice updated"), _l("Invoice deleted"))),
)
