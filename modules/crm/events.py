"""CRM's webhook events (issue 18): accounts, contacts and opportunities created, updated,
deleted (from the audit trail, by the host), opportunities won or lost (their status
becoming so), and accounts or contacts merged (emitted by the merge itself)."""

from erp.i18n import module_i18n
from erp.registry import WebhookEvent
from erp.webhooks import record_events

from .models.pipeline import STATUS_LOST, STATUS_WON

_l = module_i18n(__name__).lazy_gettext


def _status_becomes(status: str):
    def condition(changes: dict) -> bool:
        return (changes.get("status") or [None, None])[1] == status

    return condition


WEBHOOK_EVENTS = (
    *record_events("crm.account", "crm_account",
                   (_l("Account created"), _l("Account updated"), _l("Account deleted"))),
    WebhookEvent("crm.account.merged", _l("Accounts merged")),
    *record_events("crm.contact", "crm_contact",
                   (_l("Contact created"), _l("Contact updated"), _l("Contact deleted"))),
    WebhookEvent("crm.contact.merged", _l("Contacts merged")),
    *record_events("crm.opportunity", "crm_opportunity",
                   (_l("Opportunity created"), _l("Opportunity updated"),
                    _l("Opportunity deleted"))),
    WebhookEvent("crm.opportunity.won", _l("Opportunity won"), table="crm_opportunity",
                 action="update", when=_status_becomes(STATUS_WON)),
    WebhookEvent("crm.opportunity.lost", _l("Opportunity lost"), table="crm_opportunity",
                 action="update", when=_status_becomes(STATUS_LOST)),
)
