"""Service's merge handler (issue 18): when two accounts are merged, the merged one's
service orders (with their items and hours), service invoices and timeline events go to
the survivor. Order and invoice numbers are unique across all accounts: two documents
cannot clash, so nothing refuses a merge."""

from __future__ import annotations

from erp.i18n import module_i18n
from erp.merging import moving
from erp.registry import MERGE_ACCOUNT

from .models import ServiceEvent, ServiceInvoice, ServiceOrder

ngettext = module_i18n(__name__).ngettext

HANDLERS = (
    moving("service.account", MERGE_ACCOUNT,
           (ServiceOrder.account_id, lambda n: ngettext("%(num)d service order",
                                                        "%(num)d service orders", n)),
           (ServiceInvoice.account_id, lambda n: ngettext("%(num)d service invoice",
                                                          "%(num)d service invoices", n)),
           (ServiceEvent.account_id, lambda n: ngettext("%(num)d service event",
                                                        "%(num)d service events", n)),
           order=40),
)
