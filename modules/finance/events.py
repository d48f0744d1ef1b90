"""Finance's webhook events (issue 18): receivables and payments created, updated and
deleted, emitted by the host from the audit trail in the transaction of the change."""

from erp.i18n import module_i18n
from erp.webhooks import record_events

_l = module_i18n(__name__).lazy_gettext

WEBHOOK_EVENTS = (
    *record_events("finance.receivable", "finance_receivable",
                   (_l("Receivable created"), _l("Receivable updated"),
                    _l("Receivable deleted"))),
    *record_events("finance.payment", "finance_payment",
                   (_l("Payment created"), _l("Payment updated"), _l("Payment deleted"))),
)
