"""Sales' merge handlers (issue 18): when two accounts are merged, the merged one's
quotes, orders, invoices and their timeline events go to the survivor; when two contacts
are, the quotes addressed to the merged one. Document numbers are the company's, not the
account's (unique across all accounts): no two documents can clash, so nothing refuses."""

from __future__ import annotations

from erp.i18n import module_i18n
from erp.merging import moving
from erp.registry import MERGE_ACCOUNT, MERGE_CONTACT

from .models import Invoice, Order, Quote, SalesEvent

ngettext = module_i18n(__name__).ngettext

HANDLERS = (
    moving("sales.account", MERGE_ACCOUNT,
           (Quote.account_id, lambda n: ngettext("%(num)d quote", "%(num)d quotes", n)),
           (Order.account_id, lambda n: ngettext("%(num)d order", "%(num)d orders", n)),
           (Invoice.account_id, lambda n: ngettext("%(num)d invoice", "%(num)d invoices", n)),
           (SalesEvent.account_id, lambda n: ngettext("%(num)d sales event",
                                                      "%(num)d sales events", n)),
           order=20),
    moving("sales.contact", MERGE_CONTACT,
           (Quote.contact_id, lambda n: ngettext("%(num)d quote", "%(num)d quotes", n)),
           order=20),
)
