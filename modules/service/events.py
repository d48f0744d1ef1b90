"""Service's webhook events (issue 18): service orders created, updated and deleted,
emitted by the host from the audit trail in the transaction of the change."""

from erp.i18n import module_i18n
from erp.webhooks import record_events

_l = module_i18n(__name__).lazy_gettext

WEBHOOK_EVENTS = record_events(
    "service.order", "service_order",
    (_l("Service order created"), _l("Service order updated"), _l("Service order deleted")))
